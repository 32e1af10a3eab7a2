//! The `Feeds` Durable Object (SQLite-backed): one for the programme, the exact home of the
//! feed's endpoints (see [`optin_core::feed::endpoints`]), their backlogs and dead letters. Every
//! delivery's outcome passes through it (one call per endpoint and queue batch), so the status
//! the admin reads is counted, not estimated.

use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorageValue, State};

use crate::edge::runtime::sql::{int, text};
use optin_core::feed::endpoints::{
    DeadLetter, DeliveryResult, Endpoint, FeedsAnswer, FeedsRequest, ENDPOINTS_MAX,
};
use optin_core::feed::signature::FeedSecret;
use optin_core::time::format_rfc3339;

#[durable_object]
pub struct Feeds {
    state: State,
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct DeadRow {
    event_id: String,
    time_ms: i64,
    attempts: i64,
    reason: String,
    dead_at: i64,
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Feeds {
    fn exec(&self, query: &str, bindings: Vec<SqlStorageValue>) -> worker::Result<()> {
        self.state.storage().sql().exec(query, bindings)?;
        Ok(())
    }

    fn count(&self, query: &str, id: &str) -> worker::Result<u64> {
        let rows: Vec<Count> = self
            .state
            .storage()
            .sql()
            .exec(query, vec![text(id)])?
            .to_array()?;
        Ok(rows.first().map_or(0, |c| unsigned(c.n)))
    }

    fn endpoints(&self) -> worker::Result<Vec<Endpoint>> {
        let rows: Vec<Body> = self
            .state
            .storage()
            .sql()
            .exec("SELECT body FROM endpoints ORDER BY id", None)?
            .to_array()?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.body).map_err(worker::Error::from))
            .collect()
    }

    fn endpoint(&self, id: &str) -> worker::Result<Option<Endpoint>> {
        let rows: Vec<Body> = self
            .state
            .storage()
            .sql()
            .exec("SELECT body FROM endpoints WHERE id = ?", vec![text(id)])?
            .to_array()?;
        rows.first()
            .map(|r| serde_json::from_str(&r.body).map_err(worker::Error::from))
            .transpose()
    }

    fn put(&self, endpoint: &Endpoint) -> worker::Result<()> {
        self.exec(
            "INSERT INTO endpoints (id, body) VALUES (?, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            vec![text(&endpoint.id), text(&serde_json::to_string(endpoint)?)],
        )
    }

