//! The admin API for POS keys (bearer `ADMIN_TOKEN`): make one for a store (shown once), list a
//! store's keys, revoke one, set how much its till may queue offline; and the store's offline
//! conflicts (queued redemptions refused when they arrived), which its `Till` object keeps.

use serde_json::json;
use worker::Date;

use crate::edge::admin::{require_admin, store_id};
use crate::edge::runtime::body;
use crate::edge::runtime::env;
use crate::edge::runtime::kv::{get_all, get_json, put_json};
use crate::edge::runtime::random;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::error::Error;
use optin_core::stores::{self, Store};
use optin_core::till::offline::{CONFLICTS_PAGE, DEFAULT_OFFLINE_LIMIT};
use optin_core::till::pos_keys::{
    check_key_id, check_offline_limit, new_key, pos_key_key, PosKeyInput, PosKeyRecord,
    PosKeyUpdate, KEY_RANDOM_BYTES, POS_KEY_PREFIX,
};
use optin_core::till::transactions::{TillAnswer, TillRequest};

use crate::edge::till::pos::ask_till;

/// `POST /api/admin/stores/{id}/pos-keys`: 201 with the key, the only time it is shown.
pub async fn create(mut call: Call<'_>, store: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let store = store_id(store)?;
    let raw = body::read_limited(&mut call.req).await?;
    let input: PosKeyInput = if raw.iter().all(u8::is_ascii_whitespace) {
        PosKeyInput::default()
    } else {
        crate::edge::admin::object_body(&raw)?
    };
    let offline_limit = input.offline_limit.map(check_offline_limit).transpose()?;
    let label = input.label()?;
    let kv = call.kv()?;
    if get_json::<Store>(&kv, &stores::store_key(&store))
        .await?
        .is_none()
    {
        return Err(Error::NotFound);
    }
    let random = random::bytes::<KEY_RANDOM_BYTES>()?;
    let (text, record) = new_key(&random, store, label, Date::now().as_millis());
    let limit = offline_limit.unwrap_or(DEFAULT_OFFLINE_LIMIT);
    if offline_limit.is_some() {
        set_limit(&call, &record, limit).await?;
    }
    put_json(&kv, &pos_key_key(&record.id), &record).await?;
    let mut public = record.public();
    public["offline_limit"] = limit.into();
    Ok(respond::json(
        201,
        &json!({ "key": text, "pos_key": public }),
    ))
}

/// `GET /api/admin/stores/{id}/pos-keys`: the store's keys, oldest first; never a key or hash.
pub async fn list(call: &Call<'_>, store: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let store = store_id(store)?;
    let mut keys: Vec<PosKeyRecord> = get_all(&call.kv()?, POS_KEY_PREFIX).await?;
    keys.retain(|k| k.store_id == store);
    keys.sort_by_key(|k| k.created_at_ms);
    let limits = match ask_till(call.env, &store, &TillRequest::OfflineLimits).await? {
        TillAnswer::Limits { limits } => limits,
        other => return Err(Error::internal(format!("Till answered {other:?}"))),
    };
    let keys: Vec<_> = keys
        .iter()
        .map(|k| {
            let mut v = k.public();
            v["offline_limit"] = limits
                .get(&k.id)
                .copied()
                .unwrap_or(DEFAULT_OFFLINE_LIMIT)
                .into();
            v
        })
        .collect();
    Ok(respond::json(200, &json!({ "pos_keys": keys })))
}

