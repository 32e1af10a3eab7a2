//! The consent ledger and member records in Workers KV: the key scheme (no personal identifier in
//! clear: subjects appear as keyed pseudonyms), the deterministic ids that make writing an event
//! twice the same as once, member numbers, and the pure decision of what a change records and
//! which reply it earns.
//!
//! Keys (`:`-separated; never `/`):
//! - `consent:{subject}:{occurred_at_ms:013}:{event}`: one immutable event; KV metadata holds its
//!   action, time and member, so one prefix listing yields the state, the member, and whether
//!   an event is already recorded.
//! - `member:{number}`: the member record (subjects, favourite store). A subject's member number
//!   is derived from the subject ([`member_number_for`]), so no separate index is needed.
//! - `once:{what}:{id}`: a one-time action already done (an Instagram comment's private reply,
//!   a Messenger opt-in request for one referral).

use serde::{Deserialize, Serialize};

use crate::consent::{
    derive_state, Action, ConsentChange, ConsentEvent, ConsentState, Source, Subject,
    PURPOSE_MARKETING,
};
use crate::ids::{MemberNumber, StoreId};
use crate::signing;

/// The KV key of the active consent-notice version (written by the notices admin).
pub const ACTIVE_NOTICE_KEY: &str = "notice-active";

/// The keyed pseudonym of a subject, used in key names.
pub fn subject_pseudonym(key: &[u8], subject: &Subject) -> String {
    signing::pseudonym(key, "subject", &subject.key_material())
}

/// The ledger's id of an event: the same platform event always gets the same id.
pub fn event_id(key: &[u8], change: &ConsentChange) -> String {
    signing::pseudonym(
        key,
        "event",
        &format!(
            "{}:{}",
            change.subject.channel.as_str(),
            change.platform_event_id
        ),
    )
}

pub fn event_key(subject: &str, occurred_at_ms: u64, event_id: &str) -> String {
    format!("consent:{subject}:{occurred_at_ms:013}:{event_id}")
}

pub fn event_prefix(subject: &str) -> String {
    format!("consent:{subject}:")
}

pub fn member_key(number: MemberNumber) -> String {
    format!("member:{number}")
}

/// The marker of a one-time action `what` (e.g. `comment`) on `id`.
pub fn once_key(key: &[u8], what: &str, id: &str) -> String {
    format!("once:{what}:{}", signing::pseudonym(key, what, id))
}

/// The metadata stored beside each event key: enough to derive state and find the member from
/// a listing alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    pub action: Action,
    pub occurred_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberNumber>,
}

/// `member:{number}`: a member and the channel subjects linked to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub number: MemberNumber,
    pub subjects: Vec<Subject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favourite_store: Option<StoreId>,
    pub created_at_ms: u64,
}

/// The member number a subject gets, derived from its pseudonym: the same subject always gets
/// the same number (two first grants racing at two edge locations agree). `attempt` > 0 picks
/// another number when the first is taken by another subject.
pub fn member_number_for(key: &[u8], subject: &Subject, attempt: u32) -> MemberNumber {
    let tag = signing::hmac_sha256(
        key,
        &[
            b"member\0",
            subject.key_material().as_bytes(),
            &attempt.to_be_bytes(),
        ],
    );
    let mut wide = [0u8; 8];
    wide.copy_from_slice(&tag[..8]);
    MemberNumber::from_body(u64::from_be_bytes(wide))
}

/// The reply a recorded change earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// One welcome message with the card link.
    Welcome,
    /// One confirmation of the withdrawal, with no marketing in it.
    WithdrawalConfirmation,
}

/// What recording a change amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub event: ConsentEvent,
    pub before: ConsentState,
    pub after: ConsentState,
    pub reply: Option<ReplyKind>,
}

