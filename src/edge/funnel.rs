//! The `Funnel` Durable Object: per-store counters by day (landing views now; grants, cards and
//! redemptions join them later). One object per store, SQLite-backed, so concurrent views are
//! all counted (Workers KV allows about one write per second per key and would lose them).

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, SqlStorageValue,
    State,
};

use crate::error::Error;

/// One counter row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Count {
    pub day: String,
    pub metric: String,
    pub n: i64,
}

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
        let url = req.url()?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let sql = self.state.storage().sql();
        match (req.method(), url.path()) {
            (Method::Post, "/count") => {
                sql.exec(
                    "INSERT INTO counts (day, metric, n) VALUES (?, ?, 1) \
                     ON CONFLICT (day, metric) DO UPDATE SET n = n + 1",
                    vec![
                        SqlStorageValue::String(param("day")),
                        SqlStorageValue::String(param("metric")),
                    ],
                )?;
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

/// Adds one to `metric` of `store` on `day`.
pub async fn count(env: &Env, store: &str, day: &str, metric: &str) -> Result<(), Error> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::NULL));
    let url = format!("https://funnel/count?day={day}&metric={metric}");
    let req = Request::new_with_init(&url, &init).map_err(Error::internal)?;
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
