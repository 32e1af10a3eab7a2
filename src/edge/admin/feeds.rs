//! The admin API of the events feed (bearer `ADMIN_TOKEN`): endpoints (add with the secret
//! shown once, list with delivery status, rotate, delete), dead letters, replays, and the
//! NDJSON export of the log.

use futures_util::stream;
use serde::Deserialize;
use serde_json::json;
use worker::Date;

use crate::edge::admin::require_admin;
use crate::edge::feed::consumer::{fan_out, FEEDS, FEEDS_NAME, FEED_LOG};
use crate::edge::feed::queue::enqueue;
use crate::edge::runtime::body;
use crate::edge::runtime::env;
use crate::edge::runtime::objects;
use crate::edge::runtime::random;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::error::Error;
use optin_core::feed::endpoints::{parse_url, Endpoint, FeedsAnswer, FeedsRequest};
use optin_core::feed::log::{Cursor, LogAnswer, LogRequest, Range, PAGE_ROWS};
use optin_core::feed::queue::{FeedMessage, ReplayPage};
use optin_core::feed::signature::{FeedSecret, SECRET_BYTES};
use optin_core::time::format_rfc3339;

/// Dead letters taken out for a replay per request (the answer says how many remain).
const REPLAY_DEAD_MAX: u32 = 1000;

async fn feeds(call: &Call<'_>, request: &FeedsRequest) -> Result<FeedsAnswer, Error> {
    objects::call(call.env, FEEDS, FEEDS_NAME, request).await
}

fn unknown_feed() -> Error {
    Error::Unknown {
        code: "unknown_feed",
        message: "no feed endpoint has this id".into(),
    }
}

/// Endpoint ids: `fe_` and 16 lower-case base32 characters (80 random bits).
fn check_feed_id(id: &str) -> Result<&str, Error> {
    let body = id.strip_prefix("fe_").unwrap_or_default();
    if body.len() == 16 && body.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7')) {
        Ok(id)
    } else {
        Err(unknown_feed())
    }
}

fn new_feed_id() -> Result<String, Error> {
    let bytes = random::bytes::<10>()?;
    Ok(format!("fe_{}", optin_core::encoding::base32_lower(&bytes)))
}

