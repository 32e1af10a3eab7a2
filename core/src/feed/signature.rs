//! Standard Webhooks signatures (<https://www.standardwebhooks.com>, spec 1.0.0): the headers
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,{base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}"}` under the endpoint's secret; during a rotation every secret signs,
//! space-separated, and a receiver accepts any one it knows.
//!
//! Secrets are `whsec_` + base64 of the key bytes (the spec's form; its libraries take them as
//! they are). Ours are 32 random bytes.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::signing::hmac_sha256;

/// Header names of the spec.
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// The prefix of a secret's text.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret.
pub const SECRET_BYTES: usize = 32;

/// An endpoint's signing secret. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedSecret(Vec<u8>);

impl FeedSecret {
    /// A secret from random bytes.
    pub fn from_random(bytes: [u8; SECRET_BYTES]) -> FeedSecret {
        FeedSecret(bytes.to_vec())
    }

    /// Parses `whsec_{base64}` (the prefix optional, as the spec's libraries accept); the key is
    /// 24 to 64 bytes.
    pub fn parse(text: &str) -> Option<FeedSecret> {
        let b64 = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = STANDARD.decode(b64).ok()?;
        (24..=64).contains(&key.len()).then_some(FeedSecret(key))
    }

    /// The `whsec_…` text: shown once to the admin, kept by the edge.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,{base64 signature}` of one delivery.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let tag = hmac_sha256(
            &self.0,
            &[
                id.as_bytes(),
                b".",
                timestamp.to_string().as_bytes(),
                b".",
                body,
            ],
        );
        format!("v1,{}", STANDARD.encode(tag))
    }
}

impl fmt::Debug for FeedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FeedSecret([redacted])")
    }
}

/// The `webhook-signature` header: one `v1,…` per secret, newest first, space-separated.
pub fn signature_header(secrets: &[FeedSecret], id: &str, timestamp: u64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The spec's published vector (standard-webhooks, libraries' `test_sign_function`).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: u64 = 1_614_265_330;
    const PAYLOAD: &str = r#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_published_vector_signs_as_the_spec_says() {
        let secret = FeedSecret::parse(SECRET).unwrap();
        assert_eq!(secret.sign(MSG_ID, TIMESTAMP, PAYLOAD.as_bytes()), EXPECTED);
        let bare = FeedSecret::parse(&SECRET[SECRET_PREFIX.len()..]).unwrap();
        assert_eq!(bare, secret, "the prefix is optional");
        assert_eq!(secret.expose(), SECRET);
    }

    #[test]
    fn during_a_rotation_every_secret_signs() {
        let old = FeedSecret::parse(SECRET).unwrap();
        let new = FeedSecret::from_random([7; SECRET_BYTES]);
        let header = signature_header(&[new.clone(), old], MSG_ID, TIMESTAMP, PAYLOAD.as_bytes());
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], new.sign(MSG_ID, TIMESTAMP, PAYLOAD.as_bytes()));
        assert_eq!(parts[1], EXPECTED);
    }

    #[test]
    fn secrets_never_print_and_bad_ones_do_not_parse() {
        let secret = FeedSecret::from_random([9; SECRET_BYTES]);
        assert_eq!(format!("{secret:?}"), "FeedSecret([redacted])");
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(FeedSecret::parse(&secret.expose()), Some(secret));
        for bad in [
            "",
            "whsec_",
            "whsec_!!!!",
            "whsec_c2hvcnQ=",
            &format!("whsec_{}", "A".repeat(100)),
        ] {
            assert_eq!(FeedSecret::parse(bad), None, "{bad}");
        }
    }
}
