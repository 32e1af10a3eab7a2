//! A page of a member's consent history, chosen from key listings alone: a history may hold
//! tens of thousands of entries, more than one invocation may read (each value read is a KV
//! operation, a listing returns 1,000 keys for one). An entry's key carries its time and event
//! id, and its metadata its action and member ([`crate::consent::ledger::EventMeta`]), so the newest
//! entries before a position are picked from the listing, and only their values are read.
//!
//! Pages go from the newest entries to older ones; each page is in platform-time order (in a
//! tie, the withdrawal last, as [`super::person_history`] orders a history).

use crate::consent::ledger::EventMeta;
use crate::consent::Action;
use crate::ids::MemberNumber;

/// One listed entry of a member's history: which of the member's subjects it belongs to (an
/// index into the member's list), its key, and what the key and metadata tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub subject: usize,
    pub key: String,
    pub at: Position,
    /// Unknown when the entry has no readable metadata: its value decides.
    pub action: Option<Action>,
    pub member: Option<MemberNumber>,
}

/// Where an entry sorts in a history: its platform time, whether it is a withdrawal (the
/// withdrawal of a tie sorts last: it wins), its event id. A page's `older` position is the
/// oldest entry it holds; the next page holds what sorts before it. In a URL it reads
/// `{ms}-{0|1}-{event id}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub occurred_at_ms: u64,
    pub withdrawal: bool,
    pub event_id: String,
}

impl Position {
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '-');
        let occurred_at_ms = parts.next()?.parse().ok()?;
        let withdrawal = match parts.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let event_id = parts.next()?;
        if event_id.is_empty()
            || event_id.len() > 64
            || !event_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        Some(Self {
            occurred_at_ms,
            withdrawal,
            event_id: event_id.to_owned(),
        })
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.occurred_at_ms,
            u8::from(self.withdrawal),
            self.event_id
        )
    }
}

/// The listed entry of a ledger key (`consent:{subject}:{ms}:{event}`) of the member's
/// `subject`-th subject, with the key's metadata if it has any; `None` for a key of another
/// shape.
pub fn listed(subject: usize, key: &str, meta: Option<EventMeta>) -> Option<Listed> {
    let mut parts = key.strip_prefix("consent:")?.split(':');
    let _pseudonym = parts.next()?;
    let occurred_at_ms = parts.next()?.parse().ok()?;
    let event_id = parts.next()?.to_owned();
    Some(Listed {
        subject,
        key: key.to_owned(),
        at: Position {
            occurred_at_ms,
            withdrawal: meta.is_some_and(|m| m.action == Action::Withdrawn),
            event_id,
        },
        action: meta.map(|m| m.action),
        member: meta.and_then(|m| m.member),
    })
}

/// Which entries a page counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    Everything,
    /// Grants only (receipts are made of grants). An entry without metadata is kept: its value
    /// decides.
    Grants,
}

/// The entries a page reads, oldest first, and the position the next (older) page starts
/// before, if anything older remains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub entries: Vec<Listed>,
    pub older: Option<Position>,
}