fn new_secret() -> Result<FeedSecret, Error> {
    Ok(FeedSecret::from_random(random::bytes::<SECRET_BYTES>()?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedInput {
    url: String,
}

/// `POST /api/admin/feeds` `{"url"}`: 201 `{"id", "url", "secret"}`; the secret is shown
/// this once.
pub async fn create(mut call: Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let raw = body::read_limited(&mut call.req).await?;
    let input: FeedInput = serde_json::from_slice(&raw)?;
    let url = parse_url(input.url.trim())?;
    let secret = new_secret()?;
    let shown = secret.expose();
    let endpoint = Endpoint::new(new_feed_id()?, url, secret, Date::now().as_millis());
    match feeds(
        &call,
        &FeedsRequest::Add {
            endpoint: endpoint.clone(),
        },
    )
    .await?
    {
        FeedsAnswer::Done => Ok(respond::json(
            201,
            &json!({ "id": endpoint.id, "url": endpoint.url, "secret": shown }),
        )),
        _ => Err(Error::Conflict {
            code: "too_many_feeds",
            message: "at most 20 feed endpoints; delete one first".into(),
        }),
    }
}

/// `GET /api/admin/feeds`: every endpoint with its delivery status; never a secret.
pub async fn list(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let now_ms = Date::now().as_millis();
    match feeds(call, &FeedsRequest::List { now_ms }).await? {
        FeedsAnswer::Views { endpoints } => Ok(respond::json(200, &json!({ "feeds": endpoints }))),
        other => Err(Error::internal(format!("Feeds answered {other:?}"))),
    }
}

/// `POST /api/admin/feeds/{id}/rotate`: 200 `{"secret"}`, a new secret; the previous one keeps
/// signing beside it for 24 hours.
pub async fn rotate(call: &Call<'_>, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let id = check_feed_id(id)?;
    let secret = new_secret()?;
    let request = FeedsRequest::Rotate {
        id: id.to_owned(),
        secret: secret.expose(),
        now_ms: Date::now().as_millis(),
    };
    match feeds(call, &request).await? {
        FeedsAnswer::Rotated {
            previous_expires_at,
        } => Ok(respond::json(
            200,
            &json!({
                "id": id,
                "secret": secret.expose(),
                "previous_secret_expires_at": previous_expires_at,
            }),
        )),
        _ => Err(unknown_feed()),
    }
}

/// `DELETE /api/admin/feeds/{id}`: 204; nothing more is delivered there.
pub async fn delete(call: &Call<'_>, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let id = check_feed_id(id)?;
    match feeds(call, &FeedsRequest::Delete { id: id.to_owned() }).await? {
        FeedsAnswer::Done => Ok(respond::no_content()),
        _ => Err(unknown_feed()),
    }
}

fn dead_letters_json(answer: FeedsAnswer) -> Result<serde_json::Value, Error> {
    let FeedsAnswer::DeadLetters { dead, remaining } = answer else {
        return Err(unknown_feed());
    };
    let dead: Vec<_> = dead
        .iter()
        .map(|d| {
            json!({
                "event_id": d.event_id,
                "time": format_rfc3339(d.time_ms),
                "attempts": d.attempts,
                "reason": d.reason,
                "dead_at": format_rfc3339(d.dead_at_ms),
            })
        })
        .collect();
    Ok(json!({ "dead_letters": dead, "remaining": remaining }))
}

/// `GET /api/admin/feeds/{id}/dead-letters?limit=`: the deliveries whose retries are spent,
/// oldest first (at most `limit`, default 100), and how many there are.
pub async fn dead_letters(call: &Call<'_>, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let id = check_feed_id(id)?;
    let limit = match call.query("limit") {
        None => 100,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| Error::bad_request("invalid_limit", "limit: 1 to 1000"))?,
    };
    let answer = feeds(
        call,
        &FeedsRequest::DeadLetters {
            id: id.to_owned(),
            limit,
        },
    )
    .await?;
    Ok(respond::json(200, &dead_letters_json(answer)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayInput {
    from: Option<String>,
    to: Option<String>,
    #[serde(rename = "type")]
    types: Option<String>,
    #[serde(default)]
    dead_letters: bool,
}

/// `POST /api/admin/feeds/{id}/replay`: `{"from", "to", "type"?}` queues the log's events of
/// that range to this endpoint again (paged through the queue); `{"dead_letters": true}`
/// queues its dead letters (up to 1,000 per call). 202: queued, not yet delivered.
pub async fn replay(mut call: Call<'_>, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let id = check_feed_id(id)?.to_owned();
    let raw = body::read_limited(&mut call.req).await?;
    let input: ReplayInput = serde_json::from_slice(&raw)?;
    let now_ms = Date::now().as_millis();
    let views = feeds(&call, &FeedsRequest::List { now_ms }).await?;
    let FeedsAnswer::Views { endpoints } = views else {
        return Err(Error::internal("Feeds did not list"));
    };
    let endpoint = endpoints
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(unknown_feed)?;
    if endpoint.status != "active" {
        return Err(Error::Conflict {
            code: "feed_disabled",
            message: "this endpoint answered 410 Gone and is disabled; add it again".into(),
        });
    }
    if input.dead_letters {
        if input.from.is_some() || input.to.is_some() || input.types.is_some() {
            return Err(Error::bad_request(
                "invalid_replay",
                "either dead_letters or a from/to range, not both",
            ));
        }
        let answer = feeds(
            &call,
            &FeedsRequest::TakeDead {
                id: id.clone(),
                limit: REPLAY_DEAD_MAX,
            },
        )
        .await?;
        let FeedsAnswer::DeadLetters { dead, remaining } = answer else {
            return Err(unknown_feed());
        };
        let refs: Vec<(String, u64)> = dead
            .iter()
            .map(|d| (d.event_id.clone(), d.time_ms))
            .collect();
        fan_out(call.env, &id, &refs).await?;
        return Ok(respond::json(
            202,
            &json!({ "id": id, "queued": refs.len(), "dead_letters_remaining": remaining }),
        ));
    }
    let range = Range::parse(
        input.from.as_deref(),
        input.to.as_deref(),
        input.types.as_deref(),
    )?
    .retained(retention_cutoff(&call), Date::now().as_millis());
    let page = ReplayPage {
        endpoint: id.clone(),
        from_ms: range.from_ms,
        to_ms: range.to_ms,
        types: range.types.clone(),
        after: None,
    };
    enqueue(call.env, vec![FeedMessage::Replay(page)]).await?;
    Ok(respond::json(
        202,
        &json!({
            "id": id,
            "from": format_rfc3339(range.from_ms),
            "to": format_rfc3339(range.to_ms),
            "types": range.types.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        }),
    ))
}

/// Where the export's stream is.
struct Export {
    env: worker::Env,
    range: Range,
    months: std::vec::IntoIter<String>,
    month: Option<String>,
    after: Option<Cursor>,
}

/// The next chunk of NDJSON: one page of the current month, moving on through the months.
async fn next_chunk(mut state: Export) -> Option<(Result<Vec<u8>, worker::Error>, Export)> {
    loop {
        let month = match state.month.clone() {
            Some(m) => m,
            None => {
                state.month = Some(state.months.next()?);
                state.after = None;
                continue;
            }
        };
        let request = LogRequest::Page {
            from_ms: state.range.from_ms,
            to_ms: state.range.to_ms,
            types: state.range.types.clone(),
            after: state.after.clone(),
            limit: PAGE_ROWS,
        };
        let answer: LogAnswer = match objects::call(&state.env, FEED_LOG, &month, &request).await {
            Ok(a) => a,
            Err(e) => {
                // Ends the stream in error: the client sees a broken body, never a short one
                // that looks whole.
                let cause = e.log_detail().unwrap_or_default();
                state.months = Vec::new().into_iter();
                state.month = None;
                return Some((Err(worker::Error::RustError(cause)), state));
            }
        };
        let Some(last) = answer.rows.last() else {
            state.month = None;
            continue;
        };
        state.after = Some(Cursor {
            time_ms: last.time_ms,
            id: last.id.clone(),
        });
        let mut chunk = Vec::new();
        for row in &answer.rows {
            chunk.extend_from_slice(row.body.as_bytes());
            chunk.push(b'\n');
        }
        return Some((Ok(chunk), state));
    }
}

/// `RETENTION_DAYS` ago: nothing older is exported or replayed (the daily job deletes it).
fn retention_cutoff(call: &Call<'_>) -> u64 {
    let days = env::config(call.env).retention_days;
    optin_core::evidence::retention::cutoff_ms(worker::Date::now().as_millis(), days)
}

/// `GET /api/admin/export?from=&to=&type=`: the feed's events of the range as NDJSON, one
/// CloudEvents envelope a line, ordered by time then id; streamed a page at a time. A range
/// longer than [`optin_core::feed::log::SPAN_MAX_DAYS`] (once cut to what retention keeps) is answered a span at a
/// time: `Link: <…>; rel="next"` is the rest.
pub async fn export(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let range = Range::parse(
        call.query("from").as_deref(),
        call.query("to").as_deref(),
        call.query("type").as_deref(),
    )?
    .retained(retention_cutoff(call), Date::now().as_millis());
    let (span, rest) = range.split_span();
    let state = Export {
        env: call.env.clone(),
        months: span.months().into_iter(),
        range: span,
        month: None,
        after: None,
    };
    let answer = respond::stream(
        "application/x-ndjson; charset=utf-8",
        stream::unfold(state, next_chunk),
    )?;
    Ok(match rest {
        None => answer,
        Some(rest) => answer.with_headers(&[("link", &next_link(&rest))]),
    })
}

/// The `Link` header to the rest of an export.
fn next_link(rest: &Range) -> String {
    format!("</api/admin/export?{}>; rel=\"next\"", rest.query())
}
