//! Signed, self-contained codes: join codes (store + campaign + issue time, on the landing page's
//! channel buttons) and card references (the unguessable part of a card link). Any edge location
//! verifies them with the signing keys alone, without a storage read.
//!
//! Text form: RFC 4648 base32 without padding (upper-case letters and digits 2–7) of
//! `kind | kid length | kid | fields | tag`, where `tag` is the first 80 bits of
//! HMAC-SHA256(key `kid`, everything before it).

use std::fmt;

use crate::config::SigningKeys;
use crate::ids::{CampaignId, MemberNumber, StoreId};
use crate::lang::Lang;
use crate::signing;

/// Bytes of HMAC kept in a code (80 bits: forging one online is hopeless).
const TAG_LEN: usize = 10;
/// How long a join code is accepted after it is issued.
pub const JOIN_CODE_TTL_SECS: u64 = 7 * 24 * 3600;
/// How far in the future an issue time may be (clocks of edge locations differ slightly).
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

const KIND_JOIN: u8 = b'J';
const KIND_CARD: u8 = b'C';

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
    /// Older than its validity.
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

/// What a join code carries: where the shopper scanned, under which campaign, in which language
/// they read the landing page, and when the page issued the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCode {
    pub store: StoreId,
    pub campaign: Option<CampaignId>,
    pub lang: Option<Lang>,
    /// Unix seconds.
    pub issued_at: u64,
}

impl JoinCode {
    /// Signs with the current key.
    pub fn issue(&self, keys: &SigningKeys) -> String {
        let mut fields = Vec::with_capacity(48);
        fields.extend_from_slice(&(self.issued_at.min(u64::from(u32::MAX)) as u32).to_be_bytes());
        fields.push(lang_byte(self.lang));
        push_short_str(&mut fields, self.store.as_str());
        push_short_str(
            &mut fields,
            self.campaign.as_ref().map_or("", |c| c.as_str()),
        );
        seal(keys, KIND_JOIN, &fields)
    }

    /// Verifies a join code's signature and age at `now` (Unix seconds). Case-insensitive, and
    /// surrounding white space is ignored (people and apps add it).
    ///
    /// # Errors
    /// The [`CodeError`] that applies.
    pub fn verify(keys: &SigningKeys, text: &str, now: u64) -> Result<JoinCode, CodeError> {
        let fields = open(keys, KIND_JOIN, text)?;
        let mut r = Reader(&fields);
        let issued_at = u64::from(u32::from_be_bytes(r.take_array()?));
        let lang = byte_lang(r.take_array::<1>()?[0])?;
        let store = StoreId::parse(r.take_short_str()?).map_err(|_| CodeError::Malformed)?;
        let campaign = match r.take_short_str()? {
            "" => None,
            c => Some(CampaignId::parse(c).map_err(|_| CodeError::Malformed)?),
        };
        r.finish()?;
        if issued_at > now + MAX_CLOCK_SKEW_SECS {
            return Err(CodeError::NotYetValid);
        }
        if now.saturating_sub(issued_at) > JOIN_CODE_TTL_SECS {
            return Err(CodeError::Expired);
        }
        Ok(JoinCode {
            store,
            campaign,
            lang,
            issued_at,
        })
    }
}

/// The unguessable reference in a card link: the member number, signed. It does not expire;
/// erasing the member makes it lead nowhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardRef {
    pub member: MemberNumber,
}

impl CardRef {
    pub fn issue(&self, keys: &SigningKeys) -> String {
        seal(keys, KIND_CARD, &self.member.value().to_be_bytes()[2..])
    }

    /// # Errors
    /// The [`CodeError`] that applies.
    pub fn verify(keys: &SigningKeys, text: &str) -> Result<CardRef, CodeError> {
        let fields = open(keys, KIND_CARD, text)?;
        let mut r = Reader(&fields);
        let bytes: [u8; 6] = r.take_array()?;
        r.finish()?;
        let mut wide = [0u8; 8];
        wide[2..].copy_from_slice(&bytes);
        let member =
            MemberNumber::from_value(u64::from_be_bytes(wide)).ok_or(CodeError::Malformed)?;
        Ok(CardRef { member })
    }
}

fn seal(keys: &SigningKeys, kind: u8, fields: &[u8]) -> String {
    let key = keys.current();
    let kid = key.kid().as_bytes();
    let mut body = Vec::with_capacity(2 + kid.len() + fields.len() + TAG_LEN);
    body.push(kind);
    body.push(kid.len() as u8);
    body.extend_from_slice(kid);
    body.extend_from_slice(fields);
    let tag = signing::hmac_sha256(key.bytes(), &[&body]);
    body.extend_from_slice(&tag[..TAG_LEN]);
    data_encoding::BASE32_NOPAD.encode(&body)
}

