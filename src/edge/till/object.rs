//! The `Till` Durable Object (SQLite-backed): one per store, the home of its transactions (see
//! [`optin_core::till::transactions`]). A redemption goes through it: it holds the transaction for the
//! member, lets the member's object decide, and binds the transaction when something was
//! redeemed. Bound rows bind for [`KEEP_BOUND_MS`] and are pruned by an instance's first
//! binding, then at most every [`PRUNE_EVERY_MS`]; holds only in memory. It also keeps the ids of
//! the store's revoked POS keys (and a copy in memory), so that a revoked key redeems nothing
//! once the revocation has answered, whatever any isolate still holds of the key.
//!
//! Offline tills (`optin_core::till::offline`): it keeps the store's **conflicts** — queued
//! redemptions refused when they arrived — once each, by id, and sends each to the feed as
//! `coupon.redemption_conflict` through a small outbox (a `sent` flag; the alarm sends what a
//! failed enqueue left). And the offline limit of each POS key.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Deserialize;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, SqlStorageValue, State};

use crate::edge::runtime::objects;
use optin_core::feed::queue::FeedMessage;
use optin_core::ids::MemberNumber;
use optin_core::log::{EventLog, Level};
use optin_core::members::{Answer, Request as Ask};
use optin_core::till::offline::{Conflict, Queued, DEFAULT_OFFLINE_LIMIT};
use optin_core::till::redemptions::{Attempt, Outcome, Refusal};
use optin_core::till::transactions::{Claim, Holds, TillAnswer, TillRequest, KEEP_BOUND_MS};

/// How long after a failed enqueue the alarm tries the conflicts' outbox again.
const OUTBOX_RETRY_MS: u64 = 60_000;
/// The most conflicts one alarm sends (one queue batch).
const OUTBOX_BATCH: i64 = 100;
/// How often an instance's redemptions also delete the rows past their keeping (its first one
/// always does; two statements saved on the others; a row past [`KEEP_BOUND_MS`] binds nothing
/// meanwhile).
const PRUNE_EVERY_MS: u64 = 3_600_000;

#[durable_object]
pub struct Till {
    state: State,
    env: Env,
    holds: RefCell<Holds>,
    /// The revoked keys' ids, read once per instance; every revocation goes through this object.
    revoked: RefCell<Option<BTreeSet<String>>>,
    /// When this instance last pruned (0: not yet).
    pruned_at: Cell<u64>,
}

#[derive(Deserialize)]
struct KeyId {
    key_id: String,
}

