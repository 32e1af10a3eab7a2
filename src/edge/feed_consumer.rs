//! The consumer of the `FEED` queue (see [`crate::feed::queue`]): records events in the log and
//! fans them out, delivers them signed, and pages replays. Every message is acked or retried
//! and the handler never fails (a failing handler re-initialises the isolate).
//!
//! A delivery is a POST of the CloudEvents envelope in structured mode (`content-type:
//! application/cloudevents+json`, CloudEvents HTTP binding §3.2) with the Standard Webhooks
//! headers. Endpoints are served concurrently, and so are an endpoint's deliveries (up to
//! [`POSTS_IN_FLIGHT`]); each delivery has its own retry schedule. Outcomes go to the `Feeds`
//! object in one call per endpoint and batch.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use futures_util::stream::{self, StreamExt};
use worker::{Date, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, RawMessage};

use crate::error::Error;
use crate::feed::circuit::Plan;
use crate::feed::endpoints::{DeliveryResult, Endpoint, FeedsAnswer, FeedsRequest, Reported};
use crate::feed::events::FeedEvent;
use crate::feed::log::{month_of, months_between, LogAnswer, LogRequest, LogRow, PAGE_ROWS};
use crate::feed::queue::{Delivery, FeedMessage, ReplayPage};
use crate::feed::retry::{fate, verdict, Fate, Verdict};
use crate::feed::signature::{signature_header, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use crate::log::{EventLog, Level};

use super::courier_object::{Outgoing, Posted, COURIERS};
use super::{env, feed_queue, objects};

/// The `Feeds` object's binding and name, and the logs' binding.
pub const FEEDS: &str = "FEEDS";
pub const FEEDS_NAME: &str = "feeds";
pub const FEED_LOG: &str = "FEED_LOG";
/// When a record or replay message that failed (storage unreachable) is tried again.
const STEP_RETRY_SECS: u32 = 30;
/// How many deliveries to one endpoint are in flight at once: a whole batch (`max_batch_size`
/// in `wrangler.toml`), so a batch takes one deadline at most, however slow the receiver.
const POSTS_IN_FLIGHT: usize = 50;

/// Handles one batch of the feed's queue.
pub async fn consume(batch: MessageBatch<FeedMessage>, env: Env) {
    let mut records = Vec::new();
    let mut deliveries = Vec::new();
    let mut replays = Vec::new();
    for raw in batch.raw_iter() {
        match decode(&raw) {
            Some(FeedMessage::Record { event }) => records.push((raw, event)),
            Some(FeedMessage::Deliver(d)) => deliveries.push((raw, d)),
            Some(FeedMessage::Replay(page)) => replays.push((raw, page)),
            None => {
                log(Level::Error, "feed message unreadable; dropped", None);
                raw.ack();
            }
        }
    }
    // Records fan out to the active endpoints and deliveries go to them: one look-up serves both.
    let endpoints = if records.is_empty() && deliveries.is_empty() {
        Ok(Vec::new())
    } else {
        active_endpoints(&env).await
    };
    if !records.is_empty() {
        let events: Vec<FeedEvent> = records.iter().map(|(_, e)| e.clone()).collect();
        let outcome = match &endpoints {
            Ok(endpoints) => record(&env, &events, endpoints).await,
            Err(e) => Err(e.clone()),
        };
        settle_steps(records.iter().map(|(raw, _)| raw), outcome, "record");
    }
    for (raw, page) in replays {
        let outcome = replay_page(&env, &page).await;
        settle_steps(std::iter::once(&raw), outcome, "replay");
    }
    if !deliveries.is_empty() {
        match endpoints {
            Ok(endpoints) => deliver_all(&env, &endpoints, deliveries).await,
            Err(e) => settle_steps(deliveries.iter().map(|(raw, _)| raw), Err(e), "deliver"),
        }
    }
}

fn decode(raw: &RawMessage) -> Option<FeedMessage> {
    let text = js_sys::JSON::stringify(&raw.body()).ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

fn log(level: Level, msg: &'static str, detail: Option<String>) {
    let line = EventLog {
        level,
        msg,
        request_id: "-",
        detail,
    }
    .to_line();
    match level {
        Level::Error => worker::console_error!("{line}"),
        _ => worker::console_log!("{line}"),
    }
}

/// Acks the messages of a step that worked; retries those of one that failed.
fn settle_steps<'a>(
    raws: impl Iterator<Item = &'a RawMessage>,
    outcome: Result<(), Error>,
    step: &str,
) {
    match outcome {
        Ok(()) => raws.for_each(MessageExt::ack),
        Err(e) => {
            log(
                Level::Error,
                "feed step failed; retried",
                Some(format!("{step}: {}", e.log_detail().unwrap_or_default())),
            );
            let options = QueueRetryOptionsBuilder::new()
                .with_delay_seconds(STEP_RETRY_SECS)
                .build();
            raws.for_each(|raw| raw.retry_with_options(&options));
        }
    }
}

async fn log_call(env: &Env, month: &str, request: &LogRequest) -> Result<LogAnswer, Error> {
    objects::call(env, FEED_LOG, month, request).await
}

async fn feeds_call(env: &Env, request: &FeedsRequest) -> Result<FeedsAnswer, Error> {
    objects::call(env, FEEDS, FEEDS_NAME, request).await
}

/// The endpoints that receive deliveries.
async fn active_endpoints(env: &Env) -> Result<Vec<Endpoint>, Error> {
    match feeds_call(env, &FeedsRequest::Active).await? {
        FeedsAnswer::Endpoints { endpoints } => Ok(endpoints),
        other => Err(Error::internal(format!("Feeds answered {other:?}"))),
    }
}

/// Queues one first delivery of each event to `endpoint`, counted into its backlog first.
pub async fn fan_out(env: &Env, endpoint: &str, events: &[(String, u64)]) -> Result<(), Error> {
    if events.is_empty() {
        return Ok(());
    }
    feeds_call(
        env,
        &FeedsRequest::Pending {
            endpoint: endpoint.to_owned(),
            events: events.to_vec(),
        },
    )
    .await?;
    let messages = events
        .iter()
        .map(|(event_id, time_ms)| {
            FeedMessage::Deliver(Delivery {
                endpoint: endpoint.to_owned(),
                event_id: event_id.clone(),
                time_ms: *time_ms,
                attempts: 0,
            })
        })
        .collect();
    feed_queue::enqueue(env, messages).await
}

/// Keeps the events in their months' logs, scrubs after an erasure, then fans them out.
async fn record(env: &Env, events: &[FeedEvent], endpoints: &[Endpoint]) -> Result<(), Error> {
    let config = env::config(env);
    let source = config
        .public_base_url
        .require("PUBLIC_BASE_URL")?
        .to_owned();
    let mut months: BTreeMap<String, Vec<LogRow>> = BTreeMap::new();
    for event in events {
        months
            .entry(month_of(event.time_ms))
            .or_default()
            .push(LogRow::of(event, &source));
    }
    for (month, rows) in months {
        log_call(env, &month, &LogRequest::Append { rows }).await?;
    }
    for event in events {
        let (Some(from), Some(member)) = (event.scrub_from_ms, event.member_number()) else {
            continue;
        };
        let mut scrubbed = 0;
        for month in months_between(from, event.time_ms.saturating_add(1)) {
            let answer = log_call(
                env,
                &month,
                &LogRequest::Scrub {
                    member: member.to_owned(),
                },
            )
            .await?;
            scrubbed += answer.changed;
        }
        // Counts only: the member number is itself personal data.
        log(
            Level::Info,
            "feed log scrubbed after an erasure",
            Some(format!("{scrubbed} event(s)")),
        );
    }
    let refs: Vec<(String, u64)> = events.iter().map(|e| (e.id.clone(), e.time_ms)).collect();
    for endpoint in endpoints {
        fan_out(env, &endpoint.id, &refs).await?;
    }
    Ok(())
}

/// One page of a replay: its deliveries, then the next page.
async fn replay_page(env: &Env, page: &ReplayPage) -> Result<(), Error> {
    for month in months_between(page.from_ms, page.to_ms) {
        if page
            .after
            .as_ref()
            .is_some_and(|c| month_of(c.time_ms) > month)
        {
            continue;
        }
        let answer = log_call(
            env,
            &month,
            &LogRequest::Page {
                from_ms: page.from_ms,
                to_ms: page.to_ms,
                types: page.types.clone(),
                after: page.after.clone(),
                limit: PAGE_ROWS,
            },
        )
        .await?;
        let Some(last) = answer.rows.last() else {
            continue;
        };
        let next = ReplayPage {
            after: Some(crate::feed::log::Cursor {
                time_ms: last.time_ms,
                id: last.id.clone(),
            }),
            ..page.clone()
        };
        let refs: Vec<(String, u64)> = answer
            .rows
            .iter()
            .map(|r| (r.id.clone(), r.time_ms))
            .collect();
        fan_out(env, &page.endpoint, &refs).await?;
        return feed_queue::enqueue(env, vec![FeedMessage::Replay(next)]).await;
    }
    Ok(())
}

/// Delivers a batch's deliveries: the endpoints concurrently, so that a slow or failing
/// receiver never delays another.
async fn deliver_all(env: &Env, endpoints: &[Endpoint], deliveries: Vec<(RawMessage, Delivery)>) {
    let mut by_endpoint: BTreeMap<String, Vec<(RawMessage, Delivery)>> = BTreeMap::new();
    for (raw, d) in deliveries {
        by_endpoint
            .entry(d.endpoint.clone())
            .or_default()
            .push((raw, d));
    }
    let mut work = Vec::new();
    for (id, mut group) in by_endpoint {
        let Some(endpoint) = endpoints.iter().find(|e| e.id == id) else {
            // Deleted or disabled: nothing more goes there.
            group.iter().for_each(|(raw, _)| raw.ack());
            continue;
        };
        group.sort_by(|a, b| (a.1.time_ms, &a.1.event_id).cmp(&(b.1.time_ms, &b.1.event_id)));
        work.push(deliver_group(env, endpoint, group));
    }
    for outcome in join_all(work).await {
        if let Err(e) = outcome {
            log(Level::Error, "feed delivery step failed", e.log_detail());
        }
    }
}

/// The bodies of the events, read from their months' logs.
async fn bodies(
    env: &Env,
    group: &[(RawMessage, Delivery)],
) -> Result<BTreeMap<String, String>, Error> {
    let mut months: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, d) in group {
        months
            .entry(month_of(d.time_ms))
            .or_default()
            .push(d.event_id.clone());
    }
    let mut found = BTreeMap::new();
    for (month, ids) in months {
        let answer = log_call(env, &month, &LogRequest::Get { ids }).await?;
        found.extend(answer.rows.into_iter().map(|r| (r.id, r.body)));
    }
    Ok(found)
}

