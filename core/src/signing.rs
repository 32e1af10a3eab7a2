//! HMAC-SHA256 primitives: signing, constant-time verification (full or truncated tags), and
//! keyed pseudonyms for storage key names. Everything that signs or verifies goes through here.

use std::cell::RefCell;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::settings::secrets::Secret;

type HmacSha256 = Hmac<Sha256>;

/// The full HMAC-SHA256 of `parts` concatenated, under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = new_mac(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether `tag` is the HMAC-SHA256 of `message` under `key`, or its leading bytes (at least 10,
/// 80 bits), compared in constant time.
pub fn verify(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    if tag.len() < 10 || tag.len() > 32 {
        return false;
    }
    let mut mac = new_mac(key);
    mac.update(message);
    mac.verify_truncated_left(tag).is_ok()
}

/// A webhook signature: a full 32-byte HMAC-SHA256 tag, by construction. Webhooks never accept
/// truncated tags (signed codes do, at 80 bits, in [`verify`]); taking this type instead of a
/// slice keeps a refactor from lowering webhook strength.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullTag([u8; 32]);

impl TryFrom<&[u8]> for FullTag {
    type Error = ();

    /// Anything but exactly 32 bytes is refused.
    fn try_from(bytes: &[u8]) -> Result<Self, ()> {
        <[u8; 32]>::try_from(bytes).map(FullTag).map_err(|_| ())
    }
}

/// Whether `tag` is the HMAC of `body` under any of `secrets` (webhook secrets during rotation,
/// newest first). It stops at the first that matches: the time then tells only which secret
/// signed, which the signer knows already; a wrong tag is tried against every secret, each
/// comparison in constant time. (Trying all of them doubled a genuine webhook's hashing.)
pub fn verify_with_any(secrets: &[Secret], body: &[u8], tag: &FullTag) -> bool {
    secrets.iter().any(|s| {
        let mut mac = new_mac(s.expose().as_bytes());
        mac.update(body);
        mac.verify_slice(&tag.0).is_ok()
    })
}

/// A keyed pseudonym: 128 bits of HMAC over a domain label and the value, as lowercase base32.
/// The same input always gives the same name; without the key it reveals nothing.
pub fn pseudonym(key: &[u8], domain: &str, value: &str) -> String {
    let tag = hmac_sha256(key, &[domain.as_bytes(), &[0], value.as_bytes()]);
    crate::encoding::base32_lower(&tag[..16])
}

/// Keys whose HMAC state [`new_mac`] keeps (the isolate's signing keys, webhook secrets,
/// pseudonym key and a few feed endpoints' secrets; beyond that the oldest is forgotten).
const KEYED_STATES: usize = 16;

