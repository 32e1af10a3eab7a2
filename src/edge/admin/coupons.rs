//! The admin API for coupons (bearer `ADMIN_TOKEN`): create or replace, list.

use serde_json::json;
use worker::Date;

use crate::edge::admin::{json_body, require_admin};
use crate::edge::runtime::cache;
use crate::edge::runtime::env;
use crate::edge::runtime::kv::{get_all, get_json, put_json};
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::coupons::{
    coupon_key, Coupon, CouponInput, CouponsIndex, COUPONS_INDEX_KEY, COUPON_PREFIX,
};
use optin_core::error::Error;
use optin_core::ids::CouponId;
use optin_core::stores::{StoresIndex, STORES_INDEX_KEY};

/// `PUT /api/admin/coupons/{id}`: 201 when created, 200 when replaced, with the coupon's
/// [`Coupon::warnings`] (an empty window, stores that do not exist yet).
pub async fn put(mut call: Call<'_>, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let id = CouponId::parse(id).map_err(|why| Error::bad_request("invalid_coupon_id", why))?;
    let input: CouponInput = json_body(&mut call).await?;
    let kv = call.kv()?;
    let stores = get_json::<StoresIndex>(&kv, STORES_INDEX_KEY)
        .await?
        .unwrap_or_default();
    let coupon = input.into_coupon(id.clone(), Date::now().as_millis())?;
    let warnings = coupon.warnings(|s| stores.get(s).is_some());
    let key = coupon_key(&id);
    let existed = get_json::<Coupon>(&kv, &key).await?.is_some();
    put_json(&kv, &key, &coupon).await?;
    // The index is rebuilt from the records (KV listings lag: make sure this one is in).
    let mut all: Vec<Coupon> = get_all(&kv, COUPON_PREFIX).await?;
    all.retain(|c| c.id != id);
    all.push(coupon.clone());
    all.sort_by(|a, b| a.id.cmp(&b.id));
    put_json(&kv, COUPONS_INDEX_KEY, &CouponsIndex { coupons: all }).await?;
    cache::invalidate();
    Ok(respond::json(
        if existed { 200 } else { 201 },
        &json!({ "coupon": coupon, "warnings": warnings }),
    ))
}

/// `GET /api/admin/coupons`
pub async fn list(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let index = get_json::<CouponsIndex>(&call.kv()?, COUPONS_INDEX_KEY)
        .await?
        .unwrap_or_default();
    Ok(respond::json(200, &json!({ "coupons": index.coupons })))
}