    fn dead_letters(&self, id: &str, limit: u32) -> worker::Result<Vec<DeadLetter>> {
        let rows: Vec<DeadRow> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT event_id, time_ms, attempts, reason, dead_at FROM dead \
                 WHERE endpoint = ? ORDER BY time_ms, event_id LIMIT ?",
                vec![text(id), int(u64::from(limit.clamp(1, 1000)))],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| DeadLetter {
                event_id: r.event_id,
                time_ms: unsigned(r.time_ms),
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                reason: r.reason,
                dead_at_ms: unsigned(r.dead_at),
            })
            .collect())
    }

    fn answer(&self, request: FeedsRequest) -> worker::Result<FeedsAnswer> {
        Ok(match request {
            FeedsRequest::Add { endpoint } => {
                if self.endpoints()?.len() >= ENDPOINTS_MAX {
                    FeedsAnswer::TooMany
                } else {
                    self.put(&endpoint)?;
                    FeedsAnswer::Done
                }
            }
            FeedsRequest::List { now_ms } => {
                let mut views = Vec::new();
                for e in self.endpoints()? {
                    let backlog = self.count(
                        "SELECT COUNT(*) AS n FROM pending WHERE endpoint = ?",
                        &e.id,
                    )?;
                    let dead =
                        self.count("SELECT COUNT(*) AS n FROM dead WHERE endpoint = ?", &e.id)?;
                    views.push(e.view(backlog, dead, now_ms));
                }
                FeedsAnswer::Views { endpoints: views }
            }
            FeedsRequest::Rotate { id, secret, now_ms } => {
                let (Some(mut e), Some(secret)) = (self.endpoint(&id)?, FeedSecret::parse(&secret))
                else {
                    return Ok(FeedsAnswer::Unknown);
                };
                e.rotate(secret, now_ms);
                self.put(&e)?;
                FeedsAnswer::Rotated {
                    previous_expires_at: e.previous_secret_expires_at(now_ms).map(format_rfc3339),
                }
            }
            FeedsRequest::Delete { id } => {
                if self.endpoint(&id)?.is_none() {
                    return Ok(FeedsAnswer::Unknown);
                }
                self.exec("DELETE FROM endpoints WHERE id = ?", vec![text(&id)])?;
                self.exec("DELETE FROM pending WHERE endpoint = ?", vec![text(&id)])?;
                self.exec("DELETE FROM dead WHERE endpoint = ?", vec![text(&id)])?;
                FeedsAnswer::Done
            }
            FeedsRequest::Active => FeedsAnswer::Endpoints {
                endpoints: self
                    .endpoints()?
                    .into_iter()
                    .filter(|e| e.disabled_at_ms.is_none())
                    .collect(),
            },
            FeedsRequest::Pending { endpoint, events } => {
                if self.endpoint(&endpoint)?.is_some() {
                    for (event_id, time_ms) in events {
                        self.exec(
                            "INSERT OR IGNORE INTO pending (endpoint, event_id, time_ms) \
                             VALUES (?, ?, ?)",
                            vec![text(&endpoint), text(&event_id), int(time_ms)],
                        )?;
                    }
                }
                FeedsAnswer::Done
            }
            FeedsRequest::Report {
                endpoint,
                results,
                at_ms,
            } => {
                let Some(mut e) = self.endpoint(&endpoint)? else {
                    return Ok(FeedsAnswer::Unknown);
                };
                for r in &results {
                    e.record(r, at_ms);
                    let settled = !matches!(r.result, DeliveryResult::Failed { .. });
                    if settled {
                        self.exec(
                            "DELETE FROM pending WHERE endpoint = ? AND event_id = ?",
                            vec![text(&endpoint), text(&r.event_id)],
                        )?;
                    }
                    if let DeliveryResult::Dead { reason } = &r.result {
                        self.exec(
                            "INSERT OR REPLACE INTO dead \
                             (endpoint, event_id, time_ms, attempts, reason, dead_at) \
                             VALUES (?, ?, ?, ?, ?, ?)",
                            vec![
                                text(&endpoint),
                                text(&r.event_id),
                                int(r.time_ms),
                                int(u64::from(r.attempts)),
                                text(reason),
                                int(at_ms),
                            ],
                        )?;
                    }
                }
                if e.disabled_at_ms.is_some() {
                    // Gone: nothing more will be delivered, so nothing is waiting.
                    self.exec(
                        "DELETE FROM pending WHERE endpoint = ?",
                        vec![text(&endpoint)],
                    )?;
                }
                self.put(&e)?;
                FeedsAnswer::Done
            }
            FeedsRequest::DeadLetters { id, limit } => {
                if self.endpoint(&id)?.is_none() {
                    return Ok(FeedsAnswer::Unknown);
                }
                FeedsAnswer::DeadLetters {
                    remaining: self
                        .count("SELECT COUNT(*) AS n FROM dead WHERE endpoint = ?", &id)?,
                    dead: self.dead_letters(&id, limit)?,
                }
            }
            FeedsRequest::TakeDead { id, limit } => {
                if self.endpoint(&id)?.is_none() {
                    return Ok(FeedsAnswer::Unknown);
                }
                let dead = self.dead_letters(&id, limit)?;
                for d in &dead {
                    self.exec(
                        "DELETE FROM dead WHERE endpoint = ? AND event_id = ?",
                        vec![text(&id), text(&d.event_id)],
                    )?;
                    self.exec(
                        "INSERT OR IGNORE INTO pending (endpoint, event_id, time_ms) \
                         VALUES (?, ?, ?)",
                        vec![text(&id), text(&d.event_id), int(d.time_ms)],
                    )?;
                }
                FeedsAnswer::DeadLetters {
                    remaining: self
                        .count("SELECT COUNT(*) AS n FROM dead WHERE endpoint = ?", &id)?,
                    dead,
                }
            }
        })
    }
}

impl DurableObject for Feeds {
    fn new(state: State, _env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS endpoints (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS pending (endpoint TEXT NOT NULL, event_id TEXT NOT NULL, \
             time_ms INTEGER NOT NULL, PRIMARY KEY (endpoint, event_id))",
            "CREATE TABLE IF NOT EXISTS dead (endpoint TEXT NOT NULL, event_id TEXT NOT NULL, \
             time_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, reason TEXT NOT NULL, \
             dead_at INTEGER NOT NULL, PRIMARY KEY (endpoint, event_id))",
        ] {
            let _ = sql.exec(ddl, None);
        }
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        crate::edge::runtime::objects::fetch_answer(&mut req, |r| self.handle(r)).await
    }
}

crate::edge::runtime::objects::answer_calls!(Feeds, handle);

impl Feeds {
    async fn handle(&self, request: FeedsRequest) -> crate::edge::runtime::objects::Answered {
        crate::edge::runtime::objects::json(&self.answer(request)?)
    }
}
