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
//! ([`crate::feed::events::caused_by`]) are written in the same row, in the same synchronous
//! step, as the slot that changed; after the answer they are sent to the `FEED` queue. A sent
//! event leaves the row with the next write (no extra write on the happy path); one that could
//! not be sent stays, and an alarm tries again. So an event is never lost and never sent
//! without its change; after a restart, events sent but not yet dropped go again (the queue is
//! at-least-once anyway, and receivers deduplicate on the event id).

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
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
    stored: RefCell<Option<Stored>>,
    /// Ids of outbox events being sent, and of those sent (to drop from the row).
    sending: Rc<RefCell<BTreeSet<String>>>,
    sent: Rc<RefCell<BTreeSet<String>>>,
}

/// The row: the slot, and the events not yet sent. Rows written before the feed are a bare
/// slot, which reads as a slot with an empty outbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    slot: Slot,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outbox: Vec<FeedEvent>,
}

#[derive(Deserialize)]
struct Row {
    body: String,
}

impl Member {
    fn load(&self) -> worker::Result<Stored> {
        if let Some(stored) = self.stored.borrow().as_ref() {
            return Ok(stored.clone());
        }
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec("SELECT body FROM slot WHERE id = 0", None)?
            .to_array()?;
        Ok(match rows.first() {
            Some(row) => serde_json::from_str(&row.body)?,
            None => Stored::default(),
        })
    }

    fn save(&self, stored: &Stored) -> worker::Result<()> {
        let body = serde_json::to_string(stored)?;
        self.state.storage().sql().exec(
            "INSERT INTO slot (id, body) VALUES (0, ?) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            vec![SqlStorageValue::String(body)],
        )?;
        Ok(())
    }

    /// Drops the events a send has delivered from the outbox.
    fn forget_sent(&self, stored: &mut Stored) {
        let sent = std::mem::take(&mut *self.sent.borrow_mut());
        if !sent.is_empty() {
            stored.outbox.retain(|e| !sent.contains(&e.id));
        }
    }

    /// Sends the outbox's events that are not already on their way, after the answer.
    fn send_later(&self, outbox: &[FeedEvent]) {
        let events: Vec<FeedEvent> = {
            let mut sending = self.sending.borrow_mut();
            outbox
                .iter()
                .filter(|e| sending.insert(e.id.clone()))
                .cloned()
                .collect()
        };
        if events.is_empty() {
            return;
        }
        let env = self.env.clone();
        let storage = self.state.storage();
        let (sending, sent) = (self.sending.clone(), self.sent.clone());
        self.state.wait_until(async move {
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            let messages = events
                .into_iter()
                .map(|event| FeedMessage::Record { event })
                .collect();
            let outcome = super::feed_queue::enqueue(&env, messages).await;
            {
                let mut sending = sending.borrow_mut();
                ids.iter().for_each(|id| {
                    sending.remove(id);
                });
            }
            match outcome {
                Ok(()) => sent.borrow_mut().extend(ids),
                Err(e) => {
                    log_send_failure(ids.len(), &e);
                    let at = Date::now().as_millis() + OUTBOX_RETRY_MS;
                    let _ = storage.set_alarm(at as i64).await;
                }
            }
        });
    }
}

fn log_send_failure(count: usize, e: &crate::error::Error) {
    let line = EventLog {
        level: Level::Error,
        msg: "feed enqueue failed; the outbox keeps the events",
        request_id: "-",
        detail: Some(format!(
            "{count} event(s): {}",
            e.log_detail().unwrap_or_default()
        )),
    }
    .to_line();
    worker::console_error!("{line}");
}

impl DurableObject for Member {
    fn new(state: State, env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS slot (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
            None,
        );
        Self {
            state,
            env,
            stored: RefCell::new(None),
            sending: Rc::default(),
            sent: Rc::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let request: members::Request = match super::objects::read_request(&mut req).await? {
            Ok(r) => r,
            Err(bad) => return Ok(bad),
        };
        // From here to the answer there is no await: the slot cannot change under us, and the
        // slot and its events are written in one step.
        let mut stored = self.load()?;
        self.forget_sent(&mut stored);
        let before = stored.slot.clone();
        let now_ms = Date::now().as_millis();
        let answer = stored.slot.handle(request.clone(), now_ms);
        if stored.slot != before {
            stored.outbox.extend(caused_by(
                &request,
                &answer,
                before.member.as_ref(),
                stored.slot.member.as_ref(),
                now_ms,
            ));
            if let Err(e) = self.save(&stored) {
                // Forget the cached copy: the next request reloads what is durable.
                *self.stored.borrow_mut() = None;
                return Err(e);
            }
        }
        if !stored.outbox.is_empty() {
            self.send_later(&stored.outbox);
        }
        *self.stored.borrow_mut() = Some(stored);
        Response::from_json(&answer)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let mut stored = self.load()?;
        self.forget_sent(&mut stored);
        if stored.outbox.is_empty() {
            return Response::ok("");
        }
        let messages = stored
            .outbox
            .iter()
            .map(|event| FeedMessage::Record {
                event: event.clone(),
            })
            .collect();
        match super::feed_queue::enqueue(&self.env, messages).await {
            Ok(()) => {
                // Reload: a request may have changed the slot during the send.
                let sent: BTreeSet<String> = stored.outbox.iter().map(|e| e.id.clone()).collect();
                let mut now = self.load()?;
                now.outbox.retain(|e| !sent.contains(&e.id));
                self.save(&now)?;
                *self.stored.borrow_mut() = Some(now);
            }
            Err(e) => {
                log_send_failure(stored.outbox.len(), &e);
                let at = Date::now().as_millis() + OUTBOX_RETRY_MS;
                self.state.storage().set_alarm(at as i64).await?;
            }
        }
        Response::ok("")
    }
}
