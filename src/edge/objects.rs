//! Calling a Durable Object with a JSON request and reading its JSON answer.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit};

use crate::error::Error;

/// POSTs `request` as JSON to the object named `name` of the namespace bound as `binding`.
///
/// # Errors
/// [`Error::Storage`] when the object cannot be reached or answers anything but 200 with JSON.
pub async fn call<T: DeserializeOwned>(
    env: &Env,
    binding: &str,
    name: &str,
    request: &impl Serialize,
) -> Result<T, Error> {
    let fail = |e: worker::Error| Error::Storage {
        cause: format!("{binding} object: {e}"),
    };
    let namespace = env.durable_object(binding).map_err(fail)?;
    let stub = namespace
        .id_from_name(name)
        .and_then(|id| id.get_stub())
        .map_err(fail)?;
    let body = serde_json::to_string(request).map_err(Error::internal)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init("https://object/", &init).map_err(fail)?;
    let mut res = stub.fetch_with_request(req).await.map_err(fail)?;
    if res.status_code() != 200 {
        return Err(Error::Storage {
            cause: format!("{binding} object answered {}", res.status_code()),
        });
    }
    res.json().await.map_err(fail)
}
