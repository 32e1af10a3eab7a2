//! Join codes: on the landing page's channel buttons, they carry where the shopper scanned,
//! under which campaign, in which language they read the page, which consent-notice version the
//! page showed, and when the page issued it.
//!
//! Fields: `issued_at u32 | lang u8 | store (short str) | campaign (short str, may be empty) |
//! notice (short str, may be empty)`. Codes issued before the notice field existed end after the
//! campaign; they still verify for their 7 days, with no notice version (nothing says which one
//! their page showed).

use super::{open, push_short_str, seal, secs_u32, CodeError, Kind, Reader, MAX_CLOCK_SKEW_SECS};
use crate::ids::{CampaignId, StoreId};
use crate::lang::Lang;
use crate::settings::secrets::SigningKeys;

/// How long a join code is accepted after it is issued.
pub const JOIN_CODE_TTL_SECS: u64 = 7 * 24 * 3600;

/// What a join code carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCode {
    pub store: StoreId,
    pub campaign: Option<CampaignId>,
    pub lang: Option<Lang>,
    /// Unix seconds.
    pub issued_at: u64,
    /// The consent-notice version the page that issued the code displayed: the evidence names
    /// what the shopper was shown, whatever is in force when the webhook arrives.
    pub notice: Option<String>,
}

impl JoinCode {
    /// Signs with the current key.
    pub fn issue(&self, keys: &SigningKeys) -> String {
        let mut fields = Vec::with_capacity(48);
        fields.extend_from_slice(&secs_u32(self.issued_at));
        fields.push(lang_byte(self.lang));
        push_short_str(&mut fields, self.store.as_str());
        push_short_str(
            &mut fields,
            self.campaign.as_ref().map_or("", |c| c.as_str()),
        );
        push_short_str(&mut fields, self.notice.as_deref().unwrap_or(""));
        seal(keys, Kind::Join, &fields)
    }

    /// Verifies a join code's signature and age at `now` (Unix seconds).
    ///
    /// # Errors
    /// The [`CodeError`] that applies.
    pub fn verify(keys: &SigningKeys, text: &str, now: u64) -> Result<JoinCode, CodeError> {
        let fields = open(keys, Kind::Join, text)?;
        let mut r = Reader(&fields);
        let issued_at = r.take_u32()?;
        let lang = byte_lang(r.take_u8()?)?;
        let store = StoreId::parse(r.take_short_str()?).map_err(|_| CodeError::Malformed)?;
        let campaign = match r.take_short_str()? {
            "" => None,
            c => Some(CampaignId::parse(c).map_err(|_| CodeError::Malformed)?),
        };
        let notice = if r.0.is_empty() {
            None // issued before codes carried the notice
        } else {
            match r.take_short_str()? {
                "" => None,
                v => Some(
                    crate::stores::check_notice_version(v)
                        .map_err(|_| CodeError::Malformed)?
                        .to_owned(),
                ),
            }
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
            notice,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::test_keys::{every_altered, forger, k1, keys, NOW};

    fn join() -> JoinCode {
        JoinCode {
            store: StoreId::parse("shibuya-01").unwrap(),
            campaign: Some(CampaignId::parse("spring").unwrap()),
            lang: Some(Lang::Ja),
            issued_at: NOW,
            notice: Some("2026-11".into()),
        }
    }

    #[test]
    fn join_codes_round_trip_and_are_upper_case_letters_and_digits() {
        let code = join().issue(&k1());
        assert!(code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert!(code.len() <= 80, "{} chars: {code}", code.len());
        assert_eq!(JoinCode::verify(&k1(), &code, NOW + 60), Ok(join()));
        assert_eq!(
            JoinCode::verify(&k1(), &format!("  {}\n", code.to_lowercase()), NOW),
            Ok(join())
        );
    }

    #[test]
    fn join_code_without_campaign_language_or_notice_round_trips() {
        let plain = JoinCode {
            campaign: None,
            lang: None,
            notice: None,
            ..join()
        };
        assert_eq!(JoinCode::verify(&k1(), &plain.issue(&k1()), NOW), Ok(plain));
    }

    #[test]
    fn the_code_names_the_notice_its_page_showed_and_older_codes_name_none() {
        // The code carries its page's notice: the one in force when the webhook arrives can
        // be one the shopper never saw.
        let shown = JoinCode::verify(&k1(), &join().issue(&k1()), NOW).unwrap();
        assert_eq!(shown.notice.as_deref(), Some("2026-11"));
        // A code issued before the field existed (the same fields without the notice).
        let mut fields = Vec::new();
        fields.extend_from_slice(&secs_u32(NOW));
        fields.push(1);
        push_short_str(&mut fields, "shibuya-01");
        push_short_str(&mut fields, "spring");
        let legacy = seal(&k1(), Kind::Join, &fields);
        let old = JoinCode::verify(&k1(), &legacy, NOW).unwrap();
        assert_eq!((old.store.as_str(), old.notice), ("shibuya-01", None));
        // A notice field that is not a version is refused, not recorded.
        push_short_str(&mut fields, "bad version!");
        let bad = seal(&k1(), Kind::Join, &fields);
        assert_eq!(
            JoinCode::verify(&k1(), &bad, NOW),
            Err(CodeError::Malformed)
        );
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
        for (i, altered) in every_altered(&code) {
            assert!(
                JoinCode::verify(&k1(), &altered, NOW).is_err(),
                "position {i}"
            );
        }
    }

    #[test]
    fn forged_truncated_and_garbage_codes_are_rejected_without_panicking() {
        let code = join().issue(&k1());
        assert_eq!(
            JoinCode::verify(&k1(), &join().issue(&forger()), NOW),
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
}
