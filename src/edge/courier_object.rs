//! The `Courier` Durable Object: one per feed endpoint, the one place a delivery's HTTP request
//! is made, under one deadline for the whole exchange and without following redirects. A fetch
//! that fails before any answer (DNS, connection refused) leaves workerd with a promise
//! rejection of its own that no code can await; inside a queue handler that marks the whole
//! invocation failed, and the queue then redelivers every message of the batch, acked or not —
//! duplicates that multiply with each retry. Here it only costs a log line, and the consumer
//! gets a plain answer. An object serves several deliveries at once (each waits on the network,
//! not on storage).

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, AbortController, Delay, DurableObject, Env, Fetch, Headers, Method, Request,
    RequestInit, RequestRedirect, Response, State,
};

use crate::feed::retry::reason;

/// How much of a receiver's answer is read before it is dropped.
const ANSWER_READ_MAX: usize = 4096;

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
            // A 3xx is answered as it is: the signed event, with the shopper's channel ids,
            // never goes on to an address nobody registered.
            .with_redirect(RequestRedirect::Manual)
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
    // One deadline for the whole exchange: the headers and the first ANSWER_READ_MAX bytes of
    // the body. A receiver that trickles its answer is cut off like one that never answers.
    let exchange = Box::pin(async {
        let mut response = Fetch::Request(request).send_with_signal(&signal).await?;
        let status = response.status_code();
        if let Ok(mut body) = response.stream() {
            let mut read = 0;
            while read < ANSWER_READ_MAX {
                match body.next().await {
                    Some(Ok(chunk)) => read += chunk.len(),
                    _ => break,
                }
            }
        }
        Ok::<u16, worker::Error>(status)
    });
    let timer = Box::pin(Delay::from(Duration::from_millis(outgoing.timeout_ms)));
    let (status, reason) = match select(exchange, timer).await {
        Either::Left((Ok(status), _)) => (Some(status), reason(status)),
        Either::Left((Err(_), _)) => (None, "network error".to_owned()),
        Either::Right(_) => (None, "timeout".to_owned()),
    };
    // Whatever is left of the answer is dropped, and a request still running is cancelled.
    controller.abort();
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