/// `DELETE /api/admin/stores/{id}/pos-keys/{key_id}`: revokes the key (the record stays, as
/// evidence of which till redeemed what; redemptions name their key's id).
pub async fn revoke(call: &Call<'_>, store: &str, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let store = store_id(store)?;
    let id = check_key_id(id)?;
    let kv = call.kv()?;
    let mut record = get_json::<PosKeyRecord>(&kv, &pos_key_key(id))
        .await?
        .filter(|r| r.store_id == store)
        .ok_or(Error::NotFound)?;
    // The store's till first: once this answers, the key redeems nothing anywhere, whatever an
    // isolate still holds of its record. Asked again on every call, so a repeated DELETE
    // after a failure completes the revocation.
    match ask_till(
        call.env,
        &store,
        &TillRequest::RevokeKey {
            key_id: id.to_owned(),
        },
    )
    .await?
    {
        TillAnswer::Done => {}
        other => return Err(Error::internal(format!("Till answered {other:?}"))),
    }
    if record.revoked_at_ms.is_none() {
        record.revoked_at_ms = Some(Date::now().as_millis());
        put_json(&kv, &pos_key_key(id), &record).await?;
    }
    crate::edge::till::pos::forget_key(id);
    Ok(respond::json(200, &json!({ "pos_key": record.public() })))
}

async fn set_limit(call: &Call<'_>, record: &PosKeyRecord, limit: u32) -> Result<(), Error> {
    let request = TillRequest::SetOfflineLimit {
        key_id: record.id.clone(),
        limit,
    };
    match ask_till(call.env, &record.store_id, &request).await? {
        TillAnswer::Done => Ok(()),
        other => Err(Error::internal(format!("Till answered {other:?}"))),
    }
}

/// `PATCH /api/admin/stores/{id}/pos-keys/{key_id}`: `{"offline_limit"}`, kept by the store's
/// `Till` (the exact home of its keys' state; the KV record is not rewritten, so a revocation
/// in flight is never undone). The till reads it at its next start or reconnection.
pub async fn update(mut call: Call<'_>, store: &str, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let store = store_id(store)?;
    let id = check_key_id(id)?.to_owned();
    let raw = body::read_limited(&mut call.req).await?;
    let input: PosKeyUpdate = crate::edge::admin::object_body(&raw)?;
    let limit = check_offline_limit(input.offline_limit)?;
    // A revoked key has no till any more: as gone as one never made.
    let record = get_json::<PosKeyRecord>(&call.kv()?, &pos_key_key(&id))
        .await?
        .filter(|r| r.store_id == store && r.revoked_at_ms.is_none())
        .ok_or(Error::NotFound)?;
    set_limit(&call, &record, limit).await?;
    let mut public = record.public();
    public["offline_limit"] = limit.into();
    Ok(respond::json(200, &json!({ "pos_key": public })))
}

/// `GET /api/admin/stores/{id}/offline-conflicts?before=`: the store's conflicts, newest first,
/// [`CONFLICTS_PAGE`] at a time; `next_before` (when there may be more) asks for the next page.
pub async fn conflicts(call: &Call<'_>, store: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let store = store_id(store)?;
    let bad = || Error::bad_request("invalid_before", "`before` is a `next_before` of ours.");
    let before = match call.query("before") {
        None => None,
        Some(raw) => {
            let (at, id) = raw.split_once('.').ok_or_else(bad)?;
            let at = at.parse::<u64>().map_err(|_| bad())?;
            if !id.starts_with("cf_") || id.len() > 32 {
                return Err(bad());
            }
            Some((at, id.to_owned()))
        }
    };
    let request = TillRequest::Conflicts {
        before,
        limit: CONFLICTS_PAGE as u32,
    };
    let conflicts = match ask_till(call.env, &store, &request).await? {
        TillAnswer::Conflicts { conflicts } => conflicts,
        other => return Err(Error::internal(format!("Till answered {other:?}"))),
    };
    let next = (conflicts.len() == CONFLICTS_PAGE)
        .then(|| {
            conflicts
                .last()
                .map(|c| format!("{}.{}", c.detected_at_ms, c.id))
        })
        .flatten();
    let list: Vec<_> = conflicts.iter().map(|c| c.to_json()).collect();
    Ok(respond::json(
        200,
        &json!({ "store_id": store, "conflicts": list, "next_before": next }),
    ))
}
