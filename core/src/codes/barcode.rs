//! Barcode payloads: what the cashier scans. The member, and a coupon for a coupon's barcode,
//! with an expiry. Verified at the till with the signing keys alone; whether the member still
//! exists and the coupon is still unredeemed is the member's Durable Object's to say.
//!
//! Fields: `member u40 | expires_at u32 | coupon (short str, empty for the member's own barcode)`.
//! With the longest key id (16) and coupon id (16) the text is 87 characters: QR version 4 at
//! level M holds 90 alphanumeric characters.

use super::{
    open, push_member, push_short_str, seal, secs_u32, CodeError, Kind, Reader, MAX_CLOCK_SKEW_SECS,
};
use crate::ids::{CouponId, MemberNumber};
use crate::settings::secrets::SigningKeys;

/// How long a barcode stays valid after the card page drew it. Long enough for a card opened
/// at home to work offline at the till days later; short enough that a screenshot does not live
/// for ever (and each coupon is redeemed once per member anyway).
pub const BARCODE_TTL_SECS: u64 = 14 * 24 * 3600;
/// The most characters a barcode payload has (QR version 4-M alphanumeric capacity).
pub const MAX_BARCODE_CHARS: usize = 90;

/// What a barcode carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barcode {
    pub member: MemberNumber,
    pub coupon: Option<CouponId>,
    /// Unix seconds after which the till refuses it.
    pub expires_at: u64,
}

impl Barcode {
    /// A barcode drawn at `now` (Unix seconds), valid for [`BARCODE_TTL_SECS`].
    pub fn new(member: MemberNumber, coupon: Option<CouponId>, now: u64) -> Barcode {
        Barcode {
            member,
            coupon,
            expires_at: now + BARCODE_TTL_SECS,
        }
    }

    /// Signs with the current key.
    pub fn issue(&self, keys: &SigningKeys) -> String {
        let mut fields = Vec::with_capacity(32);
        push_member(&mut fields, self.member);
        fields.extend_from_slice(&secs_u32(self.expires_at));
        push_short_str(&mut fields, self.coupon.as_ref().map_or("", |c| c.as_str()));
        seal(keys, Kind::Barcode, &fields)
    }

