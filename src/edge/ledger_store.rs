//! The consent ledger in Workers KV, under the key scheme of [`optin_core::consent::ledger`]: the evidence,
//! one immutable key per event. Reads and writes only; what a change means for the member is
//! decided by the member's Durable Object (see [`crate::edge::members`]).

use crate::edge::runtime::kv::{get_json, list_keys, put_json, Kv};
use optin_core::consent::ledger::{self, EventMeta, ACTIVE_NOTICE_KEY};
use optin_core::consent::{Action, ConsentEvent};
use optin_core::error::Error;
use optin_core::evidence::page::{self, Listed, Only, Position};
use optin_core::ids::MemberNumber;

/// The version of the consent notice new consents refer to, if one is active.
pub async fn active_notice_version(kv: &Kv) -> Result<Option<String>, Error> {
    #[derive(serde::Deserialize)]
    struct Active {
        version: String,
    }
    Ok(get_json::<Active>(kv, ACTIVE_NOTICE_KEY)
        .await?
        .map(|a| a.version))
}

/// Writes an event under its key in the history of the event's subject and of each of `also`
/// (the other ids of the same person: one person, one history under each id), with the metadata
/// a listing reads. The same platform event always has the same keys: for an event the member's
/// object had already applied (a redelivery), an entry is written only when it is missing (an
/// earlier attempt failed between the two steps), so the first recording time stands.
pub async fn write(
    kv: &Kv,
    pseudonym_key: &[u8],
    event: &ConsentEvent,
    also: &[String],
    already_applied: bool,
) -> Result<(), Error> {
    let own = ledger::subject_pseudonym(pseudonym_key, &event.subject);
    let mut subjects = vec![own];
    for p in also {
        if !subjects.contains(p) {
            subjects.push(p.clone());
        }
    }
    for subject in subjects {
        let key = ledger::event_key(&subject, event.occurred_at_ms, &event.event_id);
        if already_applied && kv.get_text(&key).await?.is_some() {
            continue;
        }
        put_event(kv, &key, event).await?;
    }
    Ok(())
}

async fn put_event(kv: &Kv, key: &str, event: &ConsentEvent) -> Result<(), Error> {
    let meta = EventMeta {
        action: event.action,
        occurred_at_ms: event.occurred_at_ms,
        member: event.member_number,
    };
    let text = serde_json::to_string(event).map_err(Error::internal)?;
    kv.put_text(key, text, Some(&meta)).await
}

/// How many values a page reads at once.
const READS_IN_FLIGHT: usize = 50;

/// The listed entries of each subject's ids (`subjects[i]`: the pseudonyms of subject `i`):
/// one KV operation per 1,000 entries, no value read.
pub async fn listing(kv: &Kv, subjects: &[Vec<String>]) -> Result<Vec<Listed>, Error> {
    let lists = subjects.iter().enumerate().flat_map(|(i, pseudonyms)| {
        pseudonyms.iter().map(move |p| async move {
            let keys = list_keys(kv, &ledger::event_prefix(p)).await?;
            Ok::<_, Error>(
                keys.into_iter()
                    .filter_map(|k| {
                        let meta = k
                            .metadata
                            .and_then(|m| serde_json::from_value::<EventMeta>(m).ok());
                        page::listed(i, &k.name, meta)
                    })
                    .collect::<Vec<_>>(),
            )
        })
    });
    let mut out = Vec::new();
    for list in futures_util::future::join_all(lists).await {
        out.extend(list?);
    }
    Ok(out)
}

/// The events of `entries` (a [`page::select`]ion), read concurrently, each with its
/// subject's index, in the selection's order: those gone meanwhile, of another `member`, or
/// (for [`Only::Grants`]) withdrawals are left out.
pub async fn read(
    kv: &Kv,
    entries: &[Listed],
    member: Option<MemberNumber>,
    only: Only,
) -> Result<Vec<(usize, ConsentEvent)>, Error> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let events: Vec<Option<ConsentEvent>> = stream::iter(entries)
        .map(|l| get_json::<ConsentEvent>(kv, &l.key))
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(entries
        .iter()
        .zip(events)
        .filter_map(|(l, e)| Some((l.subject, e?)))
        .filter(|(_, e)| member.is_none() || e.member_number == member)
        .filter(|(_, e)| only == Only::Everything || e.action == Action::Granted)
        .collect())
}

/// A page of the history of `subjects` (see [`listing`]): at most `limit` of the newest
/// entries before `before`, and where the next older page starts.
pub async fn page(
    kv: &Kv,
    subjects: &[Vec<String>],
    member: Option<MemberNumber>,
    only: Only,
    before: Option<&Position>,
    limit: usize,
) -> Result<(Vec<(usize, ConsentEvent)>, Option<Position>), Error> {
    let listed = listing(kv, subjects).await?;
    let chosen = page::select(listed, member, only, before, limit);
    let events = read(kv, &chosen.entries, member, only).await?;
    Ok((events, chosen.older))
}

/// What one step of an erasure's redaction did.
pub struct Redacted {
    pub rewritten: u64,
    /// Where the next step starts; `None` when the subject's history is done.
    pub cursor: Option<String>,
}

/// One step of erasure of `member` for the subject `pseudonym`: of the next `limit` entries
/// from `cursor`, the member's are rewritten without the channel user id (the evidence stays,
/// pseudonymous); a later member's (the person came back meanwhile) stay as they are. Costs at
/// most `1 + 2 × limit` KV operations; an entry already rewritten costs its read only.
pub async fn redact_step(
    kv: &Kv,
    pseudonym: &str,
    cursor: Option<String>,
    limit: u32,
    member: MemberNumber,
    erased_at_ms: u64,
) -> Result<Redacted, Error> {
    use futures_util::stream::{self, StreamExt, TryStreamExt};
    let listed = kv
        .list(&ledger::event_prefix(pseudonym), cursor, limit)
        .await?;
    let rewritten: Vec<bool> = stream::iter(&listed.keys)
        .map(|key| async move {
            let Some(mut event) = get_json::<ConsentEvent>(kv, &key.name).await? else {
                return Ok(false);
            };
            if event.subject.user_id.is_empty() || event.member_number.is_some_and(|m| m != member)
            {
                return Ok(false);
            }
            event.subject.user_id.clear();
            event.erased_at_ms = Some(erased_at_ms);
            put_event(kv, &key.name, &event).await?;
            Ok::<_, Error>(true)
        })
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(Redacted {
        rewritten: rewritten.iter().filter(|r| **r).count() as u64,
        cursor: listed.cursor,
    })
}

/// Marks a one-time action (an Instagram comment's private reply) as done; `false` when it
/// already was.
pub async fn claim_once(kv: &Kv, key: &str, now_ms: u64) -> Result<bool, Error> {
    if kv.get_text(key).await?.is_some() {
        return Ok(false);
    }
    put_json(kv, key, &serde_json::json!({ "at_ms": now_ms })).await?;
    Ok(true)
}
