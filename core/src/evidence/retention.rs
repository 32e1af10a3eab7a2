//! Retention of consent evidence (`RETENTION_DAYS`): which ledger entries of one subject the
//! daily job deletes. An entry goes once the consent it belongs to ended — by a withdrawal, or
//! by the member's erasure — more than the retention period ago: every entry up to the latest
//! such end that is older than the cut-off. So the evidence of a consent still in force (no
//! withdrawal after its grant) and everything after the cut-off are never deleted, and a second
//! run deletes nothing more.

use std::collections::BTreeMap;

use crate::consent::Action;
use crate::ids::MemberNumber;

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// One ledger entry as a key listing shows it (key and metadata; the value is never read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub action: Action,
    pub occurred_at_ms: u64,
    pub member: Option<MemberNumber>,
}

/// The instant before which ended consents' evidence may go: `now` minus the retention period.
pub fn cutoff_ms(now_ms: u64, retention_days: u32) -> u64 {
    now_ms.saturating_sub(u64::from(retention_days) * DAY_MS)
}

/// The keys of one subject's entries to delete, oldest first, given when each erased member was
/// erased. Each
/// member's entries are judged apart (a subject's entries may belong to an erased member and to
/// the member a later opt-in made): an erasure ends only its own member's consent.
pub fn expired<'a>(
    entries: &'a [Entry],
    erased_at: &BTreeMap<MemberNumber, u64>,
    cutoff_ms: u64,
) -> Vec<&'a str> {
    let mut members: Vec<Option<MemberNumber>> = Vec::new();
    for e in entries {
        if !members.contains(&e.member) {
            members.push(e.member);
        }
    }
    let mut doomed = Vec::new();
    for member in members {
        let own = || entries.iter().filter(move |e| e.member == member);
        let withdrawals = own()
            .filter(|e| e.action == Action::Withdrawn)
            .map(|e| e.occurred_at_ms);
        let erasure = member.and_then(|m| erased_at.get(&m).copied());
        let Some(ended) = withdrawals
            .chain(erasure)
            .filter(|at| *at <= cutoff_ms)
            .max()
        else {
            continue;
        };
        doomed.extend(own().filter(|e| e.occurred_at_ms <= ended));
    }
    // Oldest first: a run that stops part-way through a subject has deleted a prefix of each
    // member's expired entries, and keeps the withdrawal that ends them until the last goes
    // (an older grant must never outlive it: the subject would read as granted).
    doomed.sort_by_key(|e| {
        (
            e.occurred_at_ms,
            e.action == Action::Withdrawn,
            e.key.as_str(),
        )
    });
    doomed.into_iter().map(|e| e.key.as_str()).collect()
}

/// The subject pseudonym of a ledger key (`consent:{subject}:{time}:{event}`).
pub fn subject_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("consent:")?;
    rest.split(':').next().filter(|s| !s.is_empty())
}

/// The member number and time of an erasure record's key (`erasure:{number}:{time}`).
pub fn erasure_of(key: &str) -> Option<(MemberNumber, u64)> {
    let mut parts = key.strip_prefix("erasure:")?.split(':');
    let number = MemberNumber::parse_plain(parts.next()?).ok()?;
    let at = parts.next()?.parse().ok()?;
    Some((number, at))
}

/// What one run of the retention job did: counts only, never an identifier (its log line).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub retention_days: u32,
    /// Evidence of consents that ended before this instant (RFC 3339) was deleted.
    pub cutoff: String,
    pub subjects_seen: usize,
    pub entries_seen: usize,
    pub entries_deleted: usize,
    pub subjects_with_deletions: usize,
    /// `false`: the run stopped at its budget of storage operations; the next one resumes.
    pub complete: bool,
    /// Rows of the feed's log (its copies of events) deleted: older than the cut-off.
    pub feed_log_rows_deleted: u64,
}

impl Report {
    /// The log line.
    pub fn to_line(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            map.insert("level".into(), "info".into());
            map.insert("msg".into(), "retention".into());
        }
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    const NOW: u64 = 1_795_000_000_000;

    fn entry(key: &str, action: Action, days_ago: u64, member: u64) -> Entry {
        Entry {
            key: key.into(),
            action,
            occurred_at_ms: NOW - days_ago * DAY_MS,
            member: Some(MemberNumber::from_body(member)),
        }
    }

