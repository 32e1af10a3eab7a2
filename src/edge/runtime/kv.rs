//! Workers KV behind a [`Budget`]: [`Kv`] counts every operation (get, put, delete, one list
//! page) of one invocation and refuses past [`BUDGET`], below the platform's limit of 1,000 per
//! invocation, with a storage error whose cause says so (it reaches the log). Production
//! enforces the limit; the budget makes local runs and tests enforce it too, so bounded work is
//! proven where it is built. Every failure becomes [`Error::Storage`].

use std::rc::Rc;

use serde::de::DeserializeOwned;
use worker::kv::{Key, KvStore};

use optin_core::budget::Budget;
use optin_core::error::Error;

/// KV operations one invocation may make: Cloudflare allows 1,000 per invocation
/// (<https://developers.cloudflare.com/workers/platform/limits/#kv-limits>, read 2026-12-02);
/// the rest is headroom for what a handler does after a bounded loop (a cursor, a record).
pub const BUDGET: u32 = 900;

/// Keys one list page returns at most (KV's own maximum).
pub const LIST_PAGE_MAX: u32 = 1000;

/// The `KV` namespace with the operation count of the invocation it serves. Clones share the
/// count: hand the same one to everything an invocation does.
#[derive(Clone)]
pub struct Kv {
    store: KvStore,
    budget: Rc<Budget>,
}

/// One page of a key listing.
pub struct ListPage {
    pub keys: Vec<Key>,
    /// Where the next page starts; `None` on the last page.
    pub cursor: Option<String>,
}

/// The namespace of the ledger and configuration, bound as `KV`, with a fresh budget: call it
/// once per invocation. Looking it up crosses into JavaScript six times (the binding, then
/// each of its methods): do it only when KV is read.
pub fn namespace(env: &worker::Env) -> Result<Kv, Error> {
    Ok(Kv {
        store: env.kv("KV").map_err(Error::internal)?,
        budget: Rc::new(Budget::new("KV", BUDGET)),
    })
}

pub fn storage(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage {
        cause: format!("{context}: {e}"),
    }
}

impl Kv {
    /// Operations this invocation has made.
    pub fn used(&self) -> u32 {
        self.budget.used()
    }

    /// Operations this invocation may still make.
    pub fn left(&self) -> u32 {
        self.budget.left()
    }

    fn spend(&self, n: u32, what: &str) -> Result<(), Error> {
        self.budget.spend(n, what)
    }

    pub async fn get_text(&self, key: &str) -> Result<Option<String>, Error> {
        self.spend(1, "kv get")?;
        self.store
            .get(key)
            .text()
            .await
            .map_err(|e| storage("kv get", e))
    }

    pub async fn put_text(
        &self,
        key: &str,
        text: String,
        metadata: Option<&impl serde::Serialize>,
    ) -> Result<(), Error> {
        self.spend(1, "kv put")?;
        let mut put = self
            .store
            .put(key, text)
            .map_err(|e| storage("kv put", e))?;
        if let Some(m) = metadata {
            put = put.metadata(m).map_err(|e| storage("kv metadata", e))?;
        }
        put.execute().await.map_err(|e| storage("kv put", e))
    }

    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        self.spend(1, "kv delete")?;
        self.store
            .delete(key)
            .await
            .map_err(|e| storage("kv delete", e))
    }

    /// One page of the keys under `prefix` (with their metadata), from `cursor`, at most
    /// `limit` (≤ [`LIST_PAGE_MAX`]) of them.
    pub async fn list(
        &self,
        prefix: &str,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<ListPage, Error> {
        self.spend(1, "kv list")?;
        let mut list = self
            .store
            .list()
            .prefix(prefix.to_owned())
            .limit(u64::from(limit.clamp(1, LIST_PAGE_MAX)));
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        let page = list.execute().await.map_err(|e| storage("kv list", e))?;
        let cursor = page.cursor.filter(|c| !page.list_complete && !c.is_empty());
        Ok(ListPage {
            keys: page.keys,
            cursor,
        })
    }
}

pub async fn get_json<T: DeserializeOwned>(kv: &Kv, key: &str) -> Result<Option<T>, Error> {
    match kv.get_text(key).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| storage("kv get", e)),
        None => Ok(None),
    }
}

pub async fn put_json(kv: &Kv, key: &str, value: &impl serde::Serialize) -> Result<(), Error> {
    let text = serde_json::to_string(value).map_err(Error::internal)?;
    kv.put_text(key, text, None::<&()>).await
}

/// Every key under `prefix`, following the cursor: one operation per 1,000 keys.
pub async fn list_keys(kv: &Kv, prefix: &str) -> Result<Vec<Key>, Error> {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = kv.list(prefix, cursor.take(), LIST_PAGE_MAX).await?;
        keys.extend(page.keys);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(keys),
        }
    }
}

/// The values of every key under `prefix` (read concurrently), in key order. For
/// configuration (stores, coupons, notices, keys), whose count the retailer sets.
pub async fn get_all<T: DeserializeOwned>(kv: &Kv, prefix: &str) -> Result<Vec<T>, Error> {
    let keys = list_keys(kv, prefix).await?;
    let reads = keys.iter().map(|k| get_json::<T>(kv, &k.name));
    Ok(futures_util::future::join_all(reads)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect())
}
