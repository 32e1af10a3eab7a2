//! Request handlers: short functions from a resolved route to a response.

use serde_json::json;
use worker::Response;

use super::{admin, env, ledger_store, respond, shopper, webhooks, Call};
use crate::consent::{derive_state, Channel, Subject};
use crate::error::Error;
use crate::routes::Route;

/// Runs the handler of a resolved route.
pub async fn handle(route: Route, call: Call<'_>) -> Result<Response, Error> {
    match route {
        Route::Healthz => Ok(healthz()),
        Route::AdminConfig => admin_config(&call),
        Route::AdminConsent => admin_consent(&call).await,
        Route::LineWebhook => webhooks::line(call).await,
        Route::MetaHandshake => webhooks::meta_handshake(&call),
        Route::MetaWebhook => webhooks::meta(call).await,
        Route::Landing(id) => shopper::landing(&call, &id).await,
        Route::Privacy => shopper::privacy(&call, None).await,
        Route::PrivacyVersion(v) => shopper::privacy(&call, Some(&v)).await,
        Route::AdminStores => admin::list_stores(&call).await,
        Route::AdminStorePut(id) => admin::put_store(call, &id).await,
        Route::AdminPoster(id, format) => admin::poster(&call, &id, format).await,
        Route::AdminNotices => admin::list_notices(&call).await,
        Route::AdminNoticePut(v) => admin::put_notice(call, &v).await,
        Route::AdminNoticeActivate(v) => admin::activate_notice(&call, &v).await,
        Route::AdminStats => admin::stats(&call).await,
    }
}

fn healthz() -> Response {
    respond::json(200, &json!({ "status": "ok" }))
}

/// Which settings are set, missing or invalid; never a value. For operators checking a deploy.
fn admin_config(call: &Call<'_>) -> Result<Response, Error> {
    let config = env::config(call.env);
    admin::require_admin(call, &config)?;
    let report: serde_json::Map<String, serde_json::Value> = config
        .report(|name| env::lookup(call.env, name))
        .into_iter()
        .map(|(name, status)| (name.to_owned(), status.into()))
        .collect();
    Ok(respond::json(200, &json!({ "settings": report })))
}

/// A subject's current state and full history: the evidence of Art. 7(1) GDPR.
async fn admin_consent(call: &Call<'_>) -> Result<Response, Error> {
    let config = env::config(call.env);
    admin::require_admin(call, &config)?;
    let url = call.req.url().map_err(Error::internal)?;
    let query = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let channel = query("channel")
        .as_deref()
        .and_then(Channel::parse)
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_channel",
                "`channel` is one of line, whatsapp, messenger, instagram.",
            )
        })?;
    let user_id = query("subject")
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or_else(|| {
            Error::bad_request("invalid_subject", "`subject` is the channel's user id.")
        })?;
    let subject = Subject::new(channel, user_id);
    let pseudonym_key = config.pseudonym_key.require("PSEUDONYM_KEY")?;
    let kv = call.env.kv("KV").map_err(Error::internal)?;
    let (member, events) =
        ledger_store::history(&kv, pseudonym_key.expose().as_bytes(), &subject).await?;
    let state = derive_state(events.iter().map(|e| (e.occurred_at_ms, e.action)));
    Ok(respond::json(
        200,
        &json!({
            "subject": subject,
            "purpose": crate::consent::PURPOSE_MARKETING,
            "state": state,
            "member_number": member,
            "events": events,
        }),
    ))
}