    /// Verifies a scanned payload at `now` (Unix seconds).
    ///
    /// # Errors
    /// The [`CodeError`] that applies: `Expired` past its expiry, `NotYetValid` when its expiry
    /// is further away than a barcode drawn now would have.
    pub fn verify(keys: &SigningKeys, text: &str, now: u64) -> Result<Barcode, CodeError> {
        let fields = open(keys, Kind::Barcode, text)?;
        let mut r = Reader(&fields);
        let member = r.take_member()?;
        let expires_at = r.take_u32()?;
        let coupon = match r.take_short_str()? {
            "" => None,
            c => Some(CouponId::parse(c).map_err(|_| CodeError::Malformed)?),
        };
        r.finish()?;
        if now > expires_at {
            return Err(CodeError::Expired);
        }
        if expires_at > now + BARCODE_TTL_SECS + MAX_CLOCK_SKEW_SECS {
            return Err(CodeError::NotYetValid);
        }
        Ok(Barcode {
            member,
            coupon,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::test_keys::{every_altered, forger, k1, keys, long_kid, NOW};
    use crate::codes::{CardRef, JoinCode, LinkCode};
    use crate::consent::Channel;
    use proptest::prelude::*;

    fn coupon(id: &str) -> Option<CouponId> {
        Some(CouponId::parse(id).unwrap())
    }

    fn member_barcode() -> Barcode {
        Barcode::new(MemberNumber::from_body(12_345_678_901), None, NOW)
    }

    #[test]
    fn member_and_coupon_barcodes_round_trip() {
        let m = member_barcode();
        assert_eq!(Barcode::verify(&k1(), &m.issue(&k1()), NOW), Ok(m.clone()));
        let c = Barcode {
            coupon: coupon("spring-10"),
            ..m
        };
        assert_eq!(Barcode::verify(&k1(), &c.issue(&k1()), NOW + 1), Ok(c));
    }

    #[test]
    fn the_longest_barcode_fits_qr_version_4_at_level_m() {
        let longest = Barcode::new(
            MemberNumber::from_body(99_999_999_999),
            coupon("abcdefghijklmnop"),
            u64::from(u32::MAX) - BARCODE_TTL_SECS,
        );
        let text = longest.issue(&long_kid());
        assert!(text.len() <= MAX_BARCODE_CHARS, "{} chars", text.len());
        assert_eq!(text.len(), 87);
        let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .unwrap();
        assert!(
            matches!(qr.version(), qrcode::Version::Normal(v) if v <= 4),
            "{:?}",
            qr.version()
        );
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }

    #[test]
    fn barcodes_expire_and_refuse_a_far_future_expiry() {
        let m = member_barcode();
        let text = m.issue(&k1());
        assert!(Barcode::verify(&k1(), &text, NOW + BARCODE_TTL_SECS).is_ok());
        assert_eq!(
            Barcode::verify(&k1(), &text, NOW + BARCODE_TTL_SECS + 1),
            Err(CodeError::Expired)
        );
        assert!(Barcode::verify(&k1(), &text, NOW - MAX_CLOCK_SKEW_SECS).is_ok());
        assert_eq!(
            Barcode::verify(&k1(), &text, NOW - MAX_CLOCK_SKEW_SECS - 1),
            Err(CodeError::NotYetValid)
        );
    }

    #[test]
    fn every_single_character_change_is_rejected() {
        let c = Barcode {
            coupon: coupon("c1"),
            ..member_barcode()
        };
        let text = c.issue(&k1());
        for (i, altered) in every_altered(&text) {
            assert!(
                Barcode::verify(&k1(), &altered, NOW).is_err(),
                "position {i}: {altered}"
            );
        }
    }

    #[test]
    fn forged_wrong_key_id_and_other_kinds_are_rejected() {
        let m = member_barcode();
        assert_eq!(
            Barcode::verify(&k1(), &m.issue(&forger()), NOW),
            Err(CodeError::BadSignature)
        );
        let other_kid = keys("k9:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=");
        assert_eq!(
            Barcode::verify(&k1(), &m.issue(&other_kid), NOW),
            Err(CodeError::UnknownKey)
        );
        let card = CardRef { member: m.member }.issue(&k1());
        assert_eq!(
            Barcode::verify(&k1(), &card, NOW),
            Err(CodeError::WrongKind)
        );
        let link = LinkCode {
            member: m.member,
            channel: Channel::Line,
            issued_at: NOW,
        }
        .issue(&k1());
        assert_eq!(
            Barcode::verify(&k1(), &link, NOW),
            Err(CodeError::WrongKind)
        );
        assert_eq!(
            JoinCode::verify(&k1(), &m.issue(&k1()), NOW),
            Err(CodeError::WrongKind)
        );
    }

    proptest! {
        #[test]
        fn random_members_and_coupons_round_trip_and_fit(
            body in 0u64..MemberNumber::BODY_LIMIT,
            coupon_id in "[a-z0-9][a-z0-9-]{0,15}",
            with_coupon in any::<bool>(),
            now in 1_600_000_000u64..4_000_000_000,
        ) {
            let b = Barcode::new(
                MemberNumber::from_body(body),
                with_coupon.then(|| CouponId::parse(&coupon_id).unwrap()),
                now,
            );
            let text = b.issue(&long_kid());
            prop_assert!(text.len() <= MAX_BARCODE_CHARS);
            prop_assert_eq!(Barcode::verify(&long_kid(), &text, now), Ok(b.clone()));
            prop_assert_eq!(
                Barcode::verify(&long_kid(), &text.to_lowercase(), now + 60),
                Ok(b)
            );
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,120}") {
            let _ = Barcode::verify(&k1(), &text, NOW);
        }
    }
}