fn open(keys: &SigningKeys, kind: u8, text: &str) -> Result<Vec<u8>, CodeError> {
    let text = text.trim().to_ascii_uppercase();
    if text.len() > 200 {
        return Err(CodeError::Malformed);
    }
    let raw = data_encoding::BASE32_NOPAD
        .decode(text.as_bytes())
        .map_err(|_| CodeError::Malformed)?;
    if raw.len() < 2 + TAG_LEN {
        return Err(CodeError::Malformed);
    }
    let (body, tag) = raw.split_at(raw.len() - TAG_LEN);
    if body[0] != kind {
        return Err(if matches!(body[0], KIND_JOIN | KIND_CARD) {
            CodeError::WrongKind
        } else {
            CodeError::Malformed
        });
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

fn push_short_str(out: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(255)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

fn lang_byte(lang: Option<Lang>) -> u8 {
    match lang {
        None => 0,
        Some(Lang::Ja) => 1,
        Some(Lang::En) => 2,
        Some(Lang::Fr) => 3,
    }
}

fn byte_lang(b: u8) -> Result<Option<Lang>, CodeError> {
    Ok(match b {
        0 => None,
        1 => Some(Lang::Ja),
        2 => Some(Lang::En),
        3 => Some(Lang::Fr),
        _ => return Err(CodeError::Malformed),
    })
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

    fn take_short_str(&mut self) -> Result<&'a str, CodeError> {
        let len = usize::from(self.take_array::<1>()?[0]);
        std::str::from_utf8(self.take(len)?).map_err(|_| CodeError::Malformed)
    }

    fn finish(&self) -> Result<(), CodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CodeError::Malformed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_000_000;

    fn keys(spec: &str) -> SigningKeys {
        SigningKeys::parse(spec).unwrap()
    }

    fn k1() -> SigningKeys {
        // 32 bytes "0123456789abcdef0123456789abcdef".
        keys("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
    }

    fn join() -> JoinCode {
        JoinCode {
            store: StoreId::parse("shibuya-01").unwrap(),
            campaign: Some(CampaignId::parse("spring").unwrap()),
            lang: Some(Lang::Ja),
            issued_at: NOW,
        }
    }

    #[test]
    fn join_codes_round_trip_and_are_upper_case_letters_and_digits() {
        let code = join().issue(&k1());
        assert!(code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert!(code.len() <= 64, "{} chars: {code}", code.len());
        assert_eq!(JoinCode::verify(&k1(), &code, NOW + 60), Ok(join()));
        assert_eq!(
            JoinCode::verify(&k1(), &format!("  {}\n", code.to_lowercase()), NOW),
            Ok(join())
        );
    }

    #[test]
    fn join_code_without_campaign_or_language_round_trips() {
        let plain = JoinCode {
            campaign: None,
            lang: None,
            ..join()
        };
        assert_eq!(JoinCode::verify(&k1(), &plain.issue(&k1()), NOW), Ok(plain));
    }

    #[test]
    fn join_codes_expire_and_reject_the_far_future() {
        let code = join().issue(&k1());
        assert!(JoinCode::verify(&k1(), &code, NOW + JOIN_CODE_TTL_SECS).is_ok());
        assert_eq!(
            JoinCode::verify(&k1(), &code, NOW + JOIN_CODE_TTL_SECS + 1),
            Err(CodeError::Expired)
        );
        assert!(JoinCode::verify(&k1(), &code, NOW - MAX_CLOCK_SKEW_SECS).is_ok());
        assert_eq!(
            JoinCode::verify(&k1(), &code, NOW - MAX_CLOCK_SKEW_SECS - 1),
            Err(CodeError::NotYetValid)
        );
    }

    #[test]
    fn every_altered_character_is_rejected() {
        let code = join().issue(&k1());
        for i in 0..code.len() {
            let mut chars: Vec<char> = code.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let altered: String = chars.into_iter().collect();
            assert!(
                JoinCode::verify(&k1(), &altered, NOW).is_err(),
                "position {i}"
            );
        }
    }

    #[test]
    fn forged_truncated_and_garbage_codes_are_rejected_without_panicking() {
        let code = join().issue(&k1());
        let other = keys("k1:ZGVtby1zaWduaW5nLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24hIQ==");
        assert_eq!(
            JoinCode::verify(&k1(), &join().issue(&other), NOW),
            Err(CodeError::BadSignature)
        );
        assert_eq!(
            JoinCode::verify(&k1(), &code[..code.len() - 2], NOW),
            Err(CodeError::Malformed)
        );
        for garbage in [
            "",
            "JOIN",
            "!!!!",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &"Z".repeat(500),
        ] {
            assert!(JoinCode::verify(&k1(), garbage, NOW).is_err(), "{garbage}");
        }
    }

    #[test]
    fn rotation_old_codes_verify_until_their_key_is_dropped() {
        let old_code = join().issue(&k1());
        let rotated = keys(
            "k2:ZGVtby1zaWduaW5nLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24hIQ==,k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        );
        assert!(JoinCode::verify(&rotated, &old_code, NOW).is_ok());
        let new_code = join().issue(&rotated);
        assert_eq!(
            JoinCode::verify(&k1(), &new_code, NOW),
            Err(CodeError::UnknownKey)
        );
    }

    #[test]
    fn card_refs_round_trip_and_are_not_join_codes() {
        let card = CardRef {
            member: MemberNumber::from_body(98_765_432_109),
        };
        let text = card.issue(&k1());
        assert_eq!(CardRef::verify(&k1(), &text), Ok(card));
        assert_eq!(
            JoinCode::verify(&k1(), &text, NOW),
            Err(CodeError::WrongKind)
        );
        assert_eq!(
            CardRef::verify(&k1(), &join().issue(&k1())),
            Err(CodeError::WrongKind)
        );
    }
}
