//! The consumer of the `FEED` queue (see [`optin_core::feed::queue`]): records events in the log and
//! fans them out, delivers them signed, and pages replays. Every message is acked or retried
//! and the handler never fails (a failing handler re-initialises the isolate).
//!
//! A delivery is a POST of the CloudEvents envelope in structured mode (`content-type:
//! application/cloudevents+json`, CloudEvents HTTP binding §3.2) with the Standard Webhooks
//! headers, made by the endpoint's `Courier` object: the consumer hands each endpoint its share
//! of a batch and moves on, and the courier sends, retries each delivery on its own schedule and
//! reports to the `Feeds` object.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, RawMessage};

use optin_core::conversation::Step;
use optin_core::error::Error;
use optin_core::feed::endpoints::{Endpoint, FeedsAnswer, FeedsRequest};
use optin_core::feed::events::FeedEvent;
use optin_core::feed::log::{month_of, months_between, LogAnswer, LogRequest, LogRow};
use optin_core::feed::queue::{Delivery, FeedMessage, ReplayPage};
use optin_core::feed::replay;
use optin_core::log::{EventLog, Level};

use crate::edge::feed::courier_object::{CourierRequest, COURIERS};
use crate::edge::feed::queue;
use crate::edge::runtime::env;
use crate::edge::runtime::objects;

/// The `Feeds` object's binding and name, and the logs' binding.
pub const FEEDS: &str = "FEEDS";
pub const FEEDS_NAME: &str = "feeds";
pub const FEED_LOG: &str = "FEED_LOG";
/// When a record or replay message that failed (storage unreachable) is tried again.
const STEP_RETRY_SECS: u32 = 30;

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

/// One log line of the feed's background work (no request id).
pub(super) fn log(level: Level, msg: &'static str, detail: Option<String>) {
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
    queue::enqueue(env, messages).await
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

/// One step of a replay ([`replay::step`]): the months' logs it asks, its deliveries, then
/// the next page, queued.
async fn replay_page(env: &Env, page: &ReplayPage) -> Result<(), Error> {
    let mut step = replay::step(page);
    let mut answer = None;
    let done = loop {
        match step.step(answer.take()) {
            Step::Ask((month, request)) => answer = Some(log_call(env, &month, &request).await?),
            Step::Done(done) => break done,
        }
    };
    fan_out(env, &page.endpoint, &done.deliver).await?;
    match done.next {
        Some(next) => queue::enqueue(env, vec![FeedMessage::Replay(next)]).await,
        None => Ok(()),
    }
}

/// Hands a batch's deliveries to their endpoints' couriers, which keep, send and retry them
/// (see [`optin_core::feed::delivery`]): the batch never waits on a receiver.
async fn deliver_all(env: &Env, endpoints: &[Endpoint], deliveries: Vec<(RawMessage, Delivery)>) {
    let mut by_endpoint: BTreeMap<String, Vec<(RawMessage, Delivery)>> = BTreeMap::new();
    for (raw, d) in deliveries {
        by_endpoint
            .entry(d.endpoint.clone())
            .or_default()
            .push((raw, d));
    }
    let mut handed = Vec::new();
    for (id, group) in by_endpoint {
        if !endpoints.iter().any(|e| e.id == id) {
            // Deleted or disabled: nothing more goes there.
            group.iter().for_each(|(raw, _)| raw.ack());
            continue;
        }
        handed.push(async move {
            let request = CourierRequest::Take {
                endpoint: id.clone(),
                deliveries: group.iter().map(|(_, d)| d.clone()).collect(),
            };
            let outcome = objects::call::<usize>(env, COURIERS, &id, &request).await;
            settle_steps(
                group.iter().map(|(raw, _)| raw),
                outcome.map(drop),
                "hand over",
            );
        });
    }
    join_all(handed).await;
}