#[derive(Deserialize)]
struct Bound {
    member: String,
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

#[derive(Deserialize)]
struct Limit {
    key_id: String,
    offline_limit: i64,
}

fn text(s: &str) -> SqlStorageValue {
    SqlStorageValue::String(s.to_owned())
}

fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Till {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn bound(&self, transaction: &str, now_ms: u64) -> worker::Result<Option<MemberNumber>> {
        let rows: Vec<Bound> = self
            .sql()
            .exec(
                "SELECT member FROM txn WHERE id = ? AND at >= ?",
                vec![text(transaction), int(now_ms.saturating_sub(KEEP_BOUND_MS))],
            )?
            .to_array()?;
        Ok(rows
            .first()
            .and_then(|r| MemberNumber::parse(&r.member).ok()))
    }

    fn bind(&self, transaction: &str, member: MemberNumber, now_ms: u64) -> worker::Result<()> {
        let sql = self.sql();
        sql.exec(
            "INSERT OR IGNORE INTO txn (id, member, at) VALUES (?, ?, ?)",
            vec![text(transaction), text(&member.to_string()), int(now_ms)],
        )?;
        if now_ms.saturating_sub(self.pruned_at.get()) < PRUNE_EVERY_MS {
            return Ok(());
        }
        self.pruned_at.set(now_ms);
        let horizon = int(now_ms.saturating_sub(KEEP_BOUND_MS));
        sql.exec("DELETE FROM txn WHERE at < ?", vec![horizon.clone()])?;
        sql.exec(
            "DELETE FROM conflict WHERE at < ? AND sent = 1",
            vec![horizon],
        )?;
        Ok(())
    }

    fn revoked(&self, key_id: &str) -> worker::Result<bool> {
        if let Some(keys) = self.revoked.borrow().as_ref() {
            return Ok(keys.contains(key_id));
        }
        let rows: Vec<KeyId> = self
            .sql()
            .exec("SELECT key_id FROM revoked", None)?
            .to_array()?;
        let keys: BTreeSet<String> = rows.into_iter().map(|r| r.key_id).collect();
        let revoked = keys.contains(key_id);
        *self.revoked.borrow_mut() = Some(keys);
        Ok(revoked)
    }

    fn revoke(&self, key_id: &str, now_ms: u64) -> worker::Result<()> {
        let written = self.sql().exec(
            "INSERT OR IGNORE INTO revoked (key_id, at) VALUES (?, ?)",
            vec![text(key_id), int(now_ms)],
        );
        let mut keys = self.revoked.borrow_mut();
        if written.is_err() {
            // Not known to be written: the next question reads the table again.
            *keys = None;
        } else if let Some(keys) = keys.as_mut() {
            keys.insert(key_id.to_owned());
        }
        written.map(|_| ())
    }

    fn limits(&self) -> worker::Result<BTreeMap<String, u32>> {
        let rows: Vec<Limit> = self
            .sql()
            .exec("SELECT key_id, offline_limit FROM key_limit", None)?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| (r.key_id, u32::try_from(r.offline_limit).unwrap_or(0)))
            .collect())
    }

    fn offline_limit(&self, key_id: &str) -> worker::Result<u32> {
        let rows: Vec<Limit> = self
            .sql()
            .exec(
                "SELECT key_id, offline_limit FROM key_limit WHERE key_id = ?",
                vec![text(key_id)],
            )?
            .to_array()?;
        Ok(rows.first().map_or(DEFAULT_OFFLINE_LIMIT, |r| {
            u32::try_from(r.offline_limit).unwrap_or(0)
        }))
    }

    fn conflict(&self, id: &str) -> worker::Result<Option<Conflict>> {
        let rows: Vec<Body> = self
            .sql()
            .exec("SELECT body FROM conflict WHERE id = ?", vec![text(id)])?
            .to_array()?;
        Ok(rows
            .first()
            .and_then(|r| serde_json::from_str(&r.body).ok()))
    }

    /// Keeps `conflict` unless one of its id is kept (then that one stands), sends a new one to
    /// the feed, and answers with the conflict that stands.
    async fn keep(&self, conflict: Conflict) -> objects::Answered {
        if let Some(kept) = self.conflict(&conflict.id)? {
            return objects::json(&TillAnswer::Conflicted {
                conflict: Box::new(kept),
            });
        }
        let body =
            serde_json::to_string(&conflict).map_err(|e| worker::Error::from(e.to_string()))?;
        self.sql().exec(
            "INSERT INTO conflict (id, at, body, sent) VALUES (?, ?, ?, 0)",
            vec![
                text(&conflict.id),
                int(conflict.detected_at_ms),
                text(&body),
            ],
        )?;
        // The backstop first: if this object stops before the send below, the alarm sends it.
        self.state
            .storage()
            .set_alarm(Duration::from_millis(OUTBOX_RETRY_MS))
            .await?;
        self.send_outbox().await;
        objects::json(&TillAnswer::Conflicted {
            conflict: Box::new(conflict),
        })
    }

    /// Sends unsent conflicts to the feed's queue, a batch at a time; a failure leaves them to
    /// the alarm.
    async fn send_outbox(&self) {
        let unsent: Vec<Body> = match self
            .sql()
            .exec(
                "SELECT body FROM conflict WHERE sent = 0 ORDER BY at LIMIT ?",
                vec![SqlStorageValue::Integer(OUTBOX_BATCH)],
            )
            .and_then(|c| c.to_array())
        {
            Ok(rows) => rows,
            Err(_) => {
                let _ = self
                    .state
                    .storage()
                    .set_alarm(Duration::from_millis(OUTBOX_RETRY_MS))
                    .await;
                return;
            }
        };
        let conflicts: Vec<Conflict> = unsent
            .iter()
            .filter_map(|r| serde_json::from_str(&r.body).ok())
            .collect();
        if conflicts.is_empty() {
            return;
        }
        let messages = conflicts
            .iter()
            .map(|c| FeedMessage::Record {
                event: c.feed_event(),
            })
            .collect();
        match crate::edge::feed::queue::enqueue(&self.env, messages).await {
            Ok(()) => {
                for c in &conflicts {
                    let _ = self.sql().exec(
                        "UPDATE conflict SET sent = 1 WHERE id = ?",
                        vec![text(&c.id)],
                    );
                }
                if conflicts.len() as i64 == OUTBOX_BATCH {
                    let _ = self
                        .state
                        .storage()
                        .set_alarm(Duration::from_millis(1))
                        .await;
                }
            }
            Err(e) => {
                worker::console_error!(
                    "{}",
                    EventLog {
                        level: Level::Error,
                        msg: "conflict enqueue failed; the till's outbox keeps it",
                        request_id: "",
                        detail: Some(format!("{e:?}")),
                    }
                    .to_line()
                );
                let _ = self
                    .state
                    .storage()
                    .set_alarm(Duration::from_millis(OUTBOX_RETRY_MS))
                    .await;
            }
        }
    }

    fn list(&self, before: Option<(u64, String)>, limit: u32) -> worker::Result<Vec<Conflict>> {
        let limit = SqlStorageValue::Integer(i64::from(limit.clamp(1, 500)));
        let rows: Vec<Body> = match before {
            Some((at, id)) => self
                .sql()
                .exec(
                    "SELECT body FROM conflict WHERE at < ?1 OR (at = ?1 AND id < ?2) \
                     ORDER BY at DESC, id DESC LIMIT ?3",
                    vec![int(at), text(&id), limit],
                )?
                .to_array()?,
            None => self
                .sql()
                .exec(
                    "SELECT body FROM conflict ORDER BY at DESC, id DESC LIMIT ?",
                    vec![limit],
                )?
                .to_array()?,
        };
        Ok(rows
            .iter()
            .filter_map(|r| serde_json::from_str(&r.body).ok())
            .collect())
    }

    async fn redeem(&self, member: MemberNumber, attempt: Attempt) -> objects::Answered {
        if let Some(key) = &attempt.pos_key_id {
            if self.revoked(key)? {
                return objects::json(&TillAnswer::KeyRevoked);
            }
        }
        let queued = Queued::of(&attempt);
        // A queued attempt already refused is refused the same way, whatever changed since: a
        // sync cut and repeated changes nothing.
        if let Some(q) = &queued {
            let id = optin_core::till::offline::conflict_id(&q.store, &q.transaction, &q.coupon);
            if let Some(kept) = self.conflict(&id)? {
                return objects::json(&TillAnswer::Conflicted {
                    conflict: Box::new(kept),
                });
            }
        }
        let now_ms = Date::now().as_millis();
        let transaction = attempt.transaction.as_str().to_owned();
        // Reading the bound row and taking the hold happen with no await between.
        let bound = self.bound(&transaction, now_ms)?;
        if self.holds.borrow_mut().claim(&transaction, member, bound) == Claim::Conflict {
            return match queued {
                Some(q) => {
                    let message = format!(
                        "Transaction {transaction} was used for another member's purchase."
                    );
                    self.keep(q.conflict(
                        Some(member),
                        "transaction_conflict",
                        message,
                        None,
                        now_ms,
                    ))
                    .await
                }
                None => objects::json(&TillAnswer::TransactionConflict),
            };
        }
        let terms = attempt.coupon.clone();
        let asked = crate::edge::members::ask(&self.env, member, &Ask::Redeem { attempt }).await;
        let redeemed =
            matches!(&asked, Ok(Answer::Redemption { result }) if result.binds_transaction());
        if self
            .holds
            .borrow_mut()
            .settle(&transaction, member, redeemed)
        {
            self.bind(&transaction, member, Date::now().as_millis())?;
        }
        let answer = match asked {
            Ok(answer) => answer,
            Err(e) => return Err(worker::Error::RustError(format!("member object: {e:?}"))),
        };
        let Some(q) = queued else {
            return objects::json(&TillAnswer::Member { answer });
        };
        match answer {
            Answer::Redemption {
                result: Outcome::Refused(refusal),
            } => {
                let message = refusal.message(&terms);
                let first = match &refusal {
                    Refusal::AlreadyRedeemed { first } => Some(first.clone()),
                    _ => None,
                };
                self.keep(q.conflict(Some(member), refusal.code(), message, first, now_ms))
                    .await
            }
            Answer::Redemption { .. } => objects::json(&TillAnswer::Member { answer }),
            _ => {
                let message = "No such member: the membership was ended or never existed.";
                self.keep(q.conflict(Some(member), "unknown_member", message.into(), None, now_ms))
                    .await
            }
        }
    }
}

