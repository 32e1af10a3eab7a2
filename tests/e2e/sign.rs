//! Signatures and join codes made independently of the code under test: HMACs come from the
//! `openssl` command line, and the join-code layout is re-implemented here from its spec
//! (`src/codes.rs` docs), so a symmetric bug in the Worker cannot pass.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;

/// HMAC-SHA256 of `body` under `key`, by `openssl dgst`.
pub fn openssl_hmac(key: &str, body: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key, "-binary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl is installed (scripts/setup.sh)");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 32);
    out.stdout
}

/// `x-line-signature`: base64 of the HMAC.
pub fn line_signature(secret: &str, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(openssl_hmac(secret, body))
}

/// `X-Hub-Signature-256`: `sha256=` + lowercase hex of the HMAC.
pub fn meta_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        data_encoding::HEXLOWER.encode(&openssl_hmac(secret, body))
    )
}

/// A join code by the documented layout: base32(`J` | kid length | kid | issued_at u32 BE |
/// lang | store length | store | campaign length | campaign | first 10 bytes of the HMAC).
pub fn join_code(
    kid: &str,
    key: &str,
    store: &str,
    campaign: &str,
    lang: u8,
    issued_at: u32,
) -> String {
    let mut body = vec![b'J', kid.len() as u8];
    body.extend_from_slice(kid.as_bytes());
    body.extend_from_slice(&issued_at.to_be_bytes());
    body.push(lang);
    body.push(store.len() as u8);
    body.extend_from_slice(store.as_bytes());
    body.push(campaign.len() as u8);
    body.extend_from_slice(campaign.as_bytes());
    let tag = openssl_hmac(key, &body);
    body.extend_from_slice(&tag[..10]);
    data_encoding::BASE32_NOPAD.encode(&body)
}
