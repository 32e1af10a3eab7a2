//! Calling a Durable Object with a JSON request and reading its JSON answer, and reading that
//! request in the object.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::edge::runtime::glue;
use optin_core::error::Error;

/// POSTs `request` as JSON to the object named `name` of the namespace bound as `binding`, in
/// one crossing ([`glue::call_object`]; `worker`'s stub, request and response wrappers cross
/// for each part, and read the answer chunk by chunk through a stream reader).
///
/// # Errors
/// [`Error::Storage`] when the object cannot be reached or answers anything but 200 with JSON.
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
            cause: format!(
                "{binding} object answered {}",
                answer.as_f64().unwrap_or_default()
            ),
        });
    };
    serde_json::from_str(&text).map_err(|e| Error::Storage {
        cause: format!("{binding} object: {e}"),
    })
}

/// A thrown JavaScript value as text: an `Error`'s message, or its debug form.
fn describe(e: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast as _;
    e.dyn_ref::<js_sys::Error>()
        .map_or_else(|| format!("{e:?}"), |e| String::from(e.message()))
}

/// The JSON request a Durable Object was sent ([`call`]), or a 400 to answer with. Read as text
/// and parsed in Rust: `worker::Request::json` parses in JavaScript, then walks the result
/// across the boundary one property at a time (`serde_wasm_bindgen`), which costs more and
/// compiles one more deserializer per request type.
///
/// # Errors
/// The 400 answer when the body is not this type's JSON; the runtime's error when the body
/// cannot be read.
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
