//! The `Member` Durable Object (SQLite-backed): one object per member number, the strongly
//! consistent home of everything exact about a member (see [`crate::members`]). It only
//! serialises: load the slot, let the core decide, save it when it changed, answer.
//!
//! The slot is one JSON row, cached in the object's memory between requests. Each request is
//! handled without an await between reading and writing the slot, so two requests can never
//! interleave a read-modify-write; the SQLite write is synchronous and the runtime's output gate
//! holds the answer until it is durable.

use std::cell::RefCell;

use serde::Deserialize;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, SqlStorageValue, State};

use crate::members::{self, Slot};

#[durable_object]
pub struct Member {
    state: State,
    slot: RefCell<Option<Slot>>,
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
    fn new(state: State, _env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS slot (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
            None,
        );
        Self {
            state,
            slot: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let request: members::Request = match req.json().await {
            Ok(r) => r,
            Err(e) => return Response::error(format!("bad request: {e}"), 400),
        };
        // From here to the answer there is no await: the slot cannot change under us.
        let mut slot = self.load()?;
        let before = slot.clone();
        let answer = slot.handle(request, Date::now().as_millis());
        if slot != before {
            if let Err(e) = self.save(&slot) {
                // Forget the cached copy: the next request reloads what is durable.
                *self.slot.borrow_mut() = None;
                return Err(e);
            }
        }
        *self.slot.borrow_mut() = Some(slot);
        Response::from_json(&answer)
    }
}