/// An attempt's answer: the status, or none and why.
type Answer = (Option<u16>, String);

/// Sends `items` (index, delivery, body) concurrently, at most [`POSTS_IN_FLIGHT`] at a time.
async fn post_each(
    env: &Env,
    endpoint: &Endpoint,
    items: Vec<(usize, &Delivery, &str)>,
    timeout_ms: u64,
) -> Vec<(usize, Answer)> {
    stream::iter(items)
        .map(|(i, d, body)| async move { (i, post(env, endpoint, d, body, timeout_ms).await) })
        .buffer_unordered(POSTS_IN_FLIGHT)
        .collect()
        .await
}

/// One endpoint's share of a batch: each delivery tried (or held back while the receiver is
/// down, see [`crate::feed::circuit`]), then each acked, retried on its own schedule or dead.
async fn deliver_group(
    env: &Env,
    endpoint: &Endpoint,
    group: Vec<(RawMessage, Delivery)>,
) -> Result<(), Error> {
    let bodies = match bodies(env, &group).await {
        Ok(b) => b,
        Err(e) => {
            // Logged there; the group waits for the queue's retry.
            settle_steps(group.iter().map(|(raw, _)| raw), Err(e), "deliver");
            return Ok(());
        }
    };
    let config = env::config(env);
    let mut answers: Vec<Option<Answer>> = vec![None; group.len()];
    let mut results = Vec::new();
    let mut sendable = Vec::new();
    for (i, (raw, d)) in group.iter().enumerate() {
        match bodies.get(&d.event_id) {
            Some(body) => sendable.push((i, d, body.as_str())),
            None => {
                log(
                    Level::Error,
                    "feed event missing from the log; delivery dropped",
                    Some(d.event_id.clone()),
                );
                results.push(reported(
                    d,
                    d.attempts,
                    true,
                    DeliveryResult::Dead {
                        reason: "event missing from the log".into(),
                    },
                ));
                raw.ack();
            }
        }
    }
    let mut unsent = Vec::new();
    let mut to_send = sendable;
    if endpoint.circuit.plan(Date::now().as_millis()) == Plan::Probe && !to_send.is_empty() {
        let rest = to_send.split_off(1);
        let probe = post_each(env, endpoint, to_send, config.feed_timeout_ms).await;
        let up = probe
            .iter()
            .any(|(_, (status, _))| verdict(*status) == Verdict::Delivered);
        for (i, answer) in probe {
            answers[i] = Some(answer);
        }
        if up {
            to_send = rest;
        } else {
            unsent = rest.iter().map(|(i, _, _)| *i).collect();
            to_send = Vec::new();
        }
    }
    for (i, answer) in post_each(env, endpoint, to_send, config.feed_timeout_ms).await {
        answers[i] = Some(answer);
    }
    let since = endpoint
        .circuit
        .failing_since_ms
        .map(crate::time::format_rfc3339)
        .unwrap_or_default();
    for i in unsent {
        answers[i] = Some((None, format!("not sent: receiver down since {since}")));
    }
    let gone = answers
        .iter()
        .flatten()
        .any(|(status, _)| verdict(*status) == Verdict::Disable);
    let mut retries = Vec::new();
    for ((raw, d), answer) in group.iter().zip(answers) {
        let Some((status, reason)) = answer else {
            continue; // missing from the log: settled above
        };
        let sent = !reason.starts_with("not sent");
        let result = match fate(status, reason, d.attempts, &config.feed_retry_delays) {
            Fate::Delivered => reported(d, d.attempts, sent, DeliveryResult::Delivered),
            Fate::Gone => reported(d, d.attempts, sent, DeliveryResult::Gone),
            Fate::Dead { attempts, reason } => {
                reported(d, attempts, sent, DeliveryResult::Dead { reason })
            }
            Fate::Retry {
                attempts,
                delay_secs,
                reason,
            } => {
                if !gone {
                    retries.push((
                        raw,
                        Delivery {
                            attempts,
                            ..d.clone()
                        },
                        delay_secs,
                    ));
                    results.push(reported(
                        d,
                        d.attempts,
                        sent,
                        DeliveryResult::Failed { reason },
                    ));
                    // Acked once its retry is queued.
                    continue;
                }
                reported(d, d.attempts, sent, DeliveryResult::Failed { reason })
            }
        };
        results.push(result);
        raw.ack();
    }
    // A retry is a new message (attempts + 1) with its own delay; the original is acked once
    // it is queued. If it cannot be, the queue retries the original after the same delay.
    let messages = retries
        .iter()
        .map(|(_, d, delay)| (FeedMessage::Deliver(d.clone()), Some(*delay)))
        .collect();
    match feed_queue::send(env, messages).await {
        Ok(()) => retries.iter().for_each(|(raw, _, _)| raw.ack()),
        Err(e) => {
            log(
                Level::Error,
                "feed retries could not be queued; the queue retries the originals",
                e.log_detail(),
            );
            for (raw, _, delay) in &retries {
                let options = QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(*delay)
                    .build();
                raw.retry_with_options(&options);
            }
        }
    }
    feeds_call(
        env,
        &FeedsRequest::Report {
            endpoint: endpoint.id.clone(),
            results,
            at_ms: Date::now().as_millis(),
        },
    )
    .await?;
    Ok(())
}

