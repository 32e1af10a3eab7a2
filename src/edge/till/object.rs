//! The `Till` Durable Object (SQLite-backed): one per store, the home of its transactions (see
//! [`optin_core::till::transactions`]). A redemption goes through it: it holds the transaction for the
//! member, lets the member's object decide, and binds the transaction when something was
//! redeemed. Bound rows are kept [`KEEP_BOUND_MS`]; holds only in memory. It also keeps the ids
//! of the store's revoked POS keys, so that a revoked key redeems nothing once the revocation
//! has answered, whatever any isolate still holds of the key.

use std::cell::RefCell;

use serde::Deserialize;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, SqlStorageValue, State};

use optin_core::ids::MemberNumber;
use optin_core::members::{Answer, Request as Ask};
use optin_core::till::transactions::{Claim, Holds, TillAnswer, TillRequest, KEEP_BOUND_MS};

#[durable_object]
pub struct Till {
    state: State,
    env: Env,
    holds: RefCell<Holds>,
}

#[derive(Deserialize)]
struct Bound {
    member: String,
}

impl Till {
    fn bound(&self, transaction: &str) -> worker::Result<Option<MemberNumber>> {
        let rows: Vec<Bound> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT member FROM txn WHERE id = ?",
                vec![SqlStorageValue::String(transaction.to_owned())],
            )?
            .to_array()?;
        Ok(rows
            .first()
            .and_then(|r| MemberNumber::parse(&r.member).ok()))
    }

    fn bind(&self, transaction: &str, member: MemberNumber, now_ms: u64) -> worker::Result<()> {
        let sql = self.state.storage().sql();
        sql.exec(
            "INSERT OR IGNORE INTO txn (id, member, at) VALUES (?, ?, ?)",
            vec![
                SqlStorageValue::String(transaction.to_owned()),
                SqlStorageValue::String(member.to_string()),
                SqlStorageValue::Integer(now_ms as i64),
            ],
        )?;
        sql.exec(
            "DELETE FROM txn WHERE at < ?",
            vec![SqlStorageValue::Integer(
                now_ms.saturating_sub(KEEP_BOUND_MS) as i64,
            )],
        )?;
        Ok(())
    }
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

impl Till {
    fn revoked(&self, key_id: &str) -> worker::Result<bool> {
        let rows: Vec<Count> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT COUNT(*) AS n FROM revoked WHERE key_id = ?",
                vec![SqlStorageValue::String(key_id.to_owned())],
            )?
            .to_array()?;
        Ok(rows.first().is_some_and(|r| r.n > 0))
    }

    fn revoke(&self, key_id: &str, now_ms: u64) -> worker::Result<()> {
        self.state.storage().sql().exec(
            "INSERT OR IGNORE INTO revoked (key_id, at) VALUES (?, ?)",
            vec![
                SqlStorageValue::String(key_id.to_owned()),
                SqlStorageValue::Integer(now_ms as i64),
            ],
        )?;
        Ok(())
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
        Self {
            state,
            env,
            holds: RefCell::new(Holds::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let request: TillRequest =
            match crate::edge::runtime::objects::read_request(&mut req).await? {
                Ok(r) => r,
                Err(bad) => return Ok(bad),
            };
        let (member, attempt) = match request {
            TillRequest::RevokeKey { key_id } => {
                self.revoke(&key_id, Date::now().as_millis())?;
                return Response::from_json(&TillAnswer::Done);
            }
            TillRequest::Redeem { member, attempt } => (member, attempt),
        };
        if let Some(key) = &attempt.pos_key_id {
            if self.revoked(key)? {
                return Response::from_json(&TillAnswer::KeyRevoked);
            }
        }
        let transaction = attempt.transaction.as_str().to_owned();
        // Reading the bound row and taking the hold happen with no await between.
        let bound = self.bound(&transaction)?;
        if self.holds.borrow_mut().claim(&transaction, member, bound) == Claim::Conflict {
            return Response::from_json(&TillAnswer::TransactionConflict);
        }
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
        match asked {
            Ok(answer) => Response::from_json(&TillAnswer::Member { answer }),
            Err(e) => Response::error(format!("member object: {e:?}"), 502),
        }
    }
}
