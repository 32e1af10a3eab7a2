//! The `Member` Durable Object (SQLite-backed): one object per member number, the strongly
//! consistent home of everything exact about a member (see [`crate::members`]). It only
//! serialises: load the slot, let the core decide, save it when it changed, answer.
//!
//! The slot is one JSON row, cached in the object's memory between requests. Each request is
//! handled without an await between reading and writing the slot, so two requests can never
//! interleave a read-modify-write; the SQLite write is synchronous and the runtime's output gate
//! holds the answer until it is durable.
//!
//! The events feed is born here, as a transactional outbox: the events a request caused
//! ([`crate::feed::events::caused_by`]) are written to the `outbox` table in the same
//! synchronous step as the slot, then sent to the `FEED` queue and deleted. If the send fails,
//! an alarm tries again; rows a crash left behind go with the object's next request. So an
//! event is never lost and never sent without its change.

use std::cell::{Cell, RefCell};

use serde::Deserialize;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, SqlStorageValue, State};

use crate::feed::events::{caused_by, FeedEvent};
use crate::feed::queue::FeedMessage;
use crate::log::{EventLog, Level};
use crate::members::{self, Slot};

/// When a failed send is tried again.
const OUTBOX_RETRY_MS: u64 = 60_000;

#[durable_object]
pub struct Member {
    state: State,
    env: Env,
    slot: RefCell<Option<Slot>>,
    /// The outbox may hold rows (true until a flush found it empty).
    outbox_dirty: Cell<bool>,
}

#[derive(Deserialize)]
struct OutboxRow {
    id: String,
    body: String,
}

#[derive(Deserialize)]
struct Row {
    body: String,
}

impl Member {
    fn load(&self) -> worker::Result<Slot> {
        if let Some(slot) = self.slot.borrow().as_ref() {
            return Ok(slot.clone());
        }
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec("SELECT body FROM slot WHERE id = 0", None)?
            .to_array()?;
        Ok(match rows.first() {
            Some(row) => serde_json::from_str(&row.body)?,
            None => Slot::default(),
        })
    }

    fn stage(&self, events: &[FeedEvent]) -> worker::Result<()> {
        let sql = self.state.storage().sql();
        for event in events {
            let message = FeedMessage::Record {
                event: event.clone(),
            };
            sql.exec(
                "INSERT OR REPLACE INTO outbox (id, body) VALUES (?, ?)",
                vec![
                    SqlStorageValue::String(event.id.clone()),
                    SqlStorageValue::String(serde_json::to_string(&message)?),
                ],
            )?;
        }
        self.outbox_dirty.set(true);
        Ok(())
    }

    /// Sends what the outbox holds to the queue and deletes it; on failure, leaves it for the
    /// alarm.
    async fn flush(&self) -> worker::Result<()> {
        if !self.outbox_dirty.get() {
            return Ok(());
        }
        let sql = self.state.storage().sql();
        let rows: Vec<OutboxRow> = sql
            .exec("SELECT id, body FROM outbox ORDER BY rowid LIMIT 100", None)?
            .to_array()?;
        if rows.is_empty() {
            self.outbox_dirty.set(false);
            return Ok(());
        }
        let messages = rows
            .iter()
            .map(|r| serde_json::from_str::<FeedMessage>(&r.body))
            .collect::<Result<Vec<_>, _>>()?;
        if let Err(e) = super::feed_queue::enqueue(&self.env, messages).await {
            let line = EventLog {
                level: Level::Error,
                msg: "feed enqueue failed; the outbox keeps the events",
                request_id: "-",
                detail: Some(format!(
                    "{} event(s): {}",
                    rows.len(),
                    e.log_detail().unwrap_or_default()
                )),
            }
            .to_line();
            worker::console_error!("{line}");
            let at = Date::now().as_millis() + OUTBOX_RETRY_MS;
            self.state.storage().set_alarm(at as i64).await?;
            return Ok(());
        }
        for r in &rows {
            sql.exec(
                "DELETE FROM outbox WHERE id = ?",
                vec![SqlStorageValue::String(r.id.clone())],
            )?;
        }
        if rows.len() < 100 {
            self.outbox_dirty.set(false);
        }
        Ok(())
    }

    fn save(&self, slot: &Slot) -> worker::Result<()> {
        let body = serde_json::to_string(slot)?;
        self.state.storage().sql().exec(
            "INSERT INTO slot (id, body) VALUES (0, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            vec![SqlStorageValue::String(body)],
        )?;
        Ok(())
    }
}

impl DurableObject for Member {
    fn new(state: State, env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let sql = state.storage().sql();
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS slot (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
            None,
        );
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
            None,
        );
        Self {
            state,
            env,
            slot: RefCell::new(None),
            // A crash may have left rows: the first request looks.
            outbox_dirty: Cell::new(true),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let request: members::Request = match req.json().await {
            Ok(r) => r,
            Err(e) => return Response::error(format!("bad request: {e}"), 400),
        };
        // From here to the flush there is no await: the slot cannot change under us, and the
        // slot and the outbox are written in one step.
        let mut slot = self.load()?;
        let before = slot.clone();
        let now_ms = Date::now().as_millis();
        let answer = slot.handle(request.clone(), now_ms);
        if slot != before {
            let events = caused_by(
                &request,
                &answer,
                before.member.as_ref(),
                slot.member.as_ref(),
                now_ms,
            );
            let written = self.save(&slot).and_then(|()| self.stage(&events));
            if let Err(e) = written {
                // Forget the cached copy: the next request reloads what is durable.
                *self.slot.borrow_mut() = None;
                return Err(e);
            }
        }
        *self.slot.borrow_mut() = Some(slot);
        self.flush().await?;
        Response::from_json(&answer)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.outbox_dirty.set(true);
        self.flush().await?;
        Response::ok("")
    }
}
