//! POS keys: the bearer credentials of the tills, one store each. A key is shown once when it
//! is made; only its SHA-256 is kept. A key carries 200 random bits, so a plain hash is enough
//! (slow password hashes are for guessable secrets).
//!
//! Text: `pk_` + an 8-character id (to find the record) + `_` + a 40-character secret, lower-case
//! base32: `pk_3k7zq2ma_…`. Records live in KV under `pos-key:{id}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::ids::StoreId;
use crate::stores::clean_text;
use crate::time::format_rfc3339;

/// KV prefix of the key records.
pub const POS_KEY_PREFIX: &str = "pos-key:";
/// Random bytes a key is made of: 5 for the id, 25 for the secret.
pub const KEY_RANDOM_BYTES: usize = 30;
const MAX_LABEL: usize = 40;

pub fn pos_key_key(id: &str) -> String {
    format!("{POS_KEY_PREFIX}{id}")
}

/// A POS key as kept in KV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosKeyRecord {
    pub id: String,
    pub store_id: StoreId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Hex SHA-256 of the whole key text.
    pub hash: String,
    pub created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at_ms: Option<u64>,
}

impl PosKeyRecord {
    /// What the admin API shows: never the hash.
    pub fn public(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "id": self.id,
            "store_id": self.store_id,
            "created_at": format_rfc3339(self.created_at_ms),
        });
        if let Some(label) = &self.label {
            v["label"] = label.as_str().into();
        }
        if let Some(at) = self.revoked_at_ms {
            v["revoked_at"] = format_rfc3339(at).into();
        }
        v
    }

    /// Whether `key` is this record's key and still in force (constant time over the hash).
    pub fn accepts(&self, key: &str) -> bool {
        self.revoked_at_ms.is_none()
            && bool::from(hash_hex(key).as_bytes().ct_eq(self.hash.as_bytes()))
    }
}

/// A new key from `random` bytes: the text to show once, and the record to keep.
pub fn new_key(
    random: &[u8; KEY_RANDOM_BYTES],
    store_id: StoreId,
    label: Option<String>,
    now_ms: u64,
) -> (String, PosKeyRecord) {
    let id = crate::encoding::base32_lower(&random[..5]);
    let text = format!("pk_{id}_{}", crate::encoding::base32_lower(&random[5..]));
    let record = PosKeyRecord {
        id,
        store_id,
        label,
        hash: hash_hex(&text),
        created_at_ms: now_ms,
        revoked_at_ms: None,
    };
    (text, record)
}

/// The id of a key text of the right shape, to find its record.
pub fn key_id(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("pk_")?;
    let (id, secret) = rest.split_once('_')?;
    (is_base32(id, ID_CHARS) && is_base32(secret, SECRET_CHARS)).then_some(id)
}

/// Checks a key id from a path: the same alphabet and length as in keys.
pub fn check_key_id(raw: &str) -> Result<&str, Error> {
    if is_base32(raw, ID_CHARS) {
        Ok(raw)
    } else {
        Err(Error::NotFound)
    }
}

/// Characters of a key's id and of its secret.
const ID_CHARS: usize = 8;
const SECRET_CHARS: usize = 40;

/// `len` characters of lower-case base32 (`a`–`z`, `2`–`7`).
fn is_base32(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// How long an isolate trusts what it read of a key. Scans see a revocation within this (plus
/// KV's own propagation, up to 60 s); redemptions see it at once, through the store's `Till`.
pub const KEY_CACHE_MS: u64 = 30_000;
/// The most key records an isolate keeps.
pub const KNOWN_MAX: usize = 512;
/// The most ids without a record it keeps, apart from the records.
pub const UNKNOWN_MAX: usize = 4096;

/// What an isolate remembers of its key look-ups: the records found and, apart from them, the
/// ids that have none. An unknown id costs one storage read per [`KEY_CACHE_MS`], and however
/// many junk ids arrive, they only ever push out other junk.
#[derive(Debug, Default)]
pub struct KeyCache {
    known: BTreeMap<String, (u64, PosKeyRecord)>,
    unknown: BTreeMap<String, u64>,
}

/// What the cache knows of an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    Known(PosKeyRecord),
    Unknown,
    /// Not read lately: read it.
    Miss,
}

impl KeyCache {
    pub fn get(&self, id: &str, now_ms: u64) -> Cached {
        let fresh = |at: u64| now_ms.saturating_sub(at) < KEY_CACHE_MS;
        if let Some((_, record)) = self.known.get(id).filter(|(at, _)| fresh(*at)) {
            return Cached::Known(record.clone());
        }
        if self.unknown.get(id).is_some_and(|at| fresh(*at)) {
            return Cached::Unknown;
        }
        Cached::Miss
    }

