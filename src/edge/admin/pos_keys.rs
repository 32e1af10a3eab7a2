//! The admin API for POS keys (bearer `ADMIN_TOKEN`): make one for a store (shown once), list a
//! store's keys, revoke one.

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
use optin_core::till::pos_keys::{
    check_key_id, new_key, pos_key_key, PosKeyInput, PosKeyRecord, KEY_RANDOM_BYTES, POS_KEY_PREFIX,
};
use optin_core::till::transactions::{TillAnswer, TillRequest};

/// `POST /api/admin/stores/{id}/pos-keys`: 201 with the key, the only time it is shown.
pub async fn create(mut call: Call<'_>, store: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let store = store_id(store)?;
    let raw = body::read_limited(&mut call.req).await?;
    let input: PosKeyInput = if raw.iter().all(u8::is_ascii_whitespace) {
        PosKeyInput::default()
    } else {
        serde_json::from_slice(&raw)?
    };
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
    put_json(&kv, &pos_key_key(&record.id), &record).await?;
    Ok(respond::json(
        201,
        &json!({ "key": text, "pos_key": record.public() }),
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
    let keys: Vec<_> = keys.iter().map(PosKeyRecord::public).collect();
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
    match crate::edge::till::pos::ask_till(
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
