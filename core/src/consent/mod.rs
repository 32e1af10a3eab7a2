//! Consent: channels and subjects, the normalised consent change every platform event becomes,
//! the ledger's immutable event record, the state derived from a subject's events, and what a
//! shopper's text means (a stop keyword, `JOIN {code}`).

pub mod ledger;
pub mod replies;

use serde::{Deserialize, Serialize};

use crate::ids::{CampaignId, MemberNumber, StoreId};
use crate::lang::Lang;

/// The purpose of a consent to marketing messages (the ledger's `purpose` field).
pub const PURPOSE_MARKETING: &str = "marketing";
/// The purpose of a consent where the channel cannot carry marketing for the store: the
/// shopper asked for their card and a conversation, nothing more.
pub const PURPOSE_CARD: &str = "card";

/// What a consent is for: offers (`marketing`), or the card and a chat (`card`) where the
/// platform cannot deliver marketing there ([`crate::channels::reach`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// What every consent was before purposes were told apart.
    #[default]
    Marketing,
    Card,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Marketing => PURPOSE_MARKETING,
            Purpose::Card => PURPOSE_CARD,
        }
    }

    /// `marketing` where marketing can reach the account, else `card`.
    pub fn for_reach(marketing_deliverable: bool) -> Purpose {
        if marketing_deliverable {
            Purpose::Marketing
        } else {
            Purpose::Card
        }
    }
}

/// A messaging channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Line,
    Whatsapp,
    Messenger,
    Instagram,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Line,
        Channel::Whatsapp,
        Channel::Messenger,
        Channel::Instagram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Line => "line",
            Channel::Whatsapp => "whatsapp",
            Channel::Messenger => "messenger",
            Channel::Instagram => "instagram",
        }
    }

    pub fn parse(raw: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// The app's name as shoppers know it (pages, receipts).
    pub fn app_name(self) -> &'static str {
        match self {
            Channel::Line => "LINE",
            Channel::Whatsapp => "WhatsApp",
            Channel::Messenger => "Messenger",
            Channel::Instagram => "Instagram",
        }
    }
}

/// The longest channel user id the admin API looks up, in characters.
pub const MAX_USER_ID_CHARS: usize = 256;

/// Who consents: a channel and the platform's id of the person on it (LINE `userId`, WhatsApp
/// user id, Messenger PSID, Instagram IGSID).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Subject {
    pub channel: Channel,
    /// Empty in ledger entries of an erased member (the pseudonym in the key still links them).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_id: String,
}

impl Subject {
    pub fn new(channel: Channel, user_id: impl Into<String>) -> Subject {
        Subject {
            channel,
            user_id: user_id.into(),
        }
    }

    /// Whether `raw` is a channel user id the admin API looks up: 1 to
    /// [`MAX_USER_ID_CHARS`] characters (characters, not bytes, as JSON Schema counts them).
    pub fn valid_user_id(raw: &str) -> bool {
        !raw.is_empty() && raw.chars().count() <= MAX_USER_ID_CHARS
    }

    /// The text the subject's pseudonym is computed over.
    pub fn key_material(&self) -> String {
        format!("{}:{}", self.channel.as_str(), self.user_id)
    }
}

/// Granted or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Granted,
    Withdrawn,
}

/// What caused a consent change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// LINE follow (added as a friend, or unblocked).
    Follow,
    /// LINE unfollow (blocked).
    Unfollow,
    /// A `JOIN {code}` text.
    JoinCode,
    /// Messenger / Instagram marketing-messages opt-in.
    Optin,
    /// The platform's own preference switch (Messenger stop/resume, WhatsApp marketing stop/resume).
    Preference,
    /// A stop keyword.
    Keyword,
    /// The stop button of the card page.
    CardPage,
}

/// How a consent change was collected: what the shopper saw and did, as evidence of it
/// (GDPR Art. 7(1); Japan's specified e-mail rules ask for "when and how").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// The store's landing page (the consent notice shown, a channel button tapped), then the
    /// `JOIN {code}` message or the platform's opt-in carrying that page's signed code.
    LandingPageAndChat,
    /// The "also get it on" button of the member's card (a link code), then the message.
    CardLinkAndChat,
    /// A `JOIN` message typed in the chat with no valid code (no landing page seen).
    ChatMessage,
    /// LINE: the shopper added the account as a friend (or unblocked it).
    ChatFollow,
    /// Messenger / Instagram: the platform's marketing-messages opt-in, without a code.
    PlatformOptin,
    /// The platform's own marketing switch (Messenger stop / resume, WhatsApp stop / resume).
    PlatformPreference,
    /// A stop keyword sent in the chat.
    ChatKeyword,
    /// LINE: the shopper blocked the account.
    ChatBlock,
    /// The stop button of the member's card page.
    CardPage,
}

