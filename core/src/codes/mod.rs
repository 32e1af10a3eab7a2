//! Signed, self-contained codes. Any edge location verifies them with the signing keys alone,
//! without a storage read:
//! - [`JoinCode`]: store + campaign + issue time, on the landing page's channel buttons;
//! - [`CardRef`]: the unguessable part of a card link (the member, signed; no expiry);
//! - [`Barcode`]: what the till scans: the member (and a coupon), with an expiry;
//! - [`LinkCode`]: a short-lived code naming a member, to add another channel to its card.
//!
//! Text form, shared by all four: RFC 4648 base32 without padding (upper-case letters and digits
//! 2–7, QR alphanumeric-safe) of `kind | kid length | kid | fields | tag`, where `tag` is the
//! first 80 bits of HMAC-SHA256(key `kid`, everything before it). The kind byte keeps one kind
//! of code from being accepted as another.

mod barcode;
mod card_ref;
mod join;
mod link;

use std::fmt;

pub use barcode::{Barcode, BARCODE_TTL_SECS, MAX_BARCODE_CHARS};
pub use card_ref::CardRef;
pub use join::{JoinCode, JOIN_CODE_TTL_SECS};
pub use link::{LinkCode, LINK_CODE_TTL_SECS};

use crate::ids::MemberNumber;
use crate::settings::secrets::SigningKeys;
use crate::signing;

/// Bytes of HMAC kept in a code (80 bits: forging one online is hopeless).
const TAG_LEN: usize = 10;
/// How far in the future an issue time may be (clocks of edge locations differ slightly).
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;
/// The longest code text accepted before decoding (every code we issue is far shorter).
const MAX_TEXT_LEN: usize = 200;

/// The first byte of each kind of code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Join = b'J' as isize,
    Card = b'C' as isize,
    Barcode = b'B' as isize,
    Link = b'L' as isize,
}

impl Kind {
    fn of(byte: u8) -> Option<Kind> {
        [Kind::Join, Kind::Card, Kind::Barcode, Kind::Link]
            .into_iter()
            .find(|k| *k as u8 == byte)
    }
}

/// Why a code was not accepted. None of these reveal anything about the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Not base32, too short, or its fields do not parse.
    Malformed,
    /// Another kind of code (a card reference where a join code was expected).
    WrongKind,
    /// Signed with a key id that is not (or no longer) configured.
    UnknownKey,
    /// The signature does not match: forged or altered.
    BadSignature,
    /// Past its validity.
    Expired,
    /// Issued further in the future than clock skew explains.
    NotYetValid,
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeError::Malformed => "the code is malformed",
            CodeError::WrongKind => "the code is of another kind",
            CodeError::UnknownKey => "the code's key is unknown",
            CodeError::BadSignature => "the code's signature does not match",
            CodeError::Expired => "the code has expired",
            CodeError::NotYetValid => "the code is not valid yet",
        })
    }
}

/// Signs `fields` as a code of `kind` with the current key.
fn seal(keys: &SigningKeys, kind: Kind, fields: &[u8]) -> String {
    let key = keys.current();
    let kid = key.kid().as_bytes();
    let mut body = Vec::with_capacity(2 + kid.len() + fields.len() + TAG_LEN);
    body.push(kind as u8);
    // Key ids are at most `MAX_KID_LEN` (16) bytes: `SigningKeys::parse` refuses longer ones.
    body.push(kid.len() as u8);
    body.extend_from_slice(kid);
    body.extend_from_slice(fields);
    let tag = signing::hmac_sha256(key.bytes(), &[&body]);
    body.extend_from_slice(&tag[..TAG_LEN]);
    crate::encoding::base32(&body)
}

