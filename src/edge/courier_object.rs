//! The `Courier` Durable Object: one per feed endpoint, the one place a delivery's HTTP request
//! is made. A fetch that fails before any answer (DNS, connection refused) leaves workerd with
//! a promise rejection of its own that no code can await; inside a queue handler that marks the
//! whole invocation failed, and the queue then redelivers every message of the batch, acked or
//! not — duplicates that multiply with each retry. Here it only costs a log line, and the
//! consumer gets a plain answer. One object per endpoint also keeps a receiver's deliveries in
//! one line.

use std::time::Duration;

use futures_util::future::{select, Either};
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, AbortController, Delay, DurableObject, Env, Fetch, Headers, Method, Request,
    RequestInit, Response, State,
};

/// The binding of the couriers.
pub const COURIERS: &str = "COURIERS";

/// A request to make.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub timeout_ms: u64,
}

/// How it went: the status, or none and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Posted {
    pub status: Option<u16>,
    pub reason: String,
}

#[durable_object]
pub struct Courier {
    #[allow(dead_code)]
    state: State,
}

async fn post(outgoing: &Outgoing) -> Posted {
    let request = (|| -> worker::Result<Request> {
        let headers = Headers::new();
        for (k, v) in &outgoing.headers {
            headers.set(k, v)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(
                js_sys::Uint8Array::from(outgoing.body.as_bytes()).into(),
            ));
        Request::new_with_init(&outgoing.url, &init)
    })();
    let Ok(request) = request else {
        return Posted {
            status: None,
            reason: "request could not be built".into(),
        };
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sent = Box::pin(fetch.send_with_signal(&signal));
    let timer = Box::pin(Delay::from(Duration::from_millis(outgoing.timeout_ms)));
    let (status, reason) = match select(sent, timer).await {
        Either::Left((Ok(mut response), _)) => {
            let status = response.status_code();
            // Read (and drop) the answer, so the connection can be reused.
            let _ = response.bytes().await;
            (Some(status), format!("HTTP {status}"))
        }
        Either::Left((Err(_), _)) => (None, "network error".to_owned()),
        Either::Right(_) => (None, "timeout".to_owned()),
    };
    if reason == "timeout" {
        controller.abort();
    }
    Posted { status, reason }
}

impl DurableObject for Courier {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let outgoing: Outgoing = match super::objects::read_request(&mut req).await? {
            Ok(o) => o,
            Err(bad) => return Ok(bad),
        };
        Response::from_json(&post(&outgoing).await)
    }
}