    /// Keeps what a read at `now_ms` found for `id`.
    pub fn put(&mut self, id: &str, record: Option<PosKeyRecord>, now_ms: u64) {
        match record {
            Some(record) => {
                self.unknown.remove(id);
                if self.known.len() >= KNOWN_MAX && !self.known.contains_key(id) {
                    let oldest = self
                        .known
                        .iter()
                        .min_by_key(|(_, (at, _))| *at)
                        .map(|(k, _)| k.clone());
                    if let Some(oldest) = oldest {
                        self.known.remove(&oldest);
                    }
                }
                self.known.insert(id.to_owned(), (now_ms, record));
            }
            None => {
                self.known.remove(id);
                if self.unknown.len() >= UNKNOWN_MAX {
                    self.unknown
                        .retain(|_, at| now_ms.saturating_sub(*at) < KEY_CACHE_MS);
                    if self.unknown.len() >= UNKNOWN_MAX {
                        self.unknown.clear();
                    }
                }
                self.unknown.insert(id.to_owned(), now_ms);
            }
        }
    }

    /// Forgets `id` (after a revocation here).
    pub fn forget(&mut self, id: &str) {
        self.known.remove(id);
        self.unknown.remove(id);
    }
}

/// The optional body of `POST /api/admin/stores/{id}/pos-keys`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosKeyInput {
    #[serde(default)]
    pub label: Option<String>,
    /// How many redemptions its till may queue offline (default
    /// [`crate::till::offline::DEFAULT_OFFLINE_LIMIT`]).
    #[serde(default, deserialize_with = "some_whole_number")]
    pub offline_limit: Option<u32>,
}

/// The body of `PATCH /api/admin/stores/{id}/pos-keys/{key_id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosKeyUpdate {
    #[serde(deserialize_with = "whole_number")]
    pub offline_limit: u32,
}

/// A count as JSON may write it: `50` or `50.0` (JSON Schema's integers include both).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = f64::deserialize(d)?;
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(serde::de::Error::custom("a whole number, 0 or more"))
    }
}

fn some_whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<f64>::deserialize(d)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => {
            Ok(Some(n as u32))
        }
        Some(_) => Err(serde::de::Error::custom("a whole number, 0 or more")),
    }
}

/// Checks an offline limit: 0 (the till never queues) to
/// [`crate::till::offline::MAX_OFFLINE_LIMIT`].
///
/// # Errors
/// 422 `invalid_offline_limit`.
pub fn check_offline_limit(limit: u32) -> Result<u32, Error> {
    let max = crate::till::offline::MAX_OFFLINE_LIMIT;
    if limit <= max {
        Ok(limit)
    } else {
        Err(Error::unprocessable(
            "invalid_offline_limit",
            format!("`offline_limit` is 0 to {max} queued redemptions."),
        ))
    }
}

impl PosKeyInput {
    /// The label, trimmed, 1 to 40 characters.
    ///
    /// # Errors
    /// 422 `invalid_field` naming the label.
    pub fn label(self) -> Result<Option<String>, Error> {
        self.label
            .map(|l| clean_text("label", &l, MAX_LABEL))
            .transpose()
    }
}