/// Verifies a code of `kind` and returns its fields. Case-insensitive; surrounding white space
/// is ignored (people, apps and scanners add it).
fn open(keys: &SigningKeys, kind: Kind, text: &str) -> Result<Vec<u8>, CodeError> {
    let text = text.trim();
    if text.len() > MAX_TEXT_LEN {
        return Err(CodeError::Malformed);
    }
    let text = text.to_ascii_uppercase();
    let raw = crate::encoding::base32_decode(text.as_bytes()).ok_or(CodeError::Malformed)?;
    if raw.len() < 2 + TAG_LEN {
        return Err(CodeError::Malformed);
    }
    let (body, tag) = raw.split_at(raw.len() - TAG_LEN);
    match Kind::of(body[0]) {
        Some(k) if k == kind => {}
        Some(_) => return Err(CodeError::WrongKind),
        None => return Err(CodeError::Malformed),
    }
    let kid_len = usize::from(body[1]);
    let kid = body.get(2..2 + kid_len).ok_or(CodeError::Malformed)?;
    let kid = std::str::from_utf8(kid).map_err(|_| CodeError::Malformed)?;
    let key = keys.by_kid(kid).ok_or(CodeError::UnknownKey)?;
    if !signing::verify(key.bytes(), body, tag) {
        return Err(CodeError::BadSignature);
    }
    Ok(body[2 + kid_len..].to_vec())
}

/// Appends a string of at most 255 bytes, prefixed by its length.
fn push_short_str(out: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(255)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

/// A member number in 5 bytes (12 digits are below 2^40).
fn push_member(out: &mut Vec<u8>, member: MemberNumber) {
    out.extend_from_slice(&member.value().to_be_bytes()[3..]);
}

/// Reads fields off a verified body; any shortfall or leftover is `Malformed`.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodeError> {
        if self.0.len() < n {
            return Err(CodeError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], CodeError> {
        self.take(N)?.try_into().map_err(|_| CodeError::Malformed)
    }

    fn take_u8(&mut self) -> Result<u8, CodeError> {
        Ok(self.take_array::<1>()?[0])
    }

    fn take_u32(&mut self) -> Result<u64, CodeError> {
        Ok(u64::from(u32::from_be_bytes(self.take_array()?)))
    }

    fn take_short_str(&mut self) -> Result<&'a str, CodeError> {
        let len = usize::from(self.take_u8()?);
        std::str::from_utf8(self.take(len)?).map_err(|_| CodeError::Malformed)
    }

    fn take_member(&mut self) -> Result<MemberNumber, CodeError> {
        let bytes: [u8; 5] = self.take_array()?;
        let mut wide = [0u8; 8];
        wide[3..].copy_from_slice(&bytes);
        MemberNumber::from_value(u64::from_be_bytes(wide)).ok_or(CodeError::Malformed)
    }

    fn finish(&self) -> Result<(), CodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CodeError::Malformed)
        }
    }
}

/// Unix seconds as the 4 bytes every code carries (good until 2106).
fn secs_u32(secs: u64) -> [u8; 4] {
    (secs.min(u64::from(u32::MAX)) as u32).to_be_bytes()
}

#[cfg(test)]
pub(crate) mod test_keys {
    use crate::settings::secrets::SigningKeys;

    pub const NOW: u64 = 1_795_000_000;

    pub fn keys(spec: &str) -> SigningKeys {
        SigningKeys::parse(spec).unwrap()
    }

    /// 32 bytes "0123456789abcdef0123456789abcdef".
    pub fn k1() -> SigningKeys {
        keys("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    }

    /// Another key under the same id: a forger's.
    pub fn forger() -> SigningKeys {
        keys("k1:ZGVtby1zaWduaW5nLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24hIQ==")
    }

    /// A 16-character key id (the longest accepted).
    pub fn long_kid() -> SigningKeys {
        keys("abcdefghijklmnop:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    }

    /// Every single-character change of `code` (each position set to another base32 letter).
    pub fn every_altered(code: &str) -> impl Iterator<Item = (usize, String)> + '_ {
        (0..code.len()).map(move |i| {
            let mut chars: Vec<char> = code.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            (i, chars.into_iter().collect())
        })
    }
}
