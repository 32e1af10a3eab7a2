//! The daily retention job (`#[event(scheduled)]`, cron in `wrangler.toml`): deletes consent
//! evidence past `RETENTION_DAYS` after the consent ended ([`optin_core::evidence::retention`]), and
//! the feed log's copies of events older than that (so no copy outlives the evidence), and
//! logs what it did, in counts. It reads key listings only (each entry's metadata holds its
//! action, time and member), and stops at a budget of KV operations below the per-invocation
//! limit, saving its place: the next run resumes there, inside a subject if need be.

use std::collections::BTreeMap;

use worker::Env;

use crate::edge::runtime::env;
use crate::edge::runtime::kv::{self, get_json, list_keys, put_json, Kv};
use crate::edge::runtime::objects;
use optin_core::consent::ledger::EventMeta;
use optin_core::error::Error;
use optin_core::evidence::retention::{
    cutoff_ms, erasure_of, expired, subject_of, Entry, Report, DAY_MS,
};
use optin_core::feed::log::{months_between, LogAnswer, LogRequest};
use optin_core::time::format_rfc3339;

/// Where an unfinished run stopped (a KV list cursor).
const CURSOR_KEY: &str = "retention-cursor";
/// KV operations one run may use, of the invocation's [`kv::BUDGET`]: list pages and deletions.
/// A subject whose deletions do not fit is settled in parts, its oldest entries first, over as
/// many runs as it takes: no subject can stall the job.
const BUDGET: usize = 800;

#[derive(serde::Serialize, serde::Deserialize)]
struct Resume {
    cursor: String,
}

/// Runs the job at `now_ms`.
pub async fn run(env: &Env, now_ms: u64) -> Result<Report, Error> {
    let config = env::config(env);
    let kv = kv::namespace(env)?;
    let cutoff = cutoff_ms(now_ms, config.retention_days);
    let mut report = Report {
        retention_days: config.retention_days,
        cutoff: format_rfc3339(cutoff),
        ..Report::default()
    };
    report.feed_log_rows_deleted = purge_feed_log(env, cutoff).await?;
    let erasures = list_keys(&kv, "erasure:").await?;
    let erased_at: BTreeMap<_, _> = erasures
        .iter()
        .filter_map(|k| erasure_of(&k.name))
        .collect();

    let mut cursor = get_json::<Resume>(&kv, CURSOR_KEY)
        .await?
        .map(|r| r.cursor)
        .filter(|c| !c.is_empty());
    let mut group: Vec<Entry> = Vec::new();
    let mut group_subject = String::new();
    // The cursor of the page the current group began on: a stop re-lists it.
    let mut group_cursor = cursor.clone();
    loop {
        if ops(&kv) >= BUDGET {
            let resume = Resume {
                cursor: group_cursor.unwrap_or_default(),
            };
            put_json(&kv, CURSOR_KEY, &resume).await?;
            return Ok(report);
        }
        let page_cursor = cursor.clone();
        let page = kv
            .list("consent:", cursor.take(), kv::LIST_PAGE_MAX)
            .await?;
        for key in page.keys {
            let Some(subject) = subject_of(&key.name) else {
                continue;
            };
            if subject != group_subject {
                let done = settle(&kv, &group, &erased_at, cutoff, left(&kv), &mut report).await?;
                if !done {
                    // The budget ended inside this subject, after deleting its oldest expired
                    // entries: the next run re-lists its page and goes on from there.
                    let resume = Resume {
                        cursor: group_cursor.unwrap_or_default(),
                    };
                    put_json(&kv, CURSOR_KEY, &resume).await?;
                    return Ok(report);
                }
                group.clear();
                group_subject = subject.to_owned();
                group_cursor.clone_from(&page_cursor);
            }
            // An entry without readable metadata is never judged, so never deleted.
            if let Some(meta) = key
                .metadata
                .and_then(|m| serde_json::from_value::<EventMeta>(m).ok())
            {
                report.entries_seen += 1;
                group.push(Entry {
                    key: key.name,
                    action: meta.action,
                    occurred_at_ms: meta.occurred_at_ms,
                    member: meta.member,
                });
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => {
                let done = settle(&kv, &group, &erased_at, cutoff, left(&kv), &mut report).await?;
                if !done {
                    let resume = Resume {
                        cursor: group_cursor.unwrap_or_default(),
                    };
                    put_json(&kv, CURSOR_KEY, &resume).await?;
                    return Ok(report);
                }
                kv.delete(CURSOR_KEY).await?;
                report.complete = true;
                return Ok(report);
            }
        }
    }
}

/// How far back the feed log's months are purged each day: the job runs daily, so older months
/// were emptied by earlier runs.
const FEED_LOG_LOOKBACK_MS: u64 = 400 * DAY_MS;

/// Deletes the feed log's rows of events before `cutoff` (the ledger's cut-off), month by
/// month; returns how many went.
async fn purge_feed_log(env: &Env, cutoff: u64) -> Result<u64, Error> {
    let mut deleted = 0;
    for month in months_between(cutoff.saturating_sub(FEED_LOG_LOOKBACK_MS), cutoff + 1) {
        let answer: LogAnswer = objects::call(
            env,
            crate::edge::feed::consumer::FEED_LOG,
            &month,
            &LogRequest::Purge { before_ms: cutoff },
        )
        .await?;
        deleted += answer.changed;
    }
    Ok(deleted)
}

/// Operations the run has made.
fn ops(kv: &Kv) -> usize {
    kv.used() as usize
}

/// The deletions a run may still make, keeping one for the cursor.
fn left(kv: &Kv) -> usize {
    BUDGET.saturating_sub(ops(kv) + 1)
}

/// Deletes one subject's expired entries, oldest first, at most `max` of them; returns whether
/// every expired entry went. Stopping inside a subject is safe:
/// its entries list in time order, and whatever expired stays expired.
async fn settle(
    kv: &Kv,
    group: &[Entry],
    erased_at: &BTreeMap<optin_core::ids::MemberNumber, u64>,
    cutoff: u64,
    max: usize,
    report: &mut Report,
) -> Result<bool, Error> {
    if group.is_empty() {
        return Ok(true);
    }
    // Oldest first (see `expired`): a subject cut short stays consistent.
    let doomed = expired(group, erased_at, cutoff);
    let now = &doomed[..doomed.len().min(max)];
    for key in now {
        kv.delete(key).await?;
    }
    let done = now.len() == doomed.len();
    if done {
        report.subjects_seen += 1;
    }
    if !now.is_empty() {
        if done {
            report.subjects_with_deletions += 1;
        }
        report.entries_deleted += now.len();
    }
    Ok(done)
}
