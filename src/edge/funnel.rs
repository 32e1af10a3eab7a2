//! The `Funnel` Durable Object: per-store counters by day (landing views, grants and withdrawals
//! per channel, cards, redemptions). One object per store, SQLite-backed, so concurrent views
//! are all counted (Workers KV allows about one write per second per key and would lose them).
//!
//! Counts are coalesced in the isolate: a view adds to a pending tally and, when no flush is
//! running, starts one (in its own `wait_until`) that sends batches until nothing is pending.
//! Every view is owned by a live flush (the isolate is single-threaded: a flush checks the tally
//! and steps down in one synchronous step), one call carries many views under load, and a busy
//! store's object sees a few calls a second instead of one per view.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use wasm_bindgen::JsValue;
use worker::{
    durable_object, Context, Date, DurableObject, Env, Method, Request, RequestInit, Response,
    SqlStorageValue, State,
};

use optin_core::error::Error;
use optin_core::funnel::stats::{self, Count};
use optin_core::ids::StoreId;
use optin_core::log::{EventLog, Level};
use optin_core::stores::StoresIndex;

#[durable_object]
pub struct Funnel {
    state: State,
}

impl DurableObject for Funnel {
    fn new(state: State, _env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS counts (day TEXT NOT NULL, metric TEXT NOT NULL, \
             n INTEGER NOT NULL, PRIMARY KEY (day, metric))",
            None,
        );
        Self { state }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        // Cut, not parsed: `Request::url` is the only use of the `url` crate, ~60 KB of wasm.
        let url = req.inner().url();
        let (path, query) = crate::edge::runtime::incoming::path_and_query(&url);
        let param = |name: &str| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let sql = self.state.storage().sql();
        match (req.method(), path) {
            (Method::Post, "/add") => {
                let mut req = req;
                let batch: Vec<Count> =
                    match crate::edge::runtime::objects::read_request(&mut req).await? {
                        Ok(batch) => batch,
                        Err(bad) => return Ok(bad),
                    };
                for c in batch {
                    sql.exec(
                        "INSERT INTO counts (day, metric, n) VALUES (?, ?, ?) \
                         ON CONFLICT (day, metric) DO UPDATE SET n = n + excluded.n",
                        vec![
                            SqlStorageValue::String(c.day),
                            SqlStorageValue::String(c.metric),
                            SqlStorageValue::Integer(c.n),
                        ],
                    )?;
                }
                Response::empty().map(|r| r.with_status(204))
            }
            (Method::Get, "/counts") => {
                let rows: Vec<Count> = sql
                    .exec(
                        "SELECT day, metric, n FROM counts WHERE day >= ? AND day <= ? \
                         ORDER BY day, metric",
                        vec![
                            SqlStorageValue::String(param("from")),
                            SqlStorageValue::String(param("to")),
                        ],
                    )?
                    .to_array()?;
                Response::from_json(&rows)
            }
            _ => Response::error("not found", 404),
        }
    }
}

fn stub(env: &Env, store: &str) -> Result<worker::Stub, Error> {
    let fail = |e: worker::Error| Error::internal(format!("funnel: {e}"));
    let namespace = env.durable_object("FUNNEL").map_err(fail)?;
    let id = namespace.id_from_name(store).map_err(fail)?;
    id.get_stub().map_err(fail)
}

/// A flush hands over to the next view after this long (`wait_until` work is bounded).
const FLUSH_TURN_MS: u64 = 10_000;
/// Pause between two rounds of a flush, so that views under load travel in large batches.
const FLUSH_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Pause before a round that retries what the last one failed to send.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(1_000);

thread_local! {
    /// (store, day, metric) → views not yet sent.
    static PENDING: RefCell<BTreeMap<(String, String, String), i64>> =
        const { RefCell::new(BTreeMap::new()) };
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
}

