//! A per-isolate cache of the read-mostly configuration every landing, privacy and card page
//! needs (the stores index, the coupons index, the active notice version and the notices that
//! have been in force). Workers KV is itself eventually consistent (up to 60 s); holding these
//! 30 s longer in memory spares the KV reads of each page view, and a miss re-reads KV at most
//! once per 5 s ([`optin_core::freshness`]).

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::edge::runtime::kv::{self, get_all, get_json};
use optin_core::coupons::{CouponsIndex, COUPONS_INDEX_KEY};
use optin_core::error::Error;
use optin_core::freshness::{is_fresh, may_reread_on_miss};
use optin_core::stores::{self, Notice, StoresIndex, STORES_INDEX_KEY};

/// What the landing and card pages read.
pub struct Snapshot {
    pub stores: StoresIndex,
    pub coupons: CouponsIndex,
    pub notice_version: Option<String>,
    /// Every version that has been in force, oldest first (the privacy pages).
    pub notices: Vec<Notice>,
}

thread_local! {
    static CACHE: RefCell<Option<(u64, Rc<Snapshot>)>> = const { RefCell::new(None) };
}

/// The snapshot, from memory when fresh, else read from KV.
pub async fn snapshot(env: &Env, now_ms: u64) -> Result<Rc<Snapshot>, Error> {
    cached_or_read(env, now_ms, |at| is_fresh(at, now_ms)).await
}

/// The snapshot after a miss (a store or notice the cached copy lacks): KV is read again only
/// if the copy is older than [`optin_core::freshness::MISS_REREAD_MS`], so unknown ids cannot turn
/// requests into KV reads.
pub async fn snapshot_after_miss(env: &Env, now_ms: u64) -> Result<Rc<Snapshot>, Error> {
    cached_or_read(env, now_ms, |at| !may_reread_on_miss(at, now_ms)).await
}

/// The cached copy when `keep(read_at_ms)` says it will do, else a fresh read.
async fn cached_or_read(
    env: &Env,
    now_ms: u64,
    keep: impl Fn(u64) -> bool,
) -> Result<Rc<Snapshot>, Error> {
    let cached = CACHE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(at, _)| keep(*at))
            .map(|(_, s)| Rc::clone(s))
    });
    match cached {
        Some(s) => Ok(s),
        None => refresh(env, now_ms).await,
    }
}

/// Reads KV afresh (the binding is looked up only here: a page served from memory never needs
/// it, see [`kv::namespace`]).
async fn refresh(env: &Env, now_ms: u64) -> Result<Rc<Snapshot>, Error> {
    let kv = &kv::namespace(env)?;
    let (stores, coupons, notice, notices) = futures_util::join!(
        get_json::<StoresIndex>(kv, STORES_INDEX_KEY),
        get_json::<CouponsIndex>(kv, COUPONS_INDEX_KEY),
        crate::edge::ledger_store::active_notice_version(kv),
        get_all::<Notice>(kv, stores::NOTICE_PREFIX),
    );
    let mut notices = notices?;
    notices.retain(|n| n.activated_at_ms.is_some());
    notices.sort_by_key(|n| n.activated_at_ms);
    let snapshot = Rc::new(Snapshot {
        stores: stores?.unwrap_or_default(),
        coupons: coupons?.unwrap_or_default(),
        notice_version: notice?,
        notices,
    });
    CACHE.with(|c| *c.borrow_mut() = Some((now_ms, Rc::clone(&snapshot))));
    Ok(snapshot)
}

/// Drops the cached snapshot (after an admin write in this isolate).
pub fn invalidate() {
    CACHE.with(|c| *c.borrow_mut() = None);
}
