//! Card references: the unguessable part of a card link, `/card/{ref}`. The member number,
//! signed; no expiry (the link sits in the shopper's chat history for months). Erasing the
//! member makes it lead nowhere.
//!
//! Fields: `member number u48` (6 bytes, big-endian).

use super::{open, seal, CodeError, Kind, Reader};
use crate::ids::MemberNumber;
use crate::settings::secrets::SigningKeys;

/// A member's card reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardRef {
    pub member: MemberNumber,
}

impl CardRef {
    pub fn issue(&self, keys: &SigningKeys) -> String {
        seal(keys, Kind::Card, &self.member.value().to_be_bytes()[2..])
    }

    /// # Errors
    /// The [`CodeError`] that applies.
    pub fn verify(keys: &SigningKeys, text: &str) -> Result<CardRef, CodeError> {
        let fields = open(keys, Kind::Card, text)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::test_keys::{every_altered, forger, k1, NOW};
    use crate::codes::JoinCode;
    use crate::ids::StoreId;

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
        let join = JoinCode {
            store: StoreId::parse("a").unwrap(),
            campaign: None,
            lang: None,
            issued_at: NOW,
            notice: None,
        };
        assert_eq!(
            CardRef::verify(&k1(), &join.issue(&k1())),
            Err(CodeError::WrongKind)
        );
    }

    #[test]
    fn altered_or_forged_card_refs_are_rejected() {
        let card = CardRef {
            member: MemberNumber::from_body(1),
        };
        let text = card.issue(&k1());
        for (i, altered) in every_altered(&text) {
            assert!(CardRef::verify(&k1(), &altered).is_err(), "position {i}");
        }
        assert_eq!(
            CardRef::verify(&k1(), &card.issue(&forger())),
            Err(CodeError::BadSignature)
        );
    }
}
