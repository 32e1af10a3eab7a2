//! A per-isolate cache of the read-mostly configuration every landing and card page needs (the
//! stores index, the coupons index and the active notice version). Workers KV is itself
//! eventually consistent (up to 60 s); holding these 30 s longer in memory spares three KV reads
//! per page view.

use std::cell::RefCell;
use std::rc::Rc;

use worker::kv::KvStore;

use super::kv::get_json;
use crate::coupons::{CouponsIndex, COUPONS_INDEX_KEY};
use crate::error::Error;
use crate::stores::{StoresIndex, STORES_INDEX_KEY};

/// How long a cached read is served, in milliseconds.
const TTL_MS: u64 = 30_000;

/// What the landing and card pages read.
pub struct Snapshot {
    pub stores: StoresIndex,
    pub coupons: CouponsIndex,
    pub notice_version: Option<String>,
}

thread_local! {
    static CACHE: RefCell<Option<(u64, Rc<Snapshot>)>> = const { RefCell::new(None) };
}

/// The snapshot, from memory when fresh, else read from KV.
pub async fn snapshot(kv: &KvStore, now_ms: u64) -> Result<Rc<Snapshot>, Error> {
    let cached = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(at, _)| now_ms.saturating_sub(*at) < TTL_MS)
            .map(|(_, s)| Rc::clone(s))
    });
    match cached {
        Some(s) => Ok(s),
        None => refresh(kv, now_ms).await,
    }
}

/// Reads KV afresh (also used when a page asks for a store the cached index lacks: a store
/// created moments ago is shown at once).
pub async fn refresh(kv: &KvStore, now_ms: u64) -> Result<Rc<Snapshot>, Error> {
    let (stores, coupons, notice) = futures_util::join!(
        get_json::<StoresIndex>(kv, STORES_INDEX_KEY),
        get_json::<CouponsIndex>(kv, COUPONS_INDEX_KEY),
        super::ledger_store::active_notice_version(kv),
    );
    let snapshot = Rc::new(Snapshot {
        stores: stores?.unwrap_or_default(),
        coupons: coupons?.unwrap_or_default(),
        notice_version: notice?,
    });
    CACHE.with(|c| *c.borrow_mut() = Some((now_ms, Rc::clone(&snapshot))));
    Ok(snapshot)
}

/// Drops the cached snapshot (after an admin write in this isolate).
pub fn invalidate() {
    CACHE.with(|c| *c.borrow_mut() = None);
}
