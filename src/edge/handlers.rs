//! Request handlers: short functions from a resolved route to a response.

use serde_json::json;
use worker::Response;

use super::{env, respond, Call};
use crate::auth;
use crate::error::Error;
use crate::routes::Route;

/// Runs the handler of a resolved route.
pub async fn handle(route: Route, call: Call<'_>) -> Result<Response, Error> {
    match route {
        Route::Healthz => Ok(healthz()),
        Route::AdminConfig => admin_config(&call),
    }
}

fn healthz() -> Response {
    respond::json(200, &json!({ "status": "ok" }))
}

/// Which settings are set, missing or invalid; never a value. For operators checking a deploy.
fn admin_config(call: &Call<'_>) -> Result<Response, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let report: serde_json::Map<String, serde_json::Value> = config
        .report(|name| env::lookup(call.env, name))
        .into_iter()
        .map(|(name, status)| (name.to_owned(), status.into()))
        .collect();
    Ok(respond::json(200, &json!({ "settings": report })))
}

fn require_admin(call: &Call<'_>, config: &crate::config::Config) -> Result<(), Error> {
    let token = config.admin_token.require("ADMIN_TOKEN")?;
    let header = call.req.headers().get("authorization").ok().flatten();
    auth::check_bearer(header.as_deref(), token)
}
