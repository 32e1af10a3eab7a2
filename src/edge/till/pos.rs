//! The cashier API (bearer POS key): `POST /api/pos/scan` shows the member and their coupons,
//! `POST /api/pos/redeem` redeems one through the store's `Till` object and the member's object.

use std::cell::RefCell;

use serde::Deserialize;
use serde_json::json;
use worker::{Date, Env};

use crate::edge::admin::json_body;
use crate::edge::funnel;
use crate::edge::members;
use crate::edge::runtime::cache::{self, Snapshot};
use crate::edge::runtime::env;
use crate::edge::runtime::kv::{self, get_json};
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::codes::{Barcode, CodeError};
use optin_core::coupons::Coupon;
use optin_core::error::Error;
use optin_core::funnel::stats;
use optin_core::ids::{CouponId, StoreId, TillId};
use optin_core::lang::Lang;
use optin_core::members::{Answer, Request as Ask};
use optin_core::settings::secrets::SigningKeys;
use optin_core::till::pos_keys::{key_id, pos_key_key, Cached, KeyCache, PosKeyRecord};
use optin_core::till::redemptions::{Attempt, CouponTerms, Outcome, Refusal};
use optin_core::till::scan::{self, till_redemption};
use optin_core::till::transactions::{TillAnswer, TillRequest};
use optin_core::time::format_rfc3339;

/// The longest scanned text looked at (a barcode is at most 90 characters).
const MAX_CODE_CHARS: usize = 200;

thread_local! {
    static KEYS: RefCell<KeyCache> = RefCell::new(KeyCache::default());
}

fn unauthorized() -> Error {
    Error::Unauthorized {
        code: "unauthorized",
    }
}

/// The POS key of the request, in force: its record (the store the till belongs to).
async fn require_pos_key(call: &Call<'_>, now_ms: u64) -> Result<PosKeyRecord, Error> {
    let header = call.header("authorization").ok_or_else(unauthorized)?;
    let text = optin_core::auth::bearer_token(&header).ok_or_else(unauthorized)?;
    let id = key_id(text).ok_or_else(unauthorized)?;
    // Before any storage read: a leaked or guessed key id costs at most the limit.
    crate::edge::runtime::limits::check(call.env, crate::edge::runtime::limits::POS, id).await?;
    let record = match KEYS.with(|k| k.borrow().get(id, now_ms)) {
        Cached::Known(r) => Some(r),
        Cached::Unknown => None,
        Cached::Miss => {
            let r = get_json::<PosKeyRecord>(&call.kv()?, &pos_key_key(id)).await?;
            KEYS.with(|k| k.borrow_mut().put(id, r.clone(), now_ms));
            r
        }
    };
    record.filter(|r| r.accepts(text)).ok_or_else(unauthorized)
}

/// Forgets a key record held in this isolate (after a revocation).
pub fn forget_key(id: &str) {
    KEYS.with(|k| k.borrow_mut().forget(id));
}

/// Verifies a scanned text: keyboard-wedge scanners may send it in lower case or with spaces.
fn verify_code(keys: &SigningKeys, raw: &str, now_ms: u64) -> Result<Barcode, Error> {
    let invalid = |message: &str| Error::unprocessable("invalid_code", message);
    if raw.chars().count() > MAX_CODE_CHARS {
        return Err(invalid("This is not a member or coupon barcode."));
    }
    let text: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    Barcode::verify(keys, &text, now_ms / 1000).map_err(|e| match e {
        CodeError::Expired => {
            invalid("This barcode has expired: ask the member to open their card again.")
        }
        CodeError::NotYetValid => invalid("This barcode is dated in the future: it is refused."),
        _ => invalid("This is not a member or coupon barcode of ours (or it was misread)."),
    })
}

fn unknown_member() -> Error {
    Error::Unknown {
        code: "unknown_member",
        message: "No such member: the membership was ended or never existed.".into(),
    }
}