/// HMAC-SHA256 under `key`, from its keyed state kept per isolate: keying hashes the inner and
/// outer pads, two of the four SHA-256 blocks a short code costs, and a request signs or
/// verifies several times under the same few keys. Keys here are this deployment's secrets,
/// never request input.
fn new_mac(key: &[u8]) -> HmacSha256 {
    thread_local! {
        static KEYED: RefCell<Vec<(Box<[u8]>, HmacSha256)>> = const { RefCell::new(Vec::new()) };
    }
    KEYED.with(|keyed| {
        let mut keyed = keyed.borrow_mut();
        if let Some((_, mac)) = keyed.iter().find(|(known, _)| **known == *key) {
            return mac.clone();
        }
        // HMAC accepts keys of any length; this cannot fail.
        let mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
        if keyed.len() == KEYED_STATES {
            keyed.remove(0);
        }
        keyed.push((key.into(), mac.clone()));
        mac
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2.
    const RFC4231_KEY: &[u8] = b"Jefe";
    const RFC4231_DATA: &[u8] = b"what do ya want for nothing?";
    const RFC4231_TAG: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let tag = hmac_sha256(RFC4231_KEY, &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(data_encoding::HEXLOWER.encode(&tag), RFC4231_TAG);
    }

    /// RFC 4231 test case 6 (a key longer than a block is hashed first), signed twice: the
    /// second time from the kept keyed state.
    #[test]
    fn hmac_matches_rfc_4231_case_6_fresh_and_kept() {
        let key = [0xaa; 131];
        let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        for _ in 0..2 {
            assert_eq!(
                data_encoding::HEXLOWER.encode(&hmac_sha256(&key, &[data])),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            );
        }
    }

    /// More keys than are kept, in turns: each tag is the one a freshly keyed HMAC gives, so
    /// neither a kept state nor the forgetting of one mixes keys up.
    #[test]
    fn kept_keyed_states_never_mix_keys() {
        let keys: Vec<Vec<u8>> = (0..KEYED_STATES + 5)
            .map(|i| format!("key-{i}").repeat(i % 3 + 1).into_bytes())
            .collect();
        for round in 0..3 {
            for (i, key) in keys.iter().enumerate().rev().skip(round) {
                let mut fresh = HmacSha256::new_from_slice(key).unwrap();
                fresh.update(b"message ");
                fresh.update(i.to_string().as_bytes());
                let fresh: [u8; 32] = fresh.finalize().into_bytes().into();
                let msg = format!("message {i}");
                assert_eq!(hmac_sha256(key, &[msg.as_bytes()]), fresh, "key {i}");
                assert!(verify(key, msg.as_bytes(), &fresh[..12]));
            }
        }
    }

    #[test]
    fn verify_accepts_full_and_truncated_tags_only_when_right() {
        let tag = data_encoding::HEXLOWER
            .decode(RFC4231_TAG.as_bytes())
            .unwrap();
        assert!(verify(RFC4231_KEY, RFC4231_DATA, &tag));
        assert!(verify(RFC4231_KEY, RFC4231_DATA, &tag[..10]));
        assert!(!verify(RFC4231_KEY, RFC4231_DATA, &tag[..9]), "too short");
        assert!(!verify(RFC4231_KEY, b"what do ya want for nothing!", &tag));
        let mut flipped = tag.clone();
        flipped[31] ^= 1;
        assert!(!verify(RFC4231_KEY, RFC4231_DATA, &flipped));
        assert!(!verify(b"jefe", RFC4231_DATA, &tag));
    }

    #[test]
    fn any_of_the_rotated_secrets_verifies() {
        let tag = hmac_sha256(b"old", &[b"body"]);
        let secrets = [Secret::new("new"), Secret::new("old")];
        let tag = FullTag::try_from(&tag[..]).unwrap();
        assert!(verify_with_any(&secrets, b"body", &tag));
        assert!(!verify_with_any(&secrets[..1], b"body", &tag));
        assert!(!verify_with_any(&[], b"body", &tag));
    }

    #[test]
    fn webhook_verification_refuses_truncated_tags() {
        // A truncated tag never verifies: `verify_with_any([s], b"body", &hmac[..10])` is false.
        let full = hmac_sha256(b"s", &[b"body"]);
        for len in [0, 10, 16, 31, 33] {
            let mut tag = full.to_vec();
            tag.resize(len, 0);
            assert_eq!(FullTag::try_from(&tag[..]), Err(()), "{len} bytes");
        }
        let secrets = [Secret::new("s")];
        assert!(verify_with_any(
            &secrets,
            b"body",
            &FullTag::try_from(&full[..]).unwrap()
        ));
    }

    #[test]
    fn pseudonyms_are_stable_separated_by_domain_and_hide_the_value() {
        let a = pseudonym(b"k", "subject", "line:U123");
        assert_eq!(a, pseudonym(b"k", "subject", "line:U123"));
        assert_eq!(a.len(), 26);
        assert_ne!(a, pseudonym(b"k", "event", "line:U123"));
        assert_ne!(a, pseudonym(b"k2", "subject", "line:U123"));
        let zz = pseudonym(b"k", "subject", "zzzzzzzzzz");
        assert!(
            !zz.contains("zzzzzzzzzz"),
            "the value does not show through"
        );
    }
}
