//! Google Wallet: the member's loyalty object and its class, the "Add to Google Wallet" JWT,
//! and the service account's OAuth grant. Sources (read 2026-12-03): Google Wallet API
//! reference, `Jwt` (`iss` the service account's `client_email`, `aud` `google`, `typ`
//! `savetowallet`, `origins`, `payload.loyaltyObjects` / `loyaltyClasses`, RS256), `LoyaltyObject`
//! (`id` `{issuerId}.{suffix}` of `[A-Za-z0-9._-]`, `classId`, `state`, `accountId`, `barcode`),
//! `loyaltyobject.patch`; "Using OAuth 2.0 for Server to Server Applications" (`scope`, `aud` the
//! token URL, `exp` at most an hour after `iat`, grant type `jwt-bearer`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::images::BRAND_HEX;
use super::PassContent;
use crate::lang::Lang;

/// Where a signed JWT saves the object.
pub const SAVE_URL: &str = "https://pay.google.com/gp/v/save/";
/// The scope of the Wallet REST API.
pub const SCOPE: &str = "https://www.googleapis.com/auth/wallet_object.issuer";
/// The longest a grant's assertion lives (Google's limit is an hour).
pub const ASSERTION_SECS: u64 = 3600;

/// The class every member's object belongs to.
pub fn class_id(issuer_id: &str) -> String {
    format!("{issuer_id}.members")
}

/// The member's object id (the serial number, as for Apple).
pub fn object_id(issuer_id: &str, serial: &str) -> String {
    format!("{issuer_id}.member-{serial}")
}

/// What the object and its class are made of.
#[derive(Debug, Clone)]
pub struct ObjectInput<'a> {
    pub issuer_id: &'a str,
    pub organization: &'a str,
    pub serial: &'a str,
    /// `None`: erased; the object becomes inactive with nothing personal left in it.
    pub content: Option<&'a PassContent>,
    pub barcode: Option<&'a str>,
    pub card_url: Option<&'a str>,
    /// `{PUBLIC_BASE_URL}/wallet/logo.png`: the class's program logo.
    pub logo_url: &'a str,
    pub lang: Lang,
}

fn localized_string(text: &str, lang: Lang) -> Value {
    json!({ "defaultValue": { "language": lang.code(), "value": text } })
}

/// The loyalty class (created by the first save; Google reviews it).
pub fn loyalty_class(input: &ObjectInput<'_>) -> Value {
    json!({
        "id": class_id(input.issuer_id),
        "issuerName": input.organization,
        "programName": input.organization,
        "programLogo": {
            "sourceUri": { "uri": input.logo_url },
            "contentDescription": localized_string(input.organization, input.lang),
        },
        "hexBackgroundColor": BRAND_HEX,
        "reviewStatus": "UNDER_REVIEW",
    })
}

/// The member's loyalty object as it is now.
pub fn loyalty_object(input: &ObjectInput<'_>) -> Value {
    let id = object_id(input.issuer_id, input.serial);
    let class = class_id(input.issuer_id);
    let Some(content) = input.content else {
        // Sent whole (an update, not a patch), so nothing personal is left in the object.
        return json!({ "id": id, "classId": class, "state": "INACTIVE" });
    };
    let number = content.number.grouped();
    let store = content
        .favourite
        .as_ref()
        .map_or(String::new(), |s| s.name(input.lang).to_owned());
    let coupons: Vec<String> = content
        .coupons
        .iter()
        .map(|c| {
            c.title
                .get(input.lang.code())
                .or_else(|| c.title.values().next())
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let mut object = json!({
        "id": id,
        "classId": class,
        "state": "ACTIVE",
        "accountId": number,
        "accountName": number,
        "textModulesData": [
            { "id": "store", "header": labels(input.lang).0, "body": if store.is_empty() { "—".to_owned() } else { store } },
            { "id": "coupons", "header": labels(input.lang).1, "body": if coupons.is_empty() { "—".to_owned() } else { coupons.join("\n") } },
        ],
    });
    if let Some(text) = input.barcode {
        object["barcode"] = json!({ "type": "QR_CODE", "value": text, "alternateText": number });
    }
    if let Some(url) = input.card_url {
        object["linksModuleData"] =
            json!({ "uris": [{ "id": "card", "uri": url, "description": labels(input.lang).2 }] });
    }
    object
}

fn labels(lang: Lang) -> (&'static str, &'static str, &'static str) {
    match lang {
        Lang::Ja => ("お気に入りの店舗", "クーポン", "カード・データ・配信停止"),
        Lang::En => (
            "Favourite store",
            "Coupons",
            "Card, your data, stop messages",
        ),
        Lang::Fr => (
            "Magasin préféré",
            "Coupons",
            "Carte, vos données, arrêter les messages",
        ),
    }
}

/// The claims of the "Add to Google Wallet" JWT.
pub fn save_claims(client_email: &str, origin: &str, input: &ObjectInput<'_>, now: u64) -> Value {
    json!({
        "iss": client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": now,
        "origins": [origin],
        "payload": {
            "loyaltyClasses": [loyalty_class(input)],
            "loyaltyObjects": [loyalty_object(input)],
        },
    })
}

/// The claims of the JWT-bearer grant's assertion.
pub fn grant_claims(client_email: &str, token_url: &str, now: u64) -> Value {
    json!({
        "iss": client_email,
        "scope": SCOPE,
        "aud": token_url,
        "iat": now,
        "exp": now + ASSERTION_SECS,
    })
}

/// `base64url(header).base64url(claims)`: what RS256 signs.
pub fn signing_input(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    format!("{header}.{body}")
}

/// The signed JWT.
pub fn jwt(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The body of the token request.
pub fn grant_body(assertion: &str) -> String {
    form_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
        + "&"
        + &form_pair("assertion", assertion)
}

fn form_pair(k: &str, v: &str) -> String {
    let escape = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b => format!("%{b:02X}"),
            })
            .collect()
    };
    format!("{}={}", escape(k), escape(v))
}

/// An OAuth token answer: `(access_token, expires_in seconds)`.
pub fn parse_token(body: &[u8]) -> Option<(String, u64)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let token = v.get("access_token")?.as_str()?.to_owned();
    let expires = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
    Some((token, expires))
}
