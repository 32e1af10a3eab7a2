//! Consent evidence a regulator accepts: a person's one history across its ids, the Kantara
//! Consent Receipt of each grant ([`receipt`]), and which evidence the retention job may delete
//! ([`retention`]).

pub mod erasure;
pub mod page;
pub mod receipt;
pub mod retention;

use crate::consent::{Action, ConsentEvent};

/// One person's history from the histories of each of its ids: every event once (an event
/// recorded under several ids of the person is one event), in platform-time order (in a tie,
/// the withdrawal last: it wins).
pub fn person_history(histories: impl IntoIterator<Item = Vec<ConsentEvent>>) -> Vec<ConsentEvent> {
    let mut events: Vec<ConsentEvent> = Vec::new();
    for event in histories.into_iter().flatten() {
        if !events.iter().any(|e| e.event_id == event.event_id) {
            events.push(event);
        }
    }
    events.sort_by(|a, b| {
        (a.occurred_at_ms, a.action == Action::Withdrawn, &a.event_id).cmp(&(
            b.occurred_at_ms,
            b.action == Action::Withdrawn,
            &b.event_id,
        ))
    });
    events
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::consent::{Channel, Collection, Source, Subject, PURPOSE_MARKETING};

    pub(crate) fn event(id: &str, at: u64, action: Action, user_id: &str) -> ConsentEvent {
        ConsentEvent {
            event_id: id.into(),
            subject: Subject::new(Channel::Whatsapp, user_id),
            member_number: None,
            purpose: PURPOSE_MARKETING.into(),
            action,
            source: Source::Keyword,
            store_id: None,
            campaign_id: None,
            notice_version: None,
            lang: None,
            occurred_at_ms: at,
            recorded_at_ms: at + 1,
            platform_event_id: format!("wamid.{id}"),
            collection: Some(Collection::ChatKeyword),
            controller: None,
            jurisdiction: None,
            erased_at_ms: None,
        }
    }

    #[test]
    fn histories_of_one_persons_ids_merge_into_one_in_platform_time() {
        let phone = vec![
            event("g", 10, Action::Granted, "16505551234"),
            event("s", 30, Action::Withdrawn, "US.1"),
        ];
        let scoped = vec![
            event("s", 30, Action::Withdrawn, "US.1"),
            event("t", 30, Action::Granted, "US.1"),
        ];
        let merged = person_history([phone, scoped]);
        let ids: Vec<_> = merged.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(
            ids,
            ["g", "t", "s"],
            "once each; the withdrawal last in a tie"
        );
    }
}
