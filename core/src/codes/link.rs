//! Link codes: the card page's "also get it on WhatsApp" buttons carry one instead of a join
//! code, so an opt-in from a new channel account joins the same member.
//!
//! A link code could be forwarded, so it is narrow: it names the member *and the channel* it
//! may add, expires after [`LINK_CODE_TTL_SECS`], and the member's Durable Object accepts each
//! code once and only while the member has no account on that channel yet.
//!
//! Fields: `member u40 | channel u8 | issued_at u32`.

use super::{open, push_member, seal, secs_u32, CodeError, Kind, Reader, MAX_CLOCK_SKEW_SECS};
use crate::consent::Channel;
use crate::ids::MemberNumber;
use crate::settings::secrets::SigningKeys;

/// How long a link code is accepted after the card page drew it.
pub const LINK_CODE_TTL_SECS: u64 = 15 * 60;

/// What a link code carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkCode {
    pub member: MemberNumber,
    /// The only channel this code may add to the member.
    pub channel: Channel,
    /// Unix seconds; with the channel, it names the code for its once-only use.
    pub issued_at: u64,
}

impl LinkCode {
    /// Signs with the current key.
    pub fn issue(&self, keys: &SigningKeys) -> String {
        let mut fields = Vec::with_capacity(10);
        push_member(&mut fields, self.member);
        fields.push(channel_byte(self.channel));
        fields.extend_from_slice(&secs_u32(self.issued_at));
        seal(keys, Kind::Link, &fields)
    }

    /// Verifies a link code at `now` (Unix seconds).
    ///
    /// # Errors
    /// The [`CodeError`] that applies.
    pub fn verify(keys: &SigningKeys, text: &str, now: u64) -> Result<LinkCode, CodeError> {
        let fields = open(keys, Kind::Link, text)?;
        let mut r = Reader(&fields);
        let member = r.take_member()?;
        let channel = byte_channel(r.take_u8()?)?;
        let issued_at = r.take_u32()?;
        r.finish()?;
        if issued_at > now + MAX_CLOCK_SKEW_SECS {
            return Err(CodeError::NotYetValid);
        }
        if now.saturating_sub(issued_at) > LINK_CODE_TTL_SECS {
            return Err(CodeError::Expired);
        }
        Ok(LinkCode {
            member,
            channel,
            issued_at,
        })
    }
}

fn channel_byte(channel: Channel) -> u8 {
    match channel {
        Channel::Line => 1,
        Channel::Whatsapp => 2,
        Channel::Messenger => 3,
        Channel::Instagram => 4,
    }
}

fn byte_channel(b: u8) -> Result<Channel, CodeError> {
    Channel::ALL
        .into_iter()
        .find(|c| channel_byte(*c) == b)
        .ok_or(CodeError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::test_keys::{every_altered, forger, k1, NOW};
    use crate::codes::{Barcode, JoinCode};
    use proptest::prelude::*;

    fn link() -> LinkCode {
        LinkCode {
            member: MemberNumber::from_body(42),
            channel: Channel::Whatsapp,
            issued_at: NOW,
        }
    }

    #[test]
    fn link_codes_round_trip_short_and_fit_a_join_text() {
        let text = link().issue(&k1());
        assert!(text.len() <= 48, "{} chars", text.len());
        assert_eq!(LinkCode::verify(&k1(), &text, NOW + 10), Ok(link()));
    }

    #[test]
    fn link_codes_live_fifteen_minutes() {
        let text = link().issue(&k1());
        assert!(LinkCode::verify(&k1(), &text, NOW + LINK_CODE_TTL_SECS).is_ok());
        assert_eq!(
            LinkCode::verify(&k1(), &text, NOW + LINK_CODE_TTL_SECS + 1),
            Err(CodeError::Expired)
        );
        assert_eq!(
            LinkCode::verify(&k1(), &text, NOW - MAX_CLOCK_SKEW_SECS - 1),
            Err(CodeError::NotYetValid)
        );
    }

    #[test]
    fn altered_forged_and_other_kinds_are_rejected() {
        let text = link().issue(&k1());
        for (i, altered) in every_altered(&text) {
            assert!(
                LinkCode::verify(&k1(), &altered, NOW).is_err(),
                "position {i}"
            );
        }
        assert_eq!(
            LinkCode::verify(&k1(), &link().issue(&forger()), NOW),
            Err(CodeError::BadSignature)
        );
        assert_eq!(
            JoinCode::verify(&k1(), &text, NOW),
            Err(CodeError::WrongKind)
        );
        let barcode = Barcode::new(link().member, None, NOW).issue(&k1());
        assert_eq!(
            LinkCode::verify(&k1(), &barcode, NOW),
            Err(CodeError::WrongKind)
        );
    }

    proptest! {
        #[test]
        fn random_members_and_channels_round_trip(
            body in 0u64..MemberNumber::BODY_LIMIT,
            channel in 0usize..4,
            now in 1_600_000_000u64..4_000_000_000,
        ) {
            let l = LinkCode {
                member: MemberNumber::from_body(body),
                channel: Channel::ALL[channel],
                issued_at: now,
            };
            prop_assert_eq!(LinkCode::verify(&k1(), &l.issue(&k1()), now), Ok(l));
        }
    }
}