/// At most `limit` of the newest entries sorting before `before` (all when `None`): each event
/// once per subject (a person's event is recorded under each of its ids), and, given a
/// `member`, entries of another member left out (a subject's history may hold an erased
/// earlier member's entries).
pub fn select(
    mut listed: Vec<Listed>,
    member: Option<MemberNumber>,
    only: Only,
    before: Option<&Position>,
    limit: usize,
) -> Selection {
    listed.retain(|l| {
        (member.is_none() || l.member.is_none() || l.member == member)
            && before.is_none_or(|b| l.at < *b)
            && (only == Only::Everything || l.action != Some(Action::Withdrawn))
    });
    listed.sort_by(|a, b| (&a.at, a.subject).cmp(&(&b.at, b.subject)));
    listed.dedup_by(|a, b| a.at == b.at && a.subject == b.subject);
    let start = listed.len().saturating_sub(limit);
    let older = (start > 0).then(|| listed[start].at.clone());
    Selection {
        entries: listed.split_off(start),
        older,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u64 = 1;

    fn member(body: u64) -> MemberNumber {
        MemberNumber::from_body(body)
    }

    fn entry(subject: usize, pseudonym: &str, ms: u64, id: &str, action: Action) -> Listed {
        let meta = EventMeta {
            action,
            occurred_at_ms: ms,
            member: Some(member(M)),
        };
        listed(
            subject,
            &format!("consent:{pseudonym}:{ms:013}:{id}"),
            Some(meta),
        )
        .unwrap()
    }

    fn ids(s: &Selection) -> Vec<&str> {
        s.entries.iter().map(|l| l.at.event_id.as_str()).collect()
    }

    #[test]
    fn a_position_reads_back_as_written_and_refuses_what_no_page_wrote() {
        let p = Position {
            occurred_at_ms: 1_765_000_000_123,
            withdrawal: true,
            event_id: "abc234".into(),
        };
        assert_eq!(p.to_string(), "1765000000123-1-abc234");
        assert_eq!(Position::parse(&p.to_string()), Some(p));
        for bad in [
            "",
            "12",
            "12-2-abc",
            "x-0-abc",
            "12-0-",
            "12-0-a:b",
            "12-0-../x",
        ] {
            assert_eq!(Position::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn pages_walk_from_the_newest_entries_to_the_oldest_without_gap_or_overlap() {
        let all: Vec<Listed> = (0..25)
            .map(|i| entry(0, "p", 1000 + i, &format!("e{i:02}"), Action::Granted))
            .collect();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = select(
                all.clone(),
                Some(member(M)),
                Only::Everything,
                before.as_ref(),
                10,
            );
            assert!(page.entries.windows(2).all(|w| w[0].at < w[1].at));
            let mut page_ids: Vec<String> = ids(&page).into_iter().map(str::to_owned).collect();
            page_ids.extend(seen);
            seen = page_ids;
            match page.older {
                Some(p) => before = Some(p),
                None => break,
            }
        }
        let want: Vec<String> = (0..25).map(|i| format!("e{i:02}")).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn an_event_recorded_under_two_ids_of_one_person_counts_once_and_the_withdrawal_of_a_tie_sorts_last(
    ) {
        let all = vec![
            entry(0, "phone", 10, "w", Action::Withdrawn),
            entry(0, "scoped", 10, "w", Action::Withdrawn),
            entry(0, "phone", 10, "z", Action::Granted),
            entry(1, "other", 10, "w", Action::Withdrawn),
        ];
        let page = select(all, Some(member(M)), Only::Everything, None, 10);
        let got: Vec<(usize, &str)> = page
            .entries
            .iter()
            .map(|l| (l.subject, l.at.event_id.as_str()))
            .collect();
        assert_eq!(got, vec![(0, "z"), (0, "w"), (1, "w")]);
        assert_eq!(page.older, None);
    }

    #[test]
    fn entries_of_an_earlier_member_and_unwanted_actions_are_left_out_before_counting() {
        let mut earlier = entry(0, "p", 5, "old", Action::Granted);
        earlier.member = Some(member(2));
        let mut unknown = entry(0, "p", 6, "bare", Action::Withdrawn);
        (unknown.member, unknown.action) = (None, None);
        let all = vec![
            earlier,
            unknown,
            entry(0, "p", 7, "g", Action::Granted),
            entry(0, "p", 8, "w", Action::Withdrawn),
        ];
        let page = select(all.clone(), Some(member(M)), Only::Grants, None, 10);
        assert_eq!(ids(&page), vec!["bare", "g"]);
        let page = select(all, Some(member(M)), Only::Everything, None, 2);
        assert_eq!(ids(&page), vec!["g", "w"]);
        assert_eq!(page.older.map(|p| p.event_id), Some("g".into()));
    }

    #[test]
    fn keys_of_another_shape_are_not_entries() {
        assert_eq!(listed(0, "erasure:1:2", None), None);
        assert_eq!(listed(0, "consent:p:notatime:e", None), None);
        let bare = listed(3, "consent:p:0000000000042:e1", None).unwrap();
        assert_eq!(
            (
                bare.subject,
                bare.at.occurred_at_ms,
                bare.action,
                bare.member
            ),
            (3, 42, None, None)
        );
    }
}
