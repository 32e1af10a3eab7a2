//! Calling a Durable Object with a JSON request and reading its JSON answer (by RPC), and
//! answering such calls in the object.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::edge::runtime::glue;
use optin_core::error::Error;

/// Sends `request` as JSON to the object named `name` of the namespace bound as `binding`, by
/// RPC (its `ask` method, [`answer_calls!`]), in one crossing ([`glue::call_object`]). RPC,
/// not `fetch`: no `Request`, `Headers` or `Response` on either side, no body stream to read;
/// the JSON text is the whole message.
///
/// # Errors
/// [`Error::Storage`] when the object cannot be reached, fails, or answers anything but JSON.
pub async fn call<T: DeserializeOwned>(
    env: &Env,
    binding: &str,
    name: &str,
    request: &impl Serialize,
) -> Result<T, Error> {
    let fail = |e: wasm_bindgen::JsValue| Error::Storage {
        cause: format!("{binding} object: {}", describe(&e)),
    };
    let body = serde_json::to_string(request).map_err(Error::internal)?;
    let promise = glue::call_object(env, binding, name, &body).map_err(fail)?;
    let answer = JsFuture::from(promise).await.map_err(fail)?;
    let Some(text) = answer.as_string() else {
        return Err(Error::Storage {
            cause: format!("{binding} object answered no text"),
        });
    };
    serde_json::from_str(&text).map_err(|e| Error::Storage {
        cause: format!("{binding} object: {e}"),
    })
}

/// A thrown JavaScript value as text: an `Error`'s message, or its debug form.
pub fn describe(e: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast as _;
    e.dyn_ref::<js_sys::Error>()
        .map_or_else(|| format!("{e:?}"), |e| String::from(e.message()))
}

/// What an object's handler answers: the JSON of its answer, or a failure (which the caller
/// reads as [`Error::Storage`]).
pub type Answered = worker::Result<String>;

/// An answer as JSON.
///
/// # Errors
/// When `value` cannot be serialized (a map with non-string keys, say).
pub fn json(value: &impl Serialize) -> Answered {
    serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// Runs an object's handler on the JSON `body` of a call: the RPC method `ask` that
/// [`answer_calls!`] adds, and the object's `fetch`. A body that is not the request's JSON is
/// refused without reaching the handler.
///
/// # Errors
/// The refusal, or the handler's failure.
pub async fn handle<T, F, Fut>(body: &str, handler: F) -> Answered
where
    T: DeserializeOwned,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Answered>,
{
    let request = serde_json::from_str(body)
        .map_err(|e| worker::Error::RustError(format!("bad request: {e}")))?;
    handler(request).await
}

/// The RPC method's result: the answer's text, or a thrown `Error` with the failure's message.
pub fn settle(answered: Answered) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
    answered
        .map(|text| wasm_bindgen::JsValue::from_str(&text))
        .map_err(|e| js_sys::Error::new(&e.to_string()).into())
}

/// The `fetch` of an object: the same handler over HTTP (200 with the JSON answer; a refusal or
/// failure is a 500 with its message). Nothing of ours calls it ([`call`] uses RPC); it keeps
/// the object readable by a plain HTTP client.
///
/// # Errors
/// When the body cannot be read or the response built.
pub async fn fetch_answer<T, F, Fut>(
    req: &mut worker::Request,
    handler: F,
) -> worker::Result<worker::Response>
where
    T: DeserializeOwned,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Answered>,
{
    let body = req.text().await?;
    match handle(&body, handler).await {
        Ok(text) => {
            let headers = worker::Headers::new();
            headers.set("content-type", "application/json")?;
            Ok(worker::Response::ok(text)?.with_headers(headers))
        }
        Err(e) => worker::Response::error(e.to_string(), 500),
    }
}

/// Answers a call at once when `answering` completes on its first poll (a member's redemption
/// or read: SQLite is synchronous), else by a Promise that the executor drives. At once is what
/// saves the Promise, its task and a microtask on each side of the crossing.
///
/// # Errors
/// [`settle`]'s thrown `Error` (the caller's RPC call rejects with it either way).
pub fn answer_now<F>(answering: F) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>
where
    F: std::future::Future<Output = Answered> + 'static,
{
    use std::task::{Context, Poll, Waker};
    let mut answering = Box::pin(answering);
    // Polled again by the executor with its own waker if pending: any waker will do here.
    match answering
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(answered) => settle(answered),
        Poll::Pending => {
            Ok(
                wasm_bindgen_futures::future_to_promise(async move { settle(answering.await) })
                    .into(),
            )
        }
    }
}

/// Adds the RPC method `ask(body)` to a Durable Object class: the method [`call`] invokes on
/// its stub (`entry.js` makes each class extend `DurableObject`, which RPC needs). `$handler`
/// is the object's `async fn(&self, Request) -> Answered`; with `shared $field.$handler`, the
/// handler is on the state the class holds in an `Rc` in `$field`, and a call that completes at
/// once is answered at once ([`answer_now`]).
macro_rules! answer_calls {
    ($object:ty, shared $field:ident . $handler:ident) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $object {
            /// One call ([`crate::edge::runtime::objects::call`]): the request's JSON in, the
            /// answer's JSON out, at once when the handler needs no await.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = ask)]
            pub fn ask_rpc(
                &self,
                body: String,
            ) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
                let state = std::rc::Rc::clone(&self.$field);
                $crate::edge::runtime::objects::answer_now(async move {
                    $crate::edge::runtime::objects::handle(&body, |r| state.$handler(r)).await
                })
            }
        }
    };
    ($object:ty, $handler:ident) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $object {
            /// One call ([`crate::edge::runtime::objects::call`]): the request's JSON in, the
            /// answer's JSON out.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = ask)]
            pub async fn ask_rpc(
                &self,
                body: String,
            ) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
                $crate::edge::runtime::objects::settle(
                    $crate::edge::runtime::objects::handle(&body, |r| self.$handler(r)).await,
                )
            }
        }
    };
}
pub(crate) use answer_calls;

/// The JSON request of a plain `fetch` to an object (the `Funnel`'s, which is called by path),
/// or a 400 to answer with. Read as text and parsed in Rust: `worker::Request::json` parses in
/// JavaScript, then walks the result across the boundary one property at a time.
///
/// # Errors
/// The runtime's error when the body cannot be read.
pub async fn read_request<T: DeserializeOwned>(
    req: &mut worker::Request,
) -> worker::Result<Result<T, worker::Response>> {
    let text = req.text().await?;
    match serde_json::from_str(&text) {
        Ok(request) => Ok(Ok(request)),
        Err(e) => Ok(Err(worker::Response::error(
            format!("bad request: {e}"),
            400,
        )?)),
    }
}