/// Decides what a new (not yet recorded) change records and which reply it earns, given the
/// subject's earlier events (`(occurred_at_ms, action)`, any order).
///
/// Replies follow the state in platform time: a grant that arrives after a later withdrawal
/// earns no welcome. A `JOIN` code always earns the welcome (the shopper asked for the card);
/// a LINE unfollow earns nothing (the shopper blocked the account, nothing can reach them).
pub fn record(
    change: &ConsentChange,
    earlier: &[(u64, Action)],
    event_id: String,
    member_number: Option<MemberNumber>,
    notice_version: Option<String>,
    now_ms: u64,
) -> Recording {
    let before = derive_state(earlier.iter().copied());
    let after = derive_state(
        earlier
            .iter()
            .copied()
            .chain([(change.occurred_at_ms, change.action)]),
    );
    let reply = match (change.action, after) {
        (Action::Granted, ConsentState::Granted)
            if before != ConsentState::Granted || change.source == Source::JoinCode =>
        {
            Some(ReplyKind::Welcome)
        }
        (Action::Withdrawn, ConsentState::Withdrawn) if change.source != Source::Unfollow => {
            Some(ReplyKind::WithdrawalConfirmation)
        }
        _ => None,
    };
    let event = ConsentEvent {
        event_id,
        subject: change.subject.clone(),
        member_number,
        purpose: PURPOSE_MARKETING.into(),
        action: change.action,
        source: change.source,
        store_id: change.store.clone(),
        campaign_id: change.campaign.clone(),
        notice_version,
        lang: change.lang.map(|l| l.code().to_owned()),
        occurred_at_ms: change.occurred_at_ms,
        recorded_at_ms: now_ms,
        platform_event_id: change.platform_event_id.clone(),
    };
    Recording {
        event,
        before,
        after,
        reply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::Channel;

    const KEY: &[u8] = b"pseudonym-key-for-tests-0123456789";

    fn change(action: Action, source: Source, at: u64) -> ConsentChange {
        ConsentChange {
            subject: Subject::new(Channel::Line, "U4af4980629"),
            action,
            source,
            store: None,
            campaign: None,
            lang: None,
            occurred_at_ms: at,
            platform_event_id: format!("evt-{at}"),
        }
    }

    #[test]
    fn keys_hide_the_subject_and_sort_by_platform_time() {
        let subject = Subject::new(Channel::Line, "U4af4980629");
        let p = subject_pseudonym(KEY, &subject);
        let early = event_key(&p, 999, "b");
        let late = event_key(&p, 1_000, "a");
        assert!(
            early < late,
            "zero padding keeps lexical order = time order"
        );
        assert!(early.starts_with(&event_prefix(&p)));
        for k in [&early, &event_prefix(&p)] {
            assert!(!k.contains("U4af4980629") && !k.contains('/'), "{k}");
        }
    }

    #[test]
    fn the_same_platform_event_always_gets_the_same_id() {
        let a = change(Action::Granted, Source::Follow, 5);
        let mut again = a.clone();
        again.occurred_at_ms = 6;
        assert_eq!(event_id(KEY, &a), event_id(KEY, &again));
        let mut other = a.clone();
        other.platform_event_id = "evt-other".into();
        assert_ne!(event_id(KEY, &a), event_id(KEY, &other));
    }

    #[test]
    fn member_numbers_are_stable_per_subject_and_valid() {
        let s = Subject::new(Channel::Whatsapp, "16505551234");
        let n = member_number_for(KEY, &s, 0);
        assert_eq!(n, member_number_for(KEY, &s, 0));
        assert_ne!(n, member_number_for(KEY, &s, 1));
        assert_ne!(
            n,
            member_number_for(KEY, &Subject::new(Channel::Line, "16505551234"), 0)
        );
        assert_eq!(MemberNumber::parse(&n.to_string()), Ok(n));
    }

    #[test]
    fn first_grant_welcomes_and_a_repeat_follow_does_not() {
        let r = record(
            &change(Action::Granted, Source::Follow, 10),
            &[],
            "e".into(),
            None,
            None,
            11,
        );
        assert_eq!(
            (r.before, r.after, r.reply),
            (
                ConsentState::Unknown,
                ConsentState::Granted,
                Some(ReplyKind::Welcome)
            )
        );
        let r = record(
            &change(Action::Granted, Source::Follow, 20),
            &[(10, Action::Granted)],
            "e".into(),
            None,
            None,
            21,
        );
        assert_eq!(r.reply, None);
    }

    #[test]
    fn a_join_code_always_earns_the_card_link() {
        let r = record(
            &change(Action::Granted, Source::JoinCode, 20),
            &[(10, Action::Granted)],
            "e".into(),
            None,
            None,
            21,
        );
        assert_eq!(r.reply, Some(ReplyKind::Welcome));
    }

    #[test]
    fn late_arrivals_follow_platform_time() {
        // The withdrawal (t=20) arrived first; the grant (t=10) arrives late: still withdrawn.
        let r = record(
            &change(Action::Granted, Source::JoinCode, 10),
            &[(20, Action::Withdrawn)],
            "e".into(),
            None,
            None,
            30,
        );
        assert_eq!((r.after, r.reply), (ConsentState::Withdrawn, None));
    }

    #[test]
    fn withdrawals_confirm_except_after_a_block() {
        let r = record(
            &change(Action::Withdrawn, Source::Keyword, 20),
            &[(10, Action::Granted)],
            "e".into(),
            None,
            None,
            21,
        );
        assert_eq!(r.reply, Some(ReplyKind::WithdrawalConfirmation));
        let r = record(
            &change(Action::Withdrawn, Source::Unfollow, 20),
            &[(10, Action::Granted)],
            "e".into(),
            None,
            None,
            21,
        );
        assert_eq!((r.after, r.reply), (ConsentState::Withdrawn, None));
    }

    #[test]
    fn the_event_carries_every_field_it_was_given() {
        let mut c = change(Action::Granted, Source::JoinCode, 10);
        c.store = Some(StoreId::parse("shibuya").unwrap());
        c.lang = Some(crate::lang::Lang::Fr);
        let n = MemberNumber::from_body(42);
        let r = record(&c, &[], "evt".into(), Some(n), Some("2026-11".into()), 99);
        assert_eq!(r.event.member_number, Some(n));
        assert_eq!(
            r.event.store_id.as_ref().map(StoreId::as_str),
            Some("shibuya")
        );
        assert_eq!(r.event.lang.as_deref(), Some("fr"));
        assert_eq!(r.event.notice_version.as_deref(), Some("2026-11"));
        assert_eq!((r.event.occurred_at_ms, r.event.recorded_at_ms), (10, 99));
        assert_eq!(r.event.purpose, "marketing");
    }
}
