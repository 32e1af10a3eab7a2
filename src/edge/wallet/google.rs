//! Google Wallet at the edge: `GET /card/{card}/google-wallet` answers 303 to the save link
//! with the signed JWT; the member's object patches the loyalty object when the pass changes,
//! with an OAuth token from the service account's JWT-bearer grant, kept per isolate until a
//! minute before it expires.

use std::cell::RefCell;

use wasm_bindgen::JsValue;
use worker::{Fetch, Headers, Method, Request, RequestInit};

use super::{current, google_settings, sign, Current};
use crate::edge::members::card::member_lang;
use crate::edge::runtime::env;
use crate::edge::runtime::respond::{self, Outgoing};
use crate::edge::Call;
use optin_core::codes::CardRef;
use optin_core::error::Error;
use optin_core::lang::Lang;
use optin_core::settings::config::{Config, GoogleWallet};
use optin_core::settings::secrets::SigningKeys;
use optin_core::wallet::google::{self as g, ObjectInput};
use optin_core::wallet::keys::KeyKind;
use optin_core::wallet::serial;

thread_local! {
    /// `(access token, expires at ms)`.
    static TOKEN: RefCell<Option<(String, u64)>> = const { RefCell::new(None) };
}

/// What the object links to and carries, besides the pass's content.
struct Extras {
    barcode: Option<String>,
    card_url: Option<String>,
    logo_url: String,
}

impl Extras {
    fn of(config: &Config, keys: &SigningKeys, pass: &Current) -> Extras {
        let base = config.public_base_url.get().map_or("", String::as_str);
        Extras {
            barcode: pass.barcode(keys),
            card_url: pass.card_url(config, keys),
            logo_url: format!("{base}/wallet/logo.png"),
        }
    }
}

fn input<'a>(
    config: &'a Config,
    gw: &'a GoogleWallet,
    serial: &'a str,
    pass: &'a Current,
    extras: &'a Extras,
    lang: Lang,
) -> ObjectInput<'a> {
    ObjectInput {
        issuer_id: &gw.issuer_id,
        organization: config
            .controller_name
            .get()
            .map_or("Membership", String::as_str),
        serial,
        content: pass.content.as_ref(),
        barcode: extras.barcode.as_deref(),
        card_url: extras.card_url.as_deref(),
        logo_url: &extras.logo_url,
        lang,
    }
}

/// `GET /card/{card}/google-wallet`
pub async fn card_save(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let base = config.public_base_url.require("PUBLIC_BASE_URL")?;
    let number = CardRef::verify(keys, card)
        .map_err(|_| Error::NotFound)?
        .member;
    let gw = google_settings(call.env)?;
    let pass = current(call.env, number, true).await?;
    let Some(member) = pass.member.as_ref() else {
        return Err(Error::NotFound);
    };
    let lang = member_lang(call, &config, member);
    let serial = serial(number);
    let extras = Extras::of(&config, keys, &pass);
    let object = input(&config, &gw, &serial, &pass, &extras, lang);
    let now = worker::Date::now().as_millis() / 1000;
    let claims = g::save_claims(&gw.account.client_email, base, &object, now);
    let location = format!("{}{}", g::SAVE_URL, signed_jwt(gw.as_ref(), &claims).await?);
    Ok(respond::text_with(
        303,
        "text/plain; charset=utf-8",
        String::new(),
        &[("location", &location), ("referrer-policy", "no-referrer")],
    ))
}

/// `claims` as a JWT signed (RS256) by the service account.
async fn signed_jwt(gw: &GoogleWallet, claims: &serde_json::Value) -> Result<String, Error> {
    let signing_input = g::signing_input(claims);
    let signature = sign(
        "google",
        &gw.account.key_der(),
        KeyKind::Rsa,
        signing_input.as_bytes(),
    )
    .await?;
    Ok(g::jwt(&signing_input, &signature))
}

/// An access token for the Wallet API (cached until a minute before it expires).
async fn token(gw: &GoogleWallet) -> Result<String, String> {
    let now_ms = worker::Date::now().as_millis();
    if let Some((token, expires)) = TOKEN.with(|t| t.borrow().clone()) {
        if now_ms + 60_000 < expires {
            return Ok(token);
        }
    }
    let claims = g::grant_claims(&gw.account.client_email, &gw.token_url, now_ms / 1000);
    let assertion = signed_jwt(gw, &claims).await.map_err(|e| e.to_string())?;
    let body = g::grant_body(&assertion);
    let (status, answer) = send(
        &gw.token_url,
        Method::Post,
        "application/x-www-form-urlencoded",
        None,
        &body,
    )
    .await?;
    let (token, expires_in) = (status == 200)
        .then(|| g::parse_token(&answer))
        .flatten()
        .ok_or_else(|| format!("token endpoint answered {status}"))?;
    TOKEN.with(|t| *t.borrow_mut() = Some((token.clone(), now_ms + expires_in * 1000)));
    Ok(token)
}

async fn send(
    url: &str,
    method: Method,
    content_type: &str,
    bearer: Option<&str>,
    body: &str,
) -> Result<(u16, Vec<u8>), String> {
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set("content-type", content_type)?;
    if let Some(token) = bearer {
        set("authorization", &format!("Bearer {token}"))?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(body)));
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let mut response = Fetch::Request(request)
        .send()
        .await
        .map_err(|e| format!("fetch failed: {e}"))?;
    let bytes = response.bytes().await.unwrap_or_default();
    Ok((response.status_code(), bytes))
}

/// Patches the member's loyalty object to what the pass shows now (once void: replaces it with
/// an inactive object holding nothing personal).
/// `Ok(Some(true))` patched, `Ok(None)` the object does not exist (never saved), `Err` a
/// failure to retry.
pub async fn patch(
    config: &Config,
    gw: &GoogleWallet,
    keys: &SigningKeys,
    pass: &Current,
    serial: &str,
) -> Result<Option<bool>, String> {
    let extras = Extras::of(config, keys, pass);
    let lang = pass
        .member
        .as_ref()
        .and_then(|m| m.lang.as_deref())
        .and_then(Lang::parse)
        .unwrap_or(config.default_lang);
    let object = g::loyalty_object(&input(config, gw, serial, pass, &extras, lang));
    let token = token(gw).await?;
    let url = format!(
        "{}/walletobjects/v1/loyaltyObject/{}",
        gw.api_base,
        g::object_id(&gw.issuer_id, serial)
    );
    // A void object is sent whole (an update), so nothing personal stays; else a patch.
    let method = if pass.content.is_none() {
        Method::Put
    } else {
        Method::Patch
    };
    let (status, _) = send(
        &url,
        method,
        "application/json",
        Some(&token),
        &object.to_string(),
    )
    .await?;
    match status {
        200..=299 => Ok(Some(true)),
        404 => Ok(None),
        401 => {
            TOKEN.with(|t| *t.borrow_mut() = None);
            Err("the Wallet API refused the token (401)".into())
        }
        s => Err(format!("the Wallet API answered {s}")),
    }
}