fn hash_hex(text: &str) -> String {
    crate::encoding::hex(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made() -> (String, PosKeyRecord) {
        let mut random = [0u8; KEY_RANDOM_BYTES];
        for (i, b) in random.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        new_key(
            &random,
            StoreId::parse("shibuya").unwrap(),
            Some("Till 1".into()),
            1_795_000_000_000,
        )
    }

    #[test]
    fn an_offline_limit_is_a_whole_number_however_json_writes_it() {
        let update = |t: &str| serde_json::from_str::<PosKeyUpdate>(t).map(|u| u.offline_limit);
        assert_eq!(update(r#"{"offline_limit": 20}"#).unwrap(), 20);
        assert_eq!(update(r#"{"offline_limit": 20.0}"#).unwrap(), 20);
        for bad in ["20.5", "-1", "\"20\"", "null"] {
            assert!(
                update(&format!(r#"{{"offline_limit": {bad}}}"#)).is_err(),
                "{bad}"
            );
        }
        let input = |t: &str| serde_json::from_str::<PosKeyInput>(t).map(|i| i.offline_limit);
        assert_eq!(input("{}").unwrap(), None);
        assert_eq!(input(r#"{"offline_limit": null}"#).unwrap(), None);
        assert_eq!(input(r#"{"offline_limit": 7.0}"#).unwrap(), Some(7));
        assert!(input(r#"{"offline_limit": 7.5}"#).is_err());
    }

    #[test]
    fn a_key_is_found_by_its_id_and_accepted_by_its_hash_only() {
        let (text, record) = made();
        assert_eq!(text.len(), 3 + 8 + 1 + 40);
        assert_eq!(key_id(&text), Some(record.id.as_str()));
        assert!(record.accepts(&text));
        let mut wrong = text.clone();
        wrong.replace_range(text.len() - 1.., "q");
        assert!(!record.accepts(&wrong));
        assert!(!record.hash.contains(&text[12..]), "only the hash is kept");
        let revoked = PosKeyRecord {
            revoked_at_ms: Some(1),
            ..record
        };
        assert!(!revoked.accepts(&text));
    }

    #[test]
    fn malformed_keys_have_no_id() {
        let (text, _) = made();
        for bad in [
            "",
            "pk_",
            &text.to_uppercase(),
            &text[..text.len() - 1],
            &format!("{text}a"),
            &text.replacen("pk_", "sk_", 1),
            "pk_abcdefgh_abcdefghabcdefghabcdefghabcdefgh1",
        ] {
            assert_eq!(key_id(bad), None, "{bad}");
        }
        assert!(check_key_id("abcdefgh").is_ok());
        assert!(check_key_id("ABCDEFGH").is_err());
    }

    #[test]
    fn the_public_view_never_shows_the_hash() {
        let (_, record) = made();
        let v = record.public();
        assert_eq!(v["label"], "Till 1");
        assert_eq!(v["created_at"], "2026-11-18T11:06:40Z");
        assert!(v.get("hash").is_none() && v.get("revoked_at").is_none());
        let input: PosKeyInput = serde_json::from_str(r#"{"label":"  R2 "}"#).unwrap();
        assert_eq!(input.label().unwrap().as_deref(), Some("R2"));
        let empty: PosKeyInput = serde_json::from_str(r#"{"label":" "}"#).unwrap();
        assert!(empty.label().is_err());
        assert!(serde_json::from_str::<PosKeyInput>(r#"{"store":"x"}"#).is_err());
    }

    fn record(id: &str) -> PosKeyRecord {
        let mut random = [7u8; KEY_RANDOM_BYTES];
        random[0] = id.len() as u8;
        let (_, mut r) = new_key(&random, StoreId::parse("shibuya").unwrap(), None, 1);
        r.id = id.to_owned();
        r
    }

    #[test]
    fn junk_ids_never_push_a_real_key_out_of_the_cache() {
        let mut cache = KeyCache::default();
        let t = 1_795_000_000_000;
        cache.put("realkey1", Some(record("realkey1")), t);
        for i in 0..(UNKNOWN_MAX * 3) {
            cache.put(&format!("junk{i:04}"), None, t + 1);
        }
        assert_eq!(
            cache.get("realkey1", t + 2),
            Cached::Known(record("realkey1"))
        );
        assert_eq!(
            cache.get("junk0000", t + 2),
            Cached::Miss,
            "junk pushes out junk"
        );
        assert_eq!(
            cache.get(&format!("junk{:04}", UNKNOWN_MAX * 3 - 1), t + 2),
            Cached::Unknown,
            "an unknown id is remembered as unknown"
        );
    }

    #[test]
    fn cached_answers_expire_and_a_forgotten_key_is_read_again() {
        let mut cache = KeyCache::default();
        let t = 1_795_000_000_000;
        cache.put("realkey1", Some(record("realkey1")), t);
        cache.put("nothere1", None, t);
        assert_eq!(cache.get("nothere1", t + KEY_CACHE_MS - 1), Cached::Unknown);
        assert_eq!(cache.get("nothere1", t + KEY_CACHE_MS), Cached::Miss);
        assert_eq!(cache.get("realkey1", t + KEY_CACHE_MS), Cached::Miss);
        cache.put("realkey1", Some(record("realkey1")), t);
        cache.forget("realkey1");
        assert_eq!(cache.get("realkey1", t + 1), Cached::Miss);
    }

    #[test]
    fn a_full_cache_of_real_keys_drops_the_oldest() {
        let mut cache = KeyCache::default();
        let t = 1_795_000_000_000;
        for i in 0..KNOWN_MAX {
            cache.put(&format!("k{i:07}"), Some(record("k")), t + i as u64);
        }
        cache.put("newest01", Some(record("newest01")), t + 10_000);
        assert_eq!(
            cache.get("k0000000", t + 10_001),
            Cached::Miss,
            "the oldest went"
        );
        assert!(matches!(
            cache.get("k0000001", t + 10_001),
            Cached::Known(_)
        ));
        assert!(matches!(
            cache.get("newest01", t + 10_001),
            Cached::Known(_)
        ));
    }
}
