//! Sends the replies of a webhook after it has been answered (`ctx.wait_until`). A failed send
//! is logged (platform, status, request id: never a body or a token) and loses nothing: the
//! consent event was recorded before the response.

use wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit};

use optin_core::consent::replies::{Outbound, Platform};
use optin_core::log::{EventLog, Level};
use optin_core::settings::secrets::Secret;

/// The access tokens replies need; either may be missing (then those sends are logged as
/// configuration errors).
#[derive(Clone)]
pub struct Tokens {
    pub line: Option<Secret>,
    pub graph: Option<Secret>,
}

/// Sends every request in turn and logs each outcome.
pub async fn send_all(requests: Vec<Outbound>, tokens: Tokens, request_id: String) {
    for outbound in requests {
        let (token, setting, platform) = match outbound.platform {
            Platform::Line => (&tokens.line, "LINE_CHANNEL_ACCESS_TOKEN", "line"),
            Platform::Graph => (&tokens.graph, "META_ACCESS_TOKEN", "graph"),
        };
        let outcome = match token {
            None => Err(format!("config: {setting} missing; reply not sent")),
            Some(token) => send(&outbound, token).await,
        };
        let (level, msg, detail) = match outcome {
            Ok(status) if (200..300).contains(&status) => (Level::Info, "reply sent", None),
            Ok(status) => (
                Level::Error,
                "reply failed",
                Some(format!("{platform} answered {status}")),
            ),
            Err(cause) => (
                Level::Error,
                "reply failed",
                Some(format!("{platform}: {cause}")),
            ),
        };
        let line = EventLog {
            level,
            msg,
            request_id: &request_id,
            detail,
        }
        .to_line();
        if level == Level::Error {
            worker::console_error!("{line}");
        }
    }
}

async fn send(outbound: &Outbound, token: &Secret) -> Result<u16, String> {
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set("content-type", "application/json")?;
    set("authorization", &format!("Bearer {}", token.expose()))?;
    if let Some(key) = &outbound.retry_key {
        set("x-line-retry-key", key)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(&outbound.body.to_string())));
    let request = Request::new_with_init(&outbound.url, &init).map_err(|e| e.to_string())?;
    let response = Fetch::Request(request)
        .send()
        .await
        .map_err(|e| format!("fetch failed: {e}"))?;
    Ok(response.status_code())
}
