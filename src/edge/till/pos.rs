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
use optin_core::ids::{CouponId, MemberNumber, StoreId, TillId};
use optin_core::lang::Lang;
use optin_core::members::{Answer, Request as Ask};
use optin_core::settings::secrets::SigningKeys;
use optin_core::till::offline::{check_offline_at, refusal_status, Conflict, Queued};
use optin_core::till::pos_keys::{key_id, pos_key_key, Cached, KeyCache, PosKeyRecord};
use optin_core::till::redemptions::{Attempt, CouponTerms, Outcome, Refusal};
use optin_core::till::scan::{self, till_redemption};
use optin_core::till::transactions::{TillAnswer, TillRequest};
use optin_core::time::parse_rfc3339;

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
/// key stands for, so the till page can check a key when it is entered, not at the first scan;
/// and what the till needs to work offline: how many redemptions it may queue, how long they
/// stay acceptable, and the coupons it may have to name.
pub async fn whoami(call: &Call<'_>) -> Result<Outgoing, Error> {
    let now_ms = Date::now().as_millis();
    let key = require_pos_key(call, now_ms).await?;
    let lang = Lang::negotiate(None, call.header("accept-language").as_deref(), Lang::En);
    let info = TillRequest::KeyInfo {
        key_id: key.id.clone(),
    };
    let (snapshot, info) = futures_util::join!(
        cache::snapshot(call.env, now_ms),
        ask_till(call.env, &key.store_id, &info)
    );
    let offline_limit = match info? {
        TillAnswer::Key { revoked: true, .. } => {
            forget_key(&key.id);
            return Err(unauthorized());
        }
        TillAnswer::Key { offline_limit, .. } => offline_limit,
        other => return Err(Error::internal(format!("Till answered {other:?}"))),
    };
    let snapshot = snapshot?;
    let name = snapshot
        .stores
        .get(&key.store_id)
        .map(|s| s.name(lang).to_owned());
    let config = env::config(call.env);
    let coupons = scan::offline_catalogue(&snapshot.coupons, &key.store_id, now_ms, lang);
    let mut body = json!({
        "store_id": key.store_id,
        "store_name": name,
        "key_id": key.id,
        "offline_limit": offline_limit,
        "offline_max_hours": config.offline_max_hours,
        "coupons": coupons,
    });
    if let Some(label) = &key.label {
        body["label"] = label.as_str().into();
    }
    Ok(respond::json(200, &body).with_headers(&[("cache-control", "no-store")]))
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
    /// A redemption the till queued while offline: when it happened (RFC 3339).
    #[serde(default)]
    offline_at: Option<String>,
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

/// The refusal of a queued redemption the edge decides (its code and message from `err`): a
/// conflict, kept by the store's `Till` once, answered as kept. An online attempt: `err` itself.
async fn refuse(
    env: &Env,
    queued: Option<&Queued>,
    member: Option<MemberNumber>,
    err: Error,
    now_ms: u64,
) -> Result<Outgoing, Error> {
    let Some(q) = queued else { return Err(err) };
    let (code, message) = match &err {
        Error::Unprocessable { code, message }
        | Error::Unknown { code, message }
        | Error::Conflict { code, message } => (*code, message.clone()),
        _ => return Err(err),
    };
    let conflict = q.conflict(member, code, message, None, now_ms);
    let request = TillRequest::Conflict {
        conflict: Box::new(conflict),
    };
    match ask_till(env, &q.store, &request).await? {
        TillAnswer::Conflicted { conflict } => Ok(conflict_response(&conflict)),
        other => Err(Error::internal(format!("Till answered {other:?}"))),
    }
}

/// A conflict, answered as its refusal is (the usual status and code), with `conflict_id`.
fn conflict_response(conflict: &Conflict) -> Outgoing {
    let mut error = json!({
        "code": conflict.reason,
        "message": conflict.message,
        "conflict_id": conflict.id,
    });
    if let Some(first) = &conflict.first {
        let at = till_redemption(first);
        error["redeemed_at"] = at.redeemed_at.into();
        error["store_id"] = at.store_id.as_str().into();
        error["register_id"] = at.register_id.into();
    }
    respond::json(refusal_status(&conflict.reason), &json!({ "error": error }))
}

/// `POST /api/pos/redeem`
pub async fn redeem(mut call: Call<'_>) -> Result<Outgoing, Error> {
    let now_ms = Date::now().as_millis();
    let key = require_pos_key(&call, now_ms).await?;
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let input: RedeemInput = json_body(&mut call).await?;
    let offline_at_ms = match input.offline_at.as_deref() {
        None => None,
        Some(t) => Some(parse_rfc3339(t).ok_or_else(|| {
            Error::unprocessable(
                "invalid_offline_at",
                "`offline_at` is an RFC 3339 date-time (when the till redeemed it offline).",
            )
        })?),
    };
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
    let queued = offline_at_ms.map(|at| Queued {
        store: key.store_id.clone(),
        register: register.clone(),
        transaction: transaction.clone(),
        coupon: coupon_id.clone(),
        pos_key_id: Some(key.id.clone()),
        offline_at_ms: at,
    });
    let env = call.env;
    if let Some(q) = &queued {
        if let Err((code, message)) =
            check_offline_at(q.offline_at_ms, now_ms, config.offline_max_hours)
        {
            let err = Error::unprocessable(code, message);
            return refuse(env, Some(q), None, err, now_ms).await;
        }
    }
    // A queued redemption's code is checked as of the moment the till took it.
    let barcode = match verify_code(keys, &input.code, offline_at_ms.unwrap_or(now_ms)) {
        Ok(b) => b,
        Err(e) => return refuse(env, queued.as_ref(), None, e, now_ms).await,
    };
    let member = Some(barcode.member);
    if barcode.coupon.as_ref().is_some_and(|c| *c != coupon_id) {
        let err = Error::unprocessable(
            "coupon_mismatch",
            "This barcode is another coupon's: scan the member's card or this coupon's barcode.",
        );
        return refuse(env, queued.as_ref(), member, err, now_ms).await;
    }
    let snapshot = cache::snapshot(env, now_ms).await?;
    let coupon = match coupon(env, &snapshot, &coupon_id).await {
        Ok(c) => c,
        Err(e) => return refuse(env, queued.as_ref(), member, e, now_ms).await,
    };
    let attempt = Attempt {
        coupon: CouponTerms::from(&coupon),
        store: key.store_id.clone(),
        register,
        transaction,
        pos_key_id: Some(key.id.clone()),
        offline_at_ms,
    };
    let transaction = attempt.transaction.clone();
    let terms = attempt.coupon.clone();
    let request = TillRequest::Redeem {
        member: barcode.member,
        attempt,
    };
    let answer = ask_till(env, &key.store_id, &request).await?;
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
        TillAnswer::Conflicted { conflict } => return Ok(conflict_response(&conflict)),
        TillAnswer::Member {
            answer: Answer::Redemption { result },
        } => result,
        _ => return Err(unknown_member()),
    };
    match outcome {
        Outcome::Redeemed { redemption } => {
            // Counted on the day it happened (a queued one: the day the till took it).
            let count = |metric| {
                funnel::count_for_store(
                    env,
                    call.ctx,
                    &snapshot.stores,
                    Some(&key.store_id),
                    redemption.redeemed_at_ms,
                    metric,
                    call.request_id,
                )
            };
            count(stats::REDEMPTION);
            if redemption.is_offline() {
                count(stats::OFFLINE_REDEMPTION);
            }
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
        Outcome::Refused(refusal) => {
            let message = refusal.message(&terms);
            let Refusal::AlreadyRedeemed { first } = &refusal else {
                return Err(Error::unprocessable(refusal.code(), message));
            };
            let at = till_redemption(first);
            Ok(respond::json(
                409,
                &json!({ "error": {
                    "code": "already_redeemed",
                    "message": message,
                    "redeemed_at": at.redeemed_at,
                    "store_id": at.store_id,
                    "register_id": at.register_id,
                }}),
            ))
        }
    }
}

pub async fn ask_till(
    env: &Env,
    store: &StoreId,
    request: &TillRequest,
) -> Result<TillAnswer, Error> {
    crate::edge::runtime::objects::call(env, "TILLS", store.as_str(), request).await
}