impl Collection {
    /// How a change of `source` was collected; `code` says whether it carried a valid join code
    /// (`Some(false)`: a link code of the member's card).
    pub fn of(source: Source, code: Option<bool>) -> Collection {
        match (source, code) {
            (Source::JoinCode | Source::Optin, Some(true)) => Collection::LandingPageAndChat,
            (Source::JoinCode | Source::Optin, Some(false)) => Collection::CardLinkAndChat,
            (Source::JoinCode, None) => Collection::ChatMessage,
            (Source::Optin, None) => Collection::PlatformOptin,
            (Source::Follow, _) => Collection::ChatFollow,
            (Source::Unfollow, _) => Collection::ChatBlock,
            (Source::Preference, _) => Collection::PlatformPreference,
            (Source::Keyword, _) => Collection::ChatKeyword,
            (Source::CardPage, _) => Collection::CardPage,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Collection::LandingPageAndChat => "landing_page_and_chat",
            Collection::CardLinkAndChat => "card_link_and_chat",
            Collection::ChatMessage => "chat_message",
            Collection::ChatFollow => "chat_follow",
            Collection::PlatformOptin => "platform_optin",
            Collection::PlatformPreference => "platform_preference",
            Collection::ChatKeyword => "chat_keyword",
            Collection::ChatBlock => "chat_block",
            Collection::CardPage => "card_page",
        }
    }
}

/// The retailer as data controller (`CONTROLLER_*`), named in each ledger event and receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    pub name: String,
    pub address: String,
    pub email: String,
    pub phone: String,
}

/// Who answered for a consent, and under which law, when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InForce {
    pub controller: Option<Controller>,
    /// ISO 3166-1 alpha-2 (`JURISDICTION`).
    pub jurisdiction: Option<String>,
}

/// A consent change as the platforms report it, normalised; not yet in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChange {
    pub subject: Subject,
    pub action: Action,
    /// What the consent is for: decided at the edge from the store's country (a grant), or
    /// the purpose of the grant a withdrawal ends.
    pub purpose: Purpose,
    pub source: Source,
    pub collection: Collection,
    pub store: Option<StoreId>,
    pub campaign: Option<CampaignId>,
    pub lang: Option<Lang>,
    /// The consent-notice version the shopper was shown: the one the landing page that issued
    /// the change's join code displayed (`None` without a valid join code).
    pub notice_version: Option<String>,
    /// When it happened on the platform, Unix milliseconds.
    pub occurred_at_ms: u64,
    /// The platform's id of the event (LINE `webhookEventId`, WhatsApp message id, Messenger
    /// `mid`), or one derived from the event's content where the platform gives none.
    pub platform_event_id: String,
}

/// One immutable ledger entry: the evidence of a consent change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    pub event_id: String,
    pub subject: Subject,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_number: Option<MemberNumber>,
    pub purpose: String,
    pub action: Action,
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<StoreId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<CampaignId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// When it happened on the platform, Unix milliseconds.
    pub occurred_at_ms: u64,
    /// When this service recorded it, Unix milliseconds.
    pub recorded_at_ms: u64,
    pub platform_event_id: String,
    /// How it was collected. Events recorded before this field existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<Collection>,
    /// The controller in force when it was recorded (none when unconfigured, or older).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<Controller>,
    /// The jurisdiction in force when it was recorded (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    /// Set when the member was erased and this entry lost its channel user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at_ms: Option<u64>,
}

impl ConsentEvent {
    /// Whether it is for the card only (purpose `card`); anything else recorded, older entries
    /// included, is `marketing`.
    pub fn card_only(&self) -> bool {
        self.purpose == PURPOSE_CARD
    }
}

/// The current consent of a subject, derived from its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// No event yet.
    Unknown,
    Granted,
    Withdrawn,
}