impl DurableObject for Till {
    fn new(state: State, env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let sql = state.storage().sql();
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS txn (id TEXT PRIMARY KEY, member TEXT NOT NULL, \
             at INTEGER NOT NULL)",
            None,
        );
        let _ = sql.exec("CREATE INDEX IF NOT EXISTS txn_at ON txn (at)", None);
        // The store's revoked POS keys (ids only), kept for good: a store has few keys.
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS revoked (key_id TEXT PRIMARY KEY, at INTEGER NOT NULL)",
            None,
        );
        // Conflicts of queued redemptions: the JSON of each, when it was found, and whether the
        // feed has it. Kept as long as bound transactions, once sent.
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS conflict (id TEXT PRIMARY KEY, at INTEGER NOT NULL, \
             body TEXT NOT NULL, sent INTEGER NOT NULL)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS conflict_at ON conflict (at, id)",
            None,
        );
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS key_limit (key_id TEXT PRIMARY KEY, \
             offline_limit INTEGER NOT NULL)",
            None,
        );
        Self {
            state,
            env,
            holds: RefCell::new(Holds::default()),
            revoked: RefCell::new(None),
            pruned_at: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        objects::fetch_answer(&mut req, |r| self.handle(r)).await
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.send_outbox().await;
        Response::ok("")
    }
}