fn reported(d: &Delivery, attempts: u32, sent: bool, result: DeliveryResult) -> Reported {
    Reported {
        event_id: d.event_id.clone(),
        time_ms: d.time_ms,
        attempts,
        sent,
        result,
    }
}

/// POSTs one delivery through the endpoint's `Courier` object; the status, or `None` and why
/// when there was no answer in time.
async fn post(
    env: &Env,
    endpoint: &Endpoint,
    d: &Delivery,
    body: &str,
    timeout_ms: u64,
) -> (Option<u16>, String) {
    let now_ms = Date::now().as_millis();
    let timestamp = now_ms / 1000;
    let secrets = endpoint.signing(now_ms);
    let signature = signature_header(&secrets, &d.event_id, timestamp, body.as_bytes());
    let outgoing = Outgoing {
        url: endpoint.url.clone(),
        headers: vec![
            (
                "content-type".into(),
                "application/cloudevents+json; charset=utf-8".into(),
            ),
            ("user-agent".into(), "optin-edge-feed/1".into()),
            (HEADER_ID.into(), d.event_id.clone()),
            (HEADER_TIMESTAMP.into(), timestamp.to_string()),
            (HEADER_SIGNATURE.into(), signature),
        ],
        body: body.to_owned(),
        timeout_ms,
    };
    match objects::call::<Posted>(env, COURIERS, &endpoint.id, &outgoing).await {
        Ok(posted) => (posted.status, posted.reason),
        Err(e) => (
            None,
            format!("courier: {}", e.log_detail().unwrap_or_default()),
        ),
    }
}
