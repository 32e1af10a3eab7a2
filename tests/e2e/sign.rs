//! Signatures and join codes made independently of the code under test: HMACs come from the
//! `openssl` command line, and the join-code layout is re-implemented here from its spec
//! (`core/src/codes/mod.rs` and `core/src/codes/join.rs` docs), so a symmetric bug in the Worker cannot pass.

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
    seal_join(key, body)
}

/// A join code whose landing page showed consent-notice version `notice` (the layout's
/// trailing short string after the campaign).
pub fn join_code_with_notice(
    kid: &str,
    key: &str,
    store: &str,
    lang: u8,
    issued_at: u32,
    notice: &str,
) -> String {
    let plain = join_code(kid, key, store, "", lang, issued_at);
    let mut body = data_encoding::BASE32_NOPAD
        .decode(plain.as_bytes())
        .unwrap();
    body.truncate(body.len() - 10);
    body.push(notice.len() as u8);
    body.extend_from_slice(notice.as_bytes());
    seal_join(key, body)
}

fn seal_join(key: &str, mut body: Vec<u8>) -> String {
    let tag = openssl_hmac(key, &body);
    body.extend_from_slice(&tag[..10]);
    data_encoding::BASE32_NOPAD.encode(&body)
}

/// What a barcode payload says, read by the documented layout (`core/src/codes/barcode.rs`):
/// base32(`B` | kid length | kid | member u40 BE | expires_at u32 BE | coupon length | coupon |
/// first 10 bytes of the HMAC), the tag checked with `openssl`.
pub struct BarcodeText {
    pub member: String,
    pub coupon: String,
    pub expires_at: u32,
}

/// Reads and checks a barcode payload; `None` when its tag or layout is wrong.
pub fn read_barcode(kid: &str, key: &str, text: &str) -> Option<BarcodeText> {
    let raw = data_encoding::BASE32_NOPAD.decode(text.as_bytes()).ok()?;
    let (body, tag) = raw.split_at(raw.len().checked_sub(10)?);
    if body.first() != Some(&b'B') || body.get(2..2 + kid.len())? != kid.as_bytes() {
        return None;
    }
    if openssl_hmac(key, body)[..10] != *tag {
        return None;
    }
    let rest = &body[2 + kid.len()..];
    let mut member = [0u8; 8];
    member[3..].copy_from_slice(rest.get(..5)?);
    let expires_at = u32::from_be_bytes(rest.get(5..9)?.try_into().ok()?);
    let len = usize::from(*rest.get(9)?);
    let coupon = std::str::from_utf8(rest.get(10..10 + len)?)
        .ok()?
        .to_owned();
    Some(BarcodeText {
        member: format!("{:012}", u64::from_be_bytes(member)),
        coupon,
        expires_at,
    })
}

/// A barcode payload by the documented layout (the inverse of [`read_barcode`]), signed with
/// `openssl`: lets the tests show the till expired, future-dated, forged and unknown codes.
pub fn make_barcode(kid: &str, key: &str, member: &str, expires_at: u32, coupon: &str) -> String {
    let value: u64 = member.parse().expect("a 12-digit member number");
    let mut body = vec![b'B', kid.len() as u8];
    body.extend_from_slice(kid.as_bytes());
    body.extend_from_slice(&value.to_be_bytes()[3..]);
    body.extend_from_slice(&expires_at.to_be_bytes());
    body.push(coupon.len() as u8);
    body.extend_from_slice(coupon.as_bytes());
    let tag = openssl_hmac(key, &body);
    body.extend_from_slice(&tag[..10]);
    data_encoding::BASE32_NOPAD.encode(&body)
}
