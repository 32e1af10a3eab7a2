//! Small typed helpers over Workers KV; every failure becomes [`Error::Storage`].

use serde::de::DeserializeOwned;
use worker::kv::{Key, KvStore};

use crate::error::Error;

/// The namespace of the ledger and configuration, bound as `KV`. Looking it up crosses into
/// JavaScript six times (the binding, then each of its methods): do it only when KV is read.
pub fn namespace(env: &worker::Env) -> Result<KvStore, Error> {
    env.kv("KV").map_err(Error::internal)
}

pub fn storage(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Storage {
        cause: format!("{context}: {e}"),
    }
}

pub async fn get_json<T: DeserializeOwned>(kv: &KvStore, key: &str) -> Result<Option<T>, Error> {
    kv.get(key)
        .json::<T>()
        .await
        .map_err(|e| storage("kv get", e))
}

pub async fn put_json(kv: &KvStore, key: &str, value: &impl serde::Serialize) -> Result<(), Error> {
    let text = serde_json::to_string(value).map_err(Error::internal)?;
    kv.put(key, text)
        .map_err(|e| storage("kv put", e))?
        .execute()
        .await
        .map_err(|e| storage("kv put", e))
}

/// Every key under `prefix`, following the cursor.
pub async fn list_keys(kv: &KvStore, prefix: &str) -> Result<Vec<Key>, Error> {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut list = kv.list().prefix(prefix.to_owned());
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list.execute().await.map_err(|e| storage("kv list", e))?;
        keys.extend(page.keys);
        match page.cursor {
            Some(c) if !page.list_complete && !c.is_empty() => cursor = Some(c),
            _ => return Ok(keys),
        }
    }
}

/// The values of every key under `prefix` (read concurrently), in key order.
pub async fn get_all<T: DeserializeOwned>(kv: &KvStore, prefix: &str) -> Result<Vec<T>, Error> {
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
