//! POS keys: the bearer credentials of the tills, one store each. A key is shown once when it
//! is made; only its SHA-256 is kept. A key carries 200 random bits, so a plain hash is enough
//! (slow password hashes are for guessable secrets).
//!
//! Text: `pk_` + an 8-character id (to find the record) + `_` + a 40-character secret, lower-case
//! base32: `pk_3k7zq2ma_…`. Records live in KV under `pos-key:{id}`.

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

/// The optional body of `POST /api/admin/stores/{id}/pos-keys`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosKeyInput {
    #[serde(default)]
    pub label: Option<String>,
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
}