/// A subject's state: the action of its last event in platform time. Events in the same
/// millisecond: a withdrawal wins (when in doubt, do not message).
pub fn derive_state<'a>(events: impl IntoIterator<Item = (u64, Action)> + 'a) -> ConsentState {
    events
        .into_iter()
        .max_by_key(|(at, action)| (*at, *action == Action::Withdrawn))
        .map_or(ConsentState::Unknown, |(_, action)| match action {
            Action::Granted => ConsentState::Granted,
            Action::Withdrawn => ConsentState::Withdrawn,
        })
}

/// What a shopper's text means to us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextIntent<'a> {
    /// `JOIN {code}`: the code (not yet verified), or `JOIN` alone (a join with no attribution,
    /// as the Instagram comment invitation asks for).
    Join(Option<&'a str>),
    /// A stop keyword.
    Stop,
    /// Anything else: not ours to act on.
    Other,
}

/// The stop keywords of the contract, folded (upper case, half width, single spaces).
const STOP_KEYWORDS: [&str; 15] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPT OUT",
    "OPTOUT",
    "ARRET",
    "ARRÊT",
    // ARRÊT typed with a combining circumflex (decomposed form).
    "ARRE\u{302}T",
    "停止",
    "配信停止",
    "解除",
];

/// Classifies a text: stop keywords are matched case- and width-insensitively after trimming;
/// `JOIN` stands alone or is followed by white space and one code.
pub fn classify_text(text: &str) -> TextIntent<'_> {
    let folded = fold(text);
    if STOP_KEYWORDS.contains(&folded.as_str()) {
        return TextIntent::Stop;
    }
    let trimmed = text.trim_matches(is_space);
    let mut chars = trimmed.char_indices();
    let word_end = chars
        .find(|(_, c)| is_space(*c))
        .map_or(trimmed.len(), |(i, _)| i);
    if fold(&trimmed[..word_end]) == "JOIN" {
        let code = trimmed[word_end..].trim_matches(is_space);
        if code.is_empty() {
            return TextIntent::Join(None);
        }
        if !code.contains(is_space) {
            return TextIntent::Join(Some(code));
        }
    }
    TextIntent::Other
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}'
}