    fn run(entries: &[Entry], erased: &[(u64, u64)]) -> Vec<String> {
        let erased_at = erased
            .iter()
            .map(|(m, days_ago)| (MemberNumber::from_body(*m), NOW - days_ago * DAY_MS))
            .collect();
        expired(entries, &erased_at, cutoff_ms(NOW, 30))
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn expired_entries_come_oldest_first_so_any_prefix_leaves_the_rest_expired() {
        // Two members' entries interleaved on one subject, all ended long ago.
        let e = [
            entry("b-w2", Withdrawn, 200, 2),
            entry("a-g1", Granted, 400, 1),
            entry("b-g2", Granted, 350, 2),
            entry("a-w1", Withdrawn, 300, 1),
            entry("a-g3", Granted, 250, 1),
            entry("a-w3", Withdrawn, 240, 1),
        ];
        let all = run(&e, &[]);
        assert_eq!(all, ["a-g1", "b-g2", "a-w1", "a-g3", "a-w3", "b-w2"]);
        // A run that stops after any number of deletions: the rest is still exactly expired.
        for cut in 0..=all.len() {
            let left: Vec<Entry> = e
                .iter()
                .filter(|x| !all[..cut].contains(&x.key))
                .cloned()
                .collect();
            assert_eq!(run(&left, &[]), all[cut..], "after {cut} deletions");
        }
    }

    #[test]
    fn a_consent_that_ended_long_ago_goes_whole() {
        let e = [entry("g", Granted, 400, 1), entry("w", Withdrawn, 300, 1)];
        assert_eq!(run(&e, &[]), ["g", "w"]);
    }

    #[test]
    fn a_consent_in_force_is_kept_however_old() {
        let e = [entry("g", Granted, 4000, 1), entry("g2", Granted, 3000, 1)];
        assert!(run(&e, &[]).is_empty());
        let regranted = [
            entry("g", Granted, 400, 1),
            entry("w", Withdrawn, 300, 1),
            entry("g2", Granted, 200, 1),
        ];
        assert_eq!(run(&regranted, &[]), ["g", "w"], "the grant in force stays");
    }

    #[test]
    fn a_recent_end_keeps_everything_it_ended() {
        let e = [entry("g", Granted, 400, 1), entry("w", Withdrawn, 10, 1)];
        assert!(run(&e, &[]).is_empty());
        let two = [
            entry("g", Granted, 400, 1),
            entry("w", Withdrawn, 300, 1),
            entry("g2", Granted, 200, 1),
            entry("w2", Withdrawn, 5, 1),
        ];
        assert_eq!(
            run(&two, &[]),
            ["g", "w"],
            "only the episode that ended long ago"
        );
    }

    #[test]
    fn erasure_ends_the_consent_of_the_erased_member_only() {
        let e = [entry("g", Granted, 400, 1), entry("g2", Granted, 20, 2)];
        assert_eq!(run(&e, &[(1, 100)]), ["g"]);
        assert!(run(&e, &[(1, 10)]).is_empty(), "erased recently");
    }

    #[test]
    fn an_erasure_never_ends_the_consent_of_the_member_a_later_opt_in_made() {
        // A JOIN sent before an erasure, redelivered after it, founds a new member with a
        // grant dated before the erasure: that grant is in force.
        let e = [entry("g1", Granted, 400, 1), entry("g2", Granted, 200, 2)];
        assert_eq!(run(&e, &[(1, 100)]), ["g1"]);
    }

    #[test]
    fn running_again_deletes_nothing_more() {
        let e = [
            entry("g", Granted, 400, 1),
            entry("w", Withdrawn, 300, 1),
            entry("g2", Granted, 200, 1),
        ];
        let first = run(&e, &[]);
        let left: Vec<Entry> = e
            .iter()
            .filter(|x| !first.contains(&x.key))
            .cloned()
            .collect();
        assert!(run(&left, &[]).is_empty());
    }

    #[test]
    fn keys_name_their_subject_and_erasures() {
        assert_eq!(subject_of("consent:abc:0001795000000000:e1"), Some("abc"));
        assert_eq!(subject_of("erasure:1:2"), None);
        let n = MemberNumber::from_body(42);
        let key = crate::consent::ledger::erasure_key(n, 1_795_000_000_000);
        assert_eq!(erasure_of(&key), Some((n, 1_795_000_000_000)));
        assert_eq!(erasure_of("erasure:x:1"), None);
    }
}