/// `GET /api/pos/whoami`: the store (with its name in the till's language) and the key a POS
/// key stands for, so the till page can check a key when it is entered, not at the first scan.
pub async fn whoami(call: &Call<'_>) -> Result<Outgoing, Error> {
    let now_ms = Date::now().as_millis();
    let key = require_pos_key(call, now_ms).await?;
    let lang = Lang::negotiate(None, call.header("accept-language").as_deref(), Lang::En);
    let snapshot = cache::snapshot(call.env, now_ms).await?;
    let name = snapshot
        .stores
        .get(&key.store_id)
        .map(|s| s.name(lang).to_owned());
    let mut body = json!({ "store_id": key.store_id, "store_name": name, "key_id": key.id });
    if let Some(label) = &key.label {
        body["label"] = label.as_str().into();
    }
    Ok(respond::json(200, &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanInput {
    code: String,
    #[serde(default)]
    lang: Option<String>,
}

/// `POST /api/pos/scan`
pub async fn scan(mut call: Call<'_>) -> Result<Outgoing, Error> {
    let now_ms = Date::now().as_millis();
    let key = require_pos_key(&call, now_ms).await?;
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let input: ScanInput = json_body(&mut call).await?;
    let lang = match input.lang.as_deref() {
        // Exactly the codes (`Lang::parse` also reads `en-US` and the like, for headers).
        Some(l) => Lang::ALL
            .into_iter()
            .find(|x| x.code() == l)
            .ok_or_else(|| Error::unprocessable("invalid_lang", "`lang` is one of ja, en, fr."))?,
        None => Lang::negotiate(None, call.header("accept-language").as_deref(), Lang::En),
    };
    let barcode = verify_code(keys, &input.code, now_ms)?;
    let (member, snapshot) = futures_util::join!(
        members::ask(call.env, barcode.member, &Ask::Get),
        cache::snapshot(call.env, now_ms),
    );
    let member = match member? {
        Answer::Member { member } => member,
        _ => return Err(unknown_member()),
    };
    let snapshot = snapshot?;
    let view = scan::view(
        &member,
        barcode.coupon.as_ref(),
        &snapshot.coupons,
        &snapshot.stores,
        &key.store_id,
        now_ms,
        barcode.expires_at * 1000,
        lang,
    );
    Ok(respond::json(200, &view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeemInput {
    code: String,
    coupon_id: String,
    transaction_id: String,
    register_id: String,
}

fn till_id(field: &'static str, code: &'static str, raw: &str) -> Result<TillId, Error> {
    TillId::parse(raw).map_err(|why| Error::unprocessable(code, format!("`{field}` is {why}.")))
}

/// The coupon, from the isolate's snapshot, else from KV (one created moments ago).
async fn coupon(env: &Env, snapshot: &Snapshot, id: &CouponId) -> Result<Coupon, Error> {
    if let Some(c) = snapshot.coupons.get(id) {
        return Ok(c.clone());
    }
    let kv = kv::namespace(env)?;
    get_json::<Coupon>(&kv, &optin_core::coupons::coupon_key(id))
        .await?
        .ok_or_else(|| Error::Unknown {
            code: "unknown_coupon",
            message: format!("There is no coupon `{id}`."),
        })
}

/// `POST /api/pos/redeem`
pub async fn redeem(mut call: Call<'_>) -> Result<Outgoing, Error> {
    let now_ms = Date::now().as_millis();
    let key = require_pos_key(&call, now_ms).await?;
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let input: RedeemInput = json_body(&mut call).await?;
    let transaction = till_id(
        "transaction_id",
        "invalid_transaction_id",
        &input.transaction_id,
    )?;
    let register = till_id("register_id", "invalid_register_id", &input.register_id)?;
    let coupon_id = CouponId::parse(&input.coupon_id).map_err(|why| Error::Unknown {
        code: "unknown_coupon",
        message: format!("There is no such coupon: {why}."),
    })?;
    let barcode = verify_code(keys, &input.code, now_ms)?;
    if barcode.coupon.as_ref().is_some_and(|c| *c != coupon_id) {
        return Err(Error::unprocessable(
            "coupon_mismatch",
            "This barcode is another coupon's: scan the member's card or this coupon's barcode.",
        ));
    }
    let snapshot = cache::snapshot(call.env, now_ms).await?;
    let coupon = coupon(call.env, &snapshot, &coupon_id).await?;
    let attempt = Attempt {
        coupon: CouponTerms::from(&coupon),
        store: key.store_id.clone(),
        register,
        transaction,
        pos_key_id: Some(key.id.clone()),
        offline_at_ms,
    };
    let transaction = attempt.transaction.clone();
    let request = TillRequest::Redeem {
        member: barcode.member,
        attempt,
    };
    let answer = ask_till(call.env, &key.store_id, &request).await?;
    let outcome = match answer {
        TillAnswer::KeyRevoked => {
            forget_key(&key.id);
            return Err(unauthorized());
        }
        TillAnswer::TransactionConflict => {
            return Err(Error::Conflict {
                code: "transaction_conflict",
                message: format!(
                    "Transaction {} was used for another member: start a new transaction.",
                    transaction.as_str()
                ),
            })
        }
        TillAnswer::Member {
            answer: Answer::Redemption { result },
        } => result,
        TillAnswer::Member { .. } | TillAnswer::Done => return Err(unknown_member()),
    };
    match outcome {
        Outcome::Redeemed { redemption } => {
            funnel::count_for_store(
                call.env,
                call.ctx,
                &snapshot.stores,
                Some(&key.store_id),
                now_ms,
                stats::REDEMPTION,
                call.request_id,
            );
            Ok(respond::json(
                200,
                &json!({ "redemption": redemption.to_json() }),
            ))
        }
        Outcome::Replayed { redemption } => Ok(respond::json(
            200,
            &json!({ "redemption": redemption.to_json() }),
        )
        .with_headers(&[("idempotent-replayed", "true")])),
        Outcome::Refused(Refusal::AlreadyRedeemed { first }) => {
            let at = till_redemption(&first);
            Ok(respond::json(
                409,
                &json!({ "error": {
                    "code": "already_redeemed",
                    "message": format!(
                        "Already redeemed on {} at store {}, register {}.",
                        at.redeemed_at, at.store_id, at.register_id
                    ),
                    "redeemed_at": at.redeemed_at,
                    "store_id": at.store_id,
                    "register_id": at.register_id,
                }}),
            ))
        }
        Outcome::Refused(refusal) => Err(Error::unprocessable(
            refusal.code(),
            refusal_message(&refusal, &coupon),
        )),
    }
}

fn refusal_message(refusal: &Refusal, coupon: &Coupon) -> String {
    match refusal {
        Refusal::Expired => format!(
            "This coupon ended on {}.",
            format_rfc3339(coupon.valid_until_ms)
        ),
        Refusal::NotYetValid => format!(
            "This coupon starts on {}.",
            format_rfc3339(coupon.valid_from_ms)
        ),
        Refusal::NotValidHere => "This coupon is not valid at this store.".into(),
        Refusal::ConsentWithdrawn => {
            "This coupon is for members who receive our messages; this member stopped them.".into()
        }
        Refusal::AlreadyRedeemed { .. } => "Already redeemed.".into(),
    }
}

pub async fn ask_till(
    env: &Env,
    store: &StoreId,
    request: &TillRequest,
) -> Result<TillAnswer, Error> {
    crate::edge::runtime::objects::call(env, "TILLS", store.as_str(), request).await
}