/// Upper case, full-width ASCII folded to half width, white space runs folded to one space.
/// (Full-width forms U+FF01–U+FF5E are ASCII shifted by 0xFEE0; a hand-written fold avoids
/// shipping Unicode normalisation tables in the Worker for this one use.)
fn fold(text: &str) -> String {
    let half: String = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c if is_space(c) => ' ',
            c => c,
        })
        .collect();
    half.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_1_to_256_characters_not_bytes() {
        assert!(Subject::valid_user_id("U4af4980629"));
        assert!(Subject::valid_user_id(&"x".repeat(256)));
        // 256 characters of 3 bytes each: 768 bytes, still one user id's worth.
        assert!(Subject::valid_user_id(&"渋".repeat(256)));
        assert!(!Subject::valid_user_id(""));
        assert!(!Subject::valid_user_id(&"x".repeat(257)));
        assert!(!Subject::valid_user_id(&"渋".repeat(257)));
    }

    #[test]
    fn every_stop_keyword_is_recognised_in_any_case_and_width() {
        let cases = [
            "STOP",
            "stop",
            " Stop \n",
            "ＳＴＯＰ",
            "ｓｔｏｐ",
            "StopAll",
            "unsubscribe",
            "Cancel",
            "end",
            "QUIT",
            "revoke",
            "opt out",
            "Opt  Out",
            "ＯＰＴ　ＯＵＴ",
            "optout",
            "arret",
            "Arrêt",
            "ARRÊT",
            "arre\u{302}t",
            "停止",
            "　配信停止　",
            "解除",
        ];
        for text in cases {
            assert_eq!(classify_text(text), TextIntent::Stop, "{text:?}");
        }
    }

    #[test]
    fn texts_that_merely_contain_a_keyword_are_not_stops() {
        for text in [
            "don't stop",
            "STOP!",
            "stopping",
            "配信停止してください",
            "the end",
            "",
        ] {
            assert_ne!(classify_text(text), TextIntent::Stop, "{text:?}");
        }
    }

    #[test]
    fn join_texts_carry_their_code() {
        assert_eq!(
            classify_text("JOIN ABC234"),
            TextIntent::Join(Some("ABC234"))
        );
        assert_eq!(
            classify_text(" join\tabc234 "),
            TextIntent::Join(Some("abc234"))
        );
        assert_eq!(
            classify_text("ＪＯＩＮ　ABC234"),
            TextIntent::Join(Some("ABC234"))
        );
        assert_eq!(classify_text("join "), TextIntent::Join(None));
        for other in ["JOIN A B", "JOINABC", "hello"] {
            assert_eq!(classify_text(other), TextIntent::Other, "{other:?}");
        }
    }

    #[test]
    fn state_follows_platform_time_not_arrival_order() {
        use Action::*;
        assert_eq!(derive_state([]), ConsentState::Unknown);
        assert_eq!(
            derive_state([(2, Withdrawn), (1, Granted)]),
            ConsentState::Withdrawn
        );
        assert_eq!(
            derive_state([(2, Granted), (1, Withdrawn)]),
            ConsentState::Granted
        );
        assert_eq!(
            derive_state([(5, Granted), (5, Withdrawn), (5, Granted)]),
            ConsentState::Withdrawn,
            "a withdrawal in the same millisecond wins"
        );
    }

    #[test]
    fn ledger_event_serialises_every_contract_field() {
        let event = ConsentEvent {
            event_id: "e1".into(),
            subject: Subject::new(Channel::Line, "U1"),
            member_number: Some(MemberNumber::from_body(1)),
            purpose: PURPOSE_MARKETING.into(),
            action: Action::Granted,
            source: Source::JoinCode,
            store_id: Some(StoreId::parse("s1").unwrap()),
            campaign_id: Some(CampaignId::parse("c1").unwrap()),
            notice_version: Some("2026-11".into()),
            lang: Some("ja".into()),
            occurred_at_ms: 1,
            recorded_at_ms: 2,
            platform_event_id: "01H".into(),
            collection: Some(Collection::LandingPageAndChat),
            controller: Some(Controller {
                name: "Demo Retail".into(),
                address: "1-1 Shibuya, Tokyo".into(),
                email: "privacy@example.com".into(),
                phone: "+81 3 0000 0000".into(),
            }),
            jurisdiction: Some("JP".into()),
            erased_at_ms: None,
        };
        let v = serde_json::to_value(&event).unwrap();
        for field in [
            "event_id",
            "subject",
            "member_number",
            "purpose",
            "action",
            "source",
            "store_id",
            "campaign_id",
            "notice_version",
            "lang",
            "occurred_at_ms",
            "recorded_at_ms",
            "platform_event_id",
            "collection",
            "controller",
            "jurisdiction",
        ] {
            assert!(v.get(field).is_some(), "{field}");
        }
        assert_eq!(v["collection"], "landing_page_and_chat");
        assert_eq!(v["action"], "granted");
        assert_eq!(v["source"], "join_code");
        assert_eq!(v["subject"]["channel"], "line");
        let back: ConsentEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn an_event_recorded_before_the_evidence_fields_still_reads() {
        let old = r#"{"event_id":"e","subject":{"channel":"whatsapp","user_id":"16505551234"},
            "purpose":"marketing","action":"withdrawn","source":"keyword",
            "occurred_at_ms":1,"recorded_at_ms":2,"platform_event_id":"wamid.1"}"#;
        let e: ConsentEvent = serde_json::from_str(old).unwrap();
        assert_eq!(
            (e.collection, e.controller, e.jurisdiction),
            (None, None, None)
        );
    }

    #[test]
    fn collection_follows_source_and_code() {
        use Collection as C;
        assert_eq!(
            Collection::of(Source::JoinCode, Some(true)),
            C::LandingPageAndChat
        );
        assert_eq!(
            Collection::of(Source::Optin, Some(true)),
            C::LandingPageAndChat
        );
        assert_eq!(
            Collection::of(Source::JoinCode, Some(false)),
            C::CardLinkAndChat
        );
        assert_eq!(Collection::of(Source::JoinCode, None), C::ChatMessage);
        assert_eq!(Collection::of(Source::Optin, None), C::PlatformOptin);
        assert_eq!(Collection::of(Source::Follow, None), C::ChatFollow);
        assert_eq!(Collection::of(Source::Unfollow, None), C::ChatBlock);
        assert_eq!(
            Collection::of(Source::Preference, None),
            C::PlatformPreference
        );
        assert_eq!(Collection::of(Source::Keyword, None), C::ChatKeyword);
        assert_eq!(Collection::of(Source::CardPage, None), C::CardPage);
        let json = serde_json::to_value(C::CardLinkAndChat).unwrap();
        assert_eq!(json, C::CardLinkAndChat.as_str());
    }
}
