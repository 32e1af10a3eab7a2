//! The consent ledger in Workers KV: the key scheme (no personal identifier in clear: subjects
//! appear as keyed pseudonyms), the deterministic ids that make writing an event twice the same
//! as once, the chain of member numbers a subject may get, and the ledger entry of a change.
//! What is exact about members (state, replies, links) is the `Member` Durable Object's:
//! see [`crate::members`].
//!
//! Keys (`:`-separated; never `/`):
//! - `consent:{subject}:{occurred_at_ms:013}:{event}`: one immutable event; KV metadata holds its
//!   action, time and member, so one prefix listing yields the state, the member, and whether
//!   an event is already recorded.
//! - `erasure:{number}:{erased_at_ms}`: one record per erased member (pseudonyms only).
//! - `once:{what}:{id}`: a one-time action already done (an Instagram comment's private reply,
//!   a Messenger opt-in request for one referral).

use serde::{Deserialize, Serialize};

use crate::consent::{Action, ConsentChange, ConsentEvent, InForce, Subject};
use crate::ids::MemberNumber;
use crate::signing;

/// The KV key of the active consent-notice version (written by the notices admin).
pub const ACTIVE_NOTICE_KEY: &str = "notice-active";

/// The keyed pseudonym of a subject, used in key names.
pub fn subject_pseudonym(key: &[u8], subject: &Subject) -> String {
    signing::pseudonym(key, "subject", &subject.key_material())
}

/// The change a card-page stop ("stop messages" on the card) makes to one channel account of
/// `member`, shown in `lang`, at `at_ms`: the same for the request that made it and for the
/// member object writing it again later, so both name the same ledger entry. It records
/// `purpose`, that of the grant it ends.
pub fn card_stop(
    subject: Subject,
    member: MemberNumber,
    lang: Option<crate::lang::Lang>,
    at_ms: u64,
    purpose: crate::consent::Purpose,
) -> ConsentChange {
    use crate::consent::{Collection, Source};
    ConsentChange {
        subject,
        action: Action::Withdrawn,
        purpose,
        source: Source::CardPage,
        collection: Collection::CardPage,
        store: None,
        campaign: None,
        lang,
        notice_version: None,
        occurred_at_ms: at_ms,
        platform_event_id: format!("card-stop:{member}:{at_ms}"),
    }
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

pub fn erasure_key(number: MemberNumber, erased_at_ms: u64) -> String {
    format!("erasure:{number}:{erased_at_ms:013}")
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

/// The `attempt`-th number of a subject's chain (see [`crate::members`]), derived from the
/// subject: the same subject always walks the same chain, so two first grants racing at two
/// edge locations meet in the same Durable Object.
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

/// The ledger entry of a change: the evidence, as immutable as the platform event it records,
/// with how it was collected and the controller and jurisdiction in force.
pub fn event(
    change: &ConsentChange,
    event_id: String,
    member_number: Option<MemberNumber>,
    in_force: &InForce,
    now_ms: u64,
) -> ConsentEvent {
    ConsentEvent {
        event_id,
        subject: change.subject.clone(),
        member_number,
        purpose: change.purpose.as_str().into(),
        action: change.action,
        source: change.source,
        store_id: change.store.clone(),
        campaign_id: change.campaign.clone(),
        notice_version: change.notice_version.clone(),
        lang: change.lang.map(|l| l.code().to_owned()),
        occurred_at_ms: change.occurred_at_ms,
        recorded_at_ms: now_ms,
        platform_event_id: change.platform_event_id.clone(),
        collection: Some(change.collection),
        controller: in_force.controller.clone(),
        jurisdiction: in_force.jurisdiction.clone(),
        erased_at_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{Channel, Source};
    use crate::ids::StoreId;

    const KEY: &[u8] = b"pseudonym-key-for-tests-0123456789";

    fn change(action: Action, source: Source, at: u64) -> ConsentChange {
        ConsentChange {
            subject: Subject::new(Channel::Line, "U4af4980629"),
            action,
            purpose: crate::consent::Purpose::Marketing,
            source,
            collection: crate::consent::Collection::of(source, None),
            store: None,
            campaign: None,
            lang: None,
            notice_version: None,
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
    fn the_event_carries_every_field_it_was_given() {
        let mut c = change(Action::Granted, Source::JoinCode, 10);
        c.store = Some(StoreId::parse("shibuya").unwrap());
        c.lang = Some(crate::lang::Lang::Fr);
        let n = MemberNumber::from_body(42);
        c.notice_version = Some("2026-11".into());
        let in_force = InForce {
            controller: None,
            jurisdiction: Some("FR".into()),
        };
        let e = event(&c, "evt".into(), Some(n), &in_force, 99);
        assert_eq!(e.jurisdiction.as_deref(), Some("FR"));
        assert_eq!(e.collection, Some(crate::consent::Collection::ChatMessage));
        assert_eq!(e.member_number, Some(n));
        assert_eq!(e.store_id.as_ref().map(StoreId::as_str), Some("shibuya"));
        assert_eq!(e.lang.as_deref(), Some("fr"));
        assert_eq!(e.notice_version.as_deref(), Some("2026-11"));
        assert_eq!((e.occurred_at_ms, e.recorded_at_ms), (10, 99));
        assert_eq!(e.purpose, "marketing");
    }
}
