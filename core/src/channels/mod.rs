//! The channel platforms' webhooks: signature rules, parsing into one [`Inbound`] event type, and
//! [`interpret`], which turns an inbound event into what this project does about it.

pub mod line;
pub mod links;
pub mod meta;
pub mod reach;

use crate::codes::{CodeError, JoinCode, LinkCode};
use crate::consent::{classify_text, Action, ConsentChange, Source, Subject, TextIntent};
use crate::ids::StoreId;
use crate::settings::secrets::SigningKeys;

/// One platform event about one person, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub subject: Subject,
    /// When it happened on the platform, Unix milliseconds.
    pub occurred_at_ms: u64,
    /// The platform's id of the event, or one derived from its content where there is none.
    pub platform_event_id: String,
    pub kind: InboundKind,
    /// How to answer this person.
    pub reply_to: ReplyTarget,
    /// Other ids the platform gave for the same person on this channel (a WhatsApp `wa_id`
    /// beside its business-scoped `user_id`, the ids before a number change): one person.
    pub aliases: Vec<String>,
}

/// What the person did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundKind {
    /// LINE follow (added as friend or unblocked).
    Follow,
    /// LINE unfollow (blocked).
    Unfollow,
    /// A text message (JOIN, a stop keyword, or anything else).
    Text(String),
    /// Messenger / Instagram: opened the thread from a link with `ref={code}`.
    Referral(String),
    /// Messenger / Instagram: accepted marketing messages; the payload we sent with the request.
    MarketingOptin { payload: Option<String> },
    /// The platform's own marketing preference switch: stop (`Withdrawn`) or resume (`Granted`).
    MarketingPreference(Action),
    /// Instagram: a comment on one of the account's posts.
    Comment { comment_id: String },
    /// WhatsApp: the user's ids changed (a new phone number, a new business-scoped id); the
    /// subject and aliases are the ids before, `new_ids` the ids after (the one to write to
    /// first). No consent change.
    IdentityChange { new_ids: Vec<String> },
}

/// Where a reply to this person goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyTarget {
    /// LINE: the reply token when the event has one (else a push to the user id).
    Line {
        user_id: String,
        reply_token: Option<String>,
    },
    /// WhatsApp: the business number's phone-number id that received it, and the user.
    Whatsapp {
        phone_number_id: Option<String>,
        to: String,
    },
    /// Messenger: the PSID.
    Messenger { psid: String },
    /// Instagram: the IGSID.
    Instagram { igsid: String },
    /// Instagram: a private reply to a comment.
    InstagramComment { comment_id: String },
    /// Nothing may be sent (LINE standby mode).
    None,
}

/// What this project does about an inbound event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Record a consent change (and reply as the member's object decides).
    Consent(ConsentChange),
    /// A grant carrying a valid link code (from a member's card): a new account joins that
    /// member instead of getting a card of its own.
    Link(ConsentChange, LinkCode),
    /// Messenger / Instagram referral: ask for the marketing opt-in, carrying the code; `store`
    /// is the store of a valid join code (what the request may promise depends on it).
    AskOptin {
        code: String,
        store: Option<StoreId>,
    },
    /// Instagram comment: invite the shopper to opt in with one private reply.
    InviteFromComment { comment_id: String },
    /// The person the subject (or an alias) names now also goes by `new_ids`, the first its
    /// contact id (no consent change).
    Renumber { new_ids: Vec<String> },
    /// Nothing to do (another text, an event kind we ignore).
    Ignore,
}

/// Turns an inbound event into a decision. Codes are verified here with `keys` at `now`
/// (Unix seconds): a valid join code attributes its store, campaign and language; a valid link
/// code names the member to join; an expired or forged code attributes nothing (the shopper's own
/// `JOIN` message is still their consent).
pub fn interpret(inbound: &Inbound, keys: Option<&SigningKeys>, now: u64) -> Decision {
    let change = |action, source, code: Option<&str>| {
        let join = code.and_then(|c| keys.map(|k| JoinCode::verify(k, c, now)));
        let link = match (&join, code, keys) {
            (Some(Err(CodeError::WrongKind)), Some(c), Some(k)) => LinkCode::verify(k, c, now)
                .ok()
                .filter(|l| l.channel == inbound.subject.channel),
            _ => None,
        };
        let verified = join.and_then(Result::ok);
        let code_kind = match (&verified, &link) {
            (Some(_), _) => Some(true),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        };
        let change = ConsentChange {
            subject: inbound.subject.clone(),
            action,
            // Decided at the edge, which knows the stores' countries (`channels::reach`).
            purpose: crate::consent::Purpose::Marketing,
            source,
            collection: crate::consent::Collection::of(source, code_kind),
            store: verified.as_ref().map(|j| j.store.clone()),
            campaign: verified.as_ref().and_then(|j| j.campaign.clone()),
            lang: verified.as_ref().and_then(|j| j.lang),
            notice_version: verified.as_ref().and_then(|j| j.notice.clone()),
            occurred_at_ms: inbound.occurred_at_ms,
            platform_event_id: inbound.platform_event_id.clone(),
        };
        match link {
            Some(link) => Decision::Link(change, link),
            None => Decision::Consent(change),
        }
    };
    match &inbound.kind {
        InboundKind::Follow => change(Action::Granted, Source::Follow, None),
        InboundKind::Unfollow => change(Action::Withdrawn, Source::Unfollow, None),
        InboundKind::Text(text) => match classify_text(text) {
            TextIntent::Join(code) => change(Action::Granted, Source::JoinCode, code),
            TextIntent::Stop => change(Action::Withdrawn, Source::Keyword, None),
            TextIntent::Other => Decision::Ignore,
        },
        InboundKind::Referral(code) => Decision::AskOptin {
            code: code.clone(),
            store: keys
                .and_then(|k| JoinCode::verify(k, code, now).ok())
                .map(|j| j.store),
        },
        InboundKind::MarketingOptin { payload } => {
            change(Action::Granted, Source::Optin, payload.as_deref())
        }
        InboundKind::MarketingPreference(action) => change(*action, Source::Preference, None),
        InboundKind::Comment { comment_id } => Decision::InviteFromComment {
            comment_id: comment_id.clone(),
        },
        InboundKind::IdentityChange { new_ids } => Decision::Renumber {
            new_ids: new_ids.clone(),
        },
    }
}

