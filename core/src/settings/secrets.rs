//! Secrets and signing keys: values whose `Debug` and `Display` print `[redacted]`, compared in
//! constant time, and the key list of `SIGNING_KEYS` (the first signs, all verify).

use std::fmt;

use base64::Engine as _;
use subtle::ConstantTimeEq;

/// The shortest signing key accepted, in bytes (HMAC-SHA256 wants at least its output size).
pub const MIN_SIGNING_KEY_BYTES: usize = 32;
/// The longest key id: it travels in every signed code, and a barcode with the longest key id and
/// coupon id must still fit a version-4 QR code at level M.
pub const MAX_KID_LEN: usize = 16;
/// A secret string. Its `Debug` and `Display` never print the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (a signature, an `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with a candidate in constant time (after a length check, which only reveals the
    /// length).
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let ours = self.0.as_bytes();
        ours.len() == candidate.len() && bool::from(ours.ct_eq(candidate))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One key of [`SigningKeys`]: an id that travels in every signed code, and the key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    kid: String,
    key: Vec<u8>,
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn bytes(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The keys of `SIGNING_KEYS`: the first signs, all verify (rotation without downtime).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeys(Vec<SigningKey>);

impl SigningKeys {
    /// Parses comma-separated `kid:base64key` entries. Key ids are ASCII letters and digits and
    /// unique; keys decode (standard or URL-safe base64, padded or not) to at least 32 bytes.
    ///
    /// # Errors
    /// A sentence saying what is wrong, never quoting a key.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let mut keys: Vec<SigningKey> = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, b64) = entry
                .split_once(':')
                .ok_or("an entry is not of the form kid:base64key")?;
            if kid.is_empty() || !kid.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err("a key id is not letters and digits");
            }
            if kid.len() > MAX_KID_LEN {
                return Err("a key id is longer than 16 characters");
            }
            if keys.iter().any(|k| k.kid == kid) {
                return Err("a key id appears twice");
            }
            let key = decode_base64(b64.trim()).ok_or("a key is not valid base64")?;
            if key.len() < MIN_SIGNING_KEY_BYTES {
                return Err("a key is shorter than 32 bytes");
            }
            keys.push(SigningKey {
                kid: kid.to_owned(),
                key,
            });
        }
        if keys.is_empty() {
            return Err("missing");
        }
        Ok(SigningKeys(keys))
    }

    /// The key that signs new codes.
    pub fn current(&self) -> &SigningKey {
        &self.0[0]
    }

    /// The key with this id, if it is still accepted.
    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.0.iter().find(|k| k.kid == kid)
    }

    pub fn all(&self) -> &[SigningKey] {
        &self.0
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_32: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // "0123456789abcdef" x2

    #[test]
    fn secret_matches_only_the_exact_value() {
        let s = Secret::new("token-abc");
        assert!(s.matches(b"token-abc"));
        for wrong in [
            &b"token-abd"[..],
            b"token-ab",
            b"token-abcd",
            b"",
            b"TOKEN-ABC",
        ] {
            assert!(!s.matches(wrong));
        }
    }

    #[test]
    fn signing_keys_first_signs_all_verify() {
        let keys = SigningKeys::parse(&format!("k2:{KEY_32},k1:{KEY_32}")).unwrap();
        assert_eq!(keys.current().kid(), "k2");
        assert!(keys.by_kid("k1").is_some());
        assert!(keys.by_kid("k3").is_none());
        assert_eq!(keys.current().bytes(), b"0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn bad_signing_keys_are_rejected_with_a_reason_that_quotes_no_key() {
        let cases = [
            ("k1", "an entry is not of the form kid:base64key"),
            ("k-1:MDEy", "a key id is not letters and digits"),
            ("k1:!!!!", "a key is not valid base64"),
            (
                "k1:MDEyMzQ1Njc4OWFiY2RlZg==",
                "a key is shorter than 32 bytes",
            ),
        ];
        for (raw, reason) in cases {
            assert_eq!(SigningKeys::parse(raw).unwrap_err(), reason, "{raw}");
        }
        assert_eq!(
            SigningKeys::parse(&format!("a:{KEY_32},a:{KEY_32}")).unwrap_err(),
            "a key id appears twice"
        );
        assert!(SigningKeys::parse("k1:short").is_err());
    }
}