objects::answer_calls!(Till, handle);

impl Till {
    async fn handle(&self, request: TillRequest) -> objects::Answered {
        match request {
            TillRequest::RevokeKey { key_id } => {
                self.revoke(&key_id, Date::now().as_millis())?;
                objects::json(&TillAnswer::Done)
            }
            TillRequest::Redeem { member, attempt } => self.redeem(member, attempt).await,
            TillRequest::Conflict { conflict } => self.keep(*conflict).await,
            TillRequest::Conflicts { before, limit } => objects::json(&TillAnswer::Conflicts {
                conflicts: self.list(before, limit)?,
            }),
            TillRequest::SetOfflineLimit { key_id, limit } => {
                self.sql().exec(
                    "INSERT INTO key_limit (key_id, offline_limit) VALUES (?, ?) \
                     ON CONFLICT (key_id) DO UPDATE SET offline_limit = excluded.offline_limit",
                    vec![text(&key_id), int(u64::from(limit))],
                )?;
                objects::json(&TillAnswer::Done)
            }
            TillRequest::KeyInfo { key_id } => objects::json(&TillAnswer::Key {
                revoked: self.revoked(&key_id)?,
                offline_limit: self.offline_limit(&key_id)?,
            }),
            TillRequest::OfflineLimits => objects::json(&TillAnswer::Limits {
                limits: self.limits()?,
            }),
        }
    }
}