/// Counts one `metric` for `store` on `day`: added to the pending tally, sent after the response.
pub fn count(env: &Env, ctx: &Context, store: &str, day: &str, metric: &str, request_id: &str) {
    PENDING.with(|p| {
        *p.borrow_mut()
            .entry((store.to_owned(), day.to_owned(), metric.to_owned()))
            .or_default() += 1;
    });
    if !FLUSHING.with(Cell::get) {
        FLUSHING.with(|f| f.set(true));
        ctx.wait_until(flush(env.clone(), request_id.to_owned()));
    }
}

/// Counts `metric` for `store`'s calendar day in its own time zone (the UTC day while this
/// isolate's copy of the index lacks the store: one created moments ago elsewhere); with no
/// store, for the no-store counter by UTC day.
pub fn count_for_store(
    env: &Env,
    ctx: &Context,
    stores: &StoresIndex,
    store: Option<&StoreId>,
    now_ms: u64,
    metric: &str,
    request_id: &str,
) {
    let (name, tz) = match store {
        Some(id) => (
            id.as_str(),
            stores.get(id).map_or("UTC", |s| s.timezone.as_str()),
        ),
        None => (stats::NO_STORE, "UTC"),
    };
    let day = crate::edge::runtime::clock::local_day(tz, now_ms);
    count(env, ctx, name, &day, metric, request_id);
}

/// Sends the pending tally, batch after batch, until nothing is pending; after its turn it
/// hands over (a later view starts the next flush) and sends its last batch.
async fn flush(env: Env, request_id: String) {
    let started = Date::now().as_millis();
    loop {
        // Taking the tally and stepping down happen with no await between: a view counted
        // after this point either finds `FLUSHING` set (and a later round of this loop sends
        // it) or starts its own flush.
        let batch = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        let last_round = batch.is_empty() || Date::now().as_millis() - started > FLUSH_TURN_MS;
        if last_round {
            FLUSHING.with(|f| f.set(false));
        }
        // What fails is back in the tally: the next round retries it, after a longer pause,
        // and after the last round the next view's flush does.
        let sent = send_batch(&env, batch, &request_id).await;
        if last_round {
            return;
        }
        worker::Delay::from(if sent { FLUSH_PAUSE } else { RETRY_PAUSE }).await;
    }
}

/// Sends one batch, store by store; what fails goes back to the tally. `true` if all was sent.
async fn send_batch(
    env: &Env,
    batch: BTreeMap<(String, String, String), i64>,
    request_id: &str,
) -> bool {
    let mut by_store: BTreeMap<String, Vec<Count>> = BTreeMap::new();
    for ((store, day, metric), n) in batch {
        by_store
            .entry(store)
            .or_default()
            .push(Count { day, metric, n });
    }
    let mut all_sent = true;
    for (store, counts) in by_store {
        if let Err(e) = send(env, &store, &counts).await {
            all_sent = false;
            let line = EventLog {
                level: Level::Error,
                msg: "funnel counts not sent; kept for the next flush",
                request_id,
                detail: e.log_detail(),
            }
            .to_line();
            worker::console_error!("{line}");
            PENDING.with(|p| {
                let mut p = p.borrow_mut();
                for c in counts {
                    *p.entry((store.clone(), c.day, c.metric)).or_default() += c.n;
                }
            });
        }
    }
    all_sent
}

async fn send(env: &Env, store: &str, counts: &[Count]) -> Result<(), Error> {
    let body = serde_json::to_string(counts).map_err(Error::internal)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init("https://funnel/add", &init).map_err(Error::internal)?;
    let res = stub(env, store)?
        .fetch_with_request(req)
        .await
        .map_err(|e| Error::internal(format!("funnel: {e}")))?;
    match res.status_code() {
        204 => Ok(()),
        s => Err(Error::internal(format!("funnel answered {s}"))),
    }
}

/// The counters of `store` from `from` to `to` (days, inclusive).
pub async fn counts(env: &Env, store: &str, from: &str, to: &str) -> Result<Vec<Count>, Error> {
    let url = format!("https://funnel/counts?from={from}&to={to}");
    let mut res = stub(env, store)?
        .fetch_with_str(&url)
        .await
        .map_err(|e| Error::internal(format!("funnel: {e}")))?;
    res.json()
        .await
        .map_err(|e| Error::internal(format!("funnel: {e}")))
}