/// Why a webhook request was refused. Every variant answers 401 and nothing is read or stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Mismatch,
}

/// The signature header's value, trimmed; an absent or blank header is `Missing`.
pub(crate) fn present(header: Option<&str>) -> Result<&str, SignatureError> {
    header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)
}

impl SignatureError {
    pub fn into_error(self) -> crate::error::Error {
        crate::error::Error::Unauthorized {
            code: match self {
                SignatureError::Missing => "missing_signature",
                SignatureError::Malformed | SignatureError::Mismatch => "invalid_signature",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::Channel;
    use crate::ids::StoreId;

    fn keys() -> SigningKeys {
        SigningKeys::parse("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap()
    }

    fn inbound(kind: InboundKind) -> Inbound {
        Inbound {
            subject: Subject::new(Channel::Line, "U1"),
            occurred_at_ms: 1_795_000_000_000,
            platform_event_id: "ev".into(),
            kind,
            reply_to: ReplyTarget::None,
            aliases: Vec::new(),
        }
    }

    fn code(issued_at: u64) -> String {
        JoinCode {
            store: StoreId::parse("umeda").unwrap(),
            campaign: None,
            lang: Some(crate::lang::Lang::Fr),
            issued_at,
            notice: Some("v3".into()),
        }
        .issue(&keys())
    }

    #[test]
    fn a_valid_join_code_attributes_its_store_and_language() {
        let now = 1_795_000_000;
        let d = interpret(
            &inbound(InboundKind::Text(format!("JOIN {}", code(now)))),
            Some(&keys()),
            now,
        );
        let Decision::Consent(c) = d else {
            panic!("{d:?}")
        };
        assert_eq!((c.action, c.source), (Action::Granted, Source::JoinCode));
        assert_eq!(c.store.unwrap().as_str(), "umeda");
        assert_eq!(c.lang, Some(crate::lang::Lang::Fr));
    }

    #[test]
    fn expired_or_forged_codes_grant_without_attribution() {
        let now = 1_795_000_000;
        for text in [
            format!("JOIN {}", code(now - 8 * 24 * 3600)),
            "JOIN AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        ] {
            let Decision::Consent(c) =
                interpret(&inbound(InboundKind::Text(text)), Some(&keys()), now)
            else {
                panic!()
            };
            assert_eq!((c.action, c.store), (Action::Granted, None));
        }
    }

    #[test]
    fn stop_keywords_withdraw_and_other_texts_are_ignored() {
        let d = interpret(&inbound(InboundKind::Text("配信停止".into())), None, 0);
        assert!(
            matches!(d, Decision::Consent(c) if c.action == Action::Withdrawn && c.source == Source::Keyword)
        );
        assert_eq!(
            interpret(&inbound(InboundKind::Text("hello".into())), None, 0),
            Decision::Ignore
        );
    }

    #[test]
    fn a_link_code_of_the_subjects_channel_links_and_another_channels_does_not() {
        let now = 1_795_000_000;
        let member = crate::ids::MemberNumber::from_body(5);
        let code = |channel| {
            LinkCode {
                member,
                channel,
                issued_at: now,
            }
            .issue(&keys())
        };
        let d = interpret(
            &inbound(InboundKind::Text(format!("JOIN {}", code(Channel::Line)))),
            Some(&keys()),
            now,
        );
        assert!(
            matches!(&d, Decision::Link(c, l) if l.member == member && c.store.is_none()),
            "{d:?}"
        );
        let d = interpret(
            &inbound(InboundKind::Text(format!(
                "JOIN {}",
                code(Channel::Whatsapp)
            ))),
            Some(&keys()),
            now,
        );
        assert!(matches!(d, Decision::Consent(_)), "{d:?}");
    }

    #[test]
    fn optin_payload_code_attributes_the_store() {
        let now = 1_795_000_000;
        let d = interpret(
            &inbound(InboundKind::MarketingOptin {
                payload: Some(code(now)),
            }),
            Some(&keys()),
            now,
        );
        assert!(
            matches!(d, Decision::Consent(c) if c.source == Source::Optin && c.store.is_some())
        );
    }
}
