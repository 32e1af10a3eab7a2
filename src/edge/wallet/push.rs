//! APNs pushes for pass updates: `POST {APNS_BASE}/3/device/{push token}`, topic the Pass
//! Type ID, body `{}` (Apple, "Adding a Web Service to Update Passes": the push carries no
//! message; the device then asks the web service what changed).
//!
//! What a Worker can do here (read 2026-12-03): APNs for passes authenticates with the Pass
//! Type ID certificate as a TLS client certificate, and speaks HTTP/2 only. Workers present a
//! client certificate through an mTLS certificate binding (`[[mtls_certificates]]`, binding
//! `APNS_CERT`: `wrangler mtls-certificate upload`); it exists only deployed or under
//! `wrangler dev --remote`. Whether a Worker's subrequest reaches APNs over HTTP/2 is not
//! documented by Cloudflare. So the push goes through `APNS_CERT` when it is bound, else a
//! plain fetch (the local stand-in in tests; APNs itself refuses it), and every outcome is
//! what APNs answered: a push counts as sent only on its 200, a failure is logged with the
//! status and reason and tried again, never reported as delivered.

use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::edge::runtime::glue;
use optin_core::log::{EventLog, Level};
use optin_core::wallet::PushOutcome;

/// Pushes to one device; logs what APNs answered.
pub async fn push(env: &Env, apns_base: &str, topic: &str, push_token: &str) -> PushOutcome {
    let url = format!("{apns_base}/3/device/{push_token}");
    let answer = match glue::apns_push(env, &url, topic) {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let mut parts = answer.splitn(3, '\n');
    let status: u16 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let via = parts.next().unwrap_or("fetch");
    let reason = parts.next().unwrap_or("");
    let outcome = match (status, reason) {
        (200, _) => PushOutcome::Accepted,
        (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => PushOutcome::Gone,
        _ => PushOutcome::Failed,
    };
    let (level, msg) = match outcome {
        PushOutcome::Accepted => (Level::Info, "wallet push accepted"),
        PushOutcome::Gone => (Level::Info, "wallet push token gone"),
        PushOutcome::Failed => (Level::Error, "wallet push failed"),
    };
    let line = EventLog {
        level,
        msg,
        request_id: "",
        detail: Some(
            format!("status {status} via {via} {reason}")
                .trim_end()
                .to_owned(),
        ),
    }
    .to_line();
    if level == Level::Error {
        worker::console_error!("{line}");
    } else {
        worker::console_log!("{line}");
    }
    outcome
}
