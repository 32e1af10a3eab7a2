//! An erasure's work after the member's object forgot the person: every ledger entry of each
//! erased subject rewritten without the channel user id, each pointer other slots hold
//! removed, one erasure record written. A history may hold more entries than one invocation
//! may touch, so the work is a step machine the member's object keeps and drives: the request
//! that erased runs the first steps, the object's alarm the rest, and each step's progress is
//! saved before the next, so a stop anywhere resumes where it was (every step can be done
//! twice safely).

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::consent::Channel;
use crate::ids::MemberNumber;

/// One erased subject's share of the work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub channel: Channel,
    pub pseudonym: String,
    /// The slot holding the subject's pointer (the member's own slot: none to remove).
    pub home: MemberNumber,
    /// Where the next redaction step starts in the subject's history (a KV list cursor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default)]
    pub redacted: bool,
    #[serde(default)]
    pub pointer_removed: bool,
}

/// The erasure of `member` at `erased_at_ms`, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub member: MemberNumber,
    pub erased_at_ms: u64,
    pub subjects: Vec<Pending>,
    /// Ledger entries rewritten so far.
    #[serde(default)]
    pub events_redacted: u64,
    /// The erasure record is written: the erasure is complete.
    #[serde(default)]
    pub recorded: bool,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Rewrite the next entries of subject `index`'s history, from `cursor`.
    Redact {
        index: usize,
        pseudonym: String,
        cursor: Option<String>,
    },
    /// Remove subject `index`'s pointer from the slot `home`.
    RemovePointer {
        index: usize,
        pseudonym: String,
        home: MemberNumber,
    },
    /// Write the erasure record (under [`crate::consent::ledger::erasure_key`]).
    Record,
    Done,
}

impl Erasure {
    /// The work of erasing `member`, whose object's erased subjects are `subjects` (channel,
    /// pseudonym, the slot holding its pointer).
    pub fn new(
        member: MemberNumber,
        erased_at_ms: u64,
        subjects: impl IntoIterator<Item = (Channel, String, MemberNumber)>,
    ) -> Self {
        Self {
            member,
            erased_at_ms,
            subjects: subjects
                .into_iter()
                .map(|(channel, pseudonym, home)| Pending {
                    channel,
                    pseudonym,
                    home,
                    cursor: None,
                    redacted: false,
                    pointer_removed: home == member,
                })
                .collect(),
            events_redacted: 0,
            recorded: false,
        }
    }

    /// The next step: each subject's history, then its pointer, then the record.
    pub fn next(&self) -> Step {
        for (index, s) in self.subjects.iter().enumerate() {
            if !s.redacted {
                return Step::Redact {
                    index,
                    pseudonym: s.pseudonym.clone(),
                    cursor: s.cursor.clone(),
                };
            }
            if !s.pointer_removed {
                return Step::RemovePointer {
                    index,
                    pseudonym: s.pseudonym.clone(),
                    home: s.home,
                };
            }
        }
        if self.recorded {
            Step::Done
        } else {
            Step::Record
        }
    }

    /// A redaction step of subject `index` rewrote `rewritten` entries and stopped at `cursor`
    /// (`None`: the history is done).
    pub fn redacted(&mut self, index: usize, rewritten: u64, cursor: Option<String>) {
        if let Some(s) = self.subjects.get_mut(index) {
            s.redacted = cursor.is_none();
            s.cursor = cursor;
            self.events_redacted += rewritten;
        }
    }

    /// A redaction step's saved cursor is refused (an expired cursor): the
    /// subject's history starts over (entries already rewritten are skipped).
    pub fn restart(&mut self, index: usize) {
        if let Some(s) = self.subjects.get_mut(index) {
            s.cursor = None;
        }
    }

    pub fn pointer_removed(&mut self, index: usize) {
        if let Some(s) = self.subjects.get_mut(index) {
            s.pointer_removed = true;
        }
    }

    pub fn mark_recorded(&mut self) {
        self.recorded = true;
    }

    pub fn complete(&self) -> bool {
        self.next() == Step::Done
    }

    /// The erasure record kept after the erasure (pseudonyms only), and the admin's answer.
    pub fn record(&self) -> serde_json::Value {
        json!({
            "member_number": self.member,
            "erased_at_ms": self.erased_at_ms,
            "subjects": self.subjects.iter()
                .map(|s| json!({ "channel": s.channel, "pseudonym": s.pseudonym }))
                .collect::<Vec<_>>(),
            "events_redacted": self.events_redacted,
            "complete": self.complete(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: u64 = 7;

    fn subject(pseudonym: &str, home: u64) -> (Channel, String, MemberNumber) {
        (
            Channel::Line,
            pseudonym.into(),
            MemberNumber::from_body(home),
        )
    }

    /// Drives `e` to the end with histories of `sizes[i]` entries listed `page` at a time,
    /// stopping (and resuming from a saved copy) after every `stop_every` steps.
    fn drive(e: &mut Erasure, sizes: &[u64], page: u64, stop_every: usize) -> Vec<Step> {
        let mut done_steps = Vec::new();
        let mut at = vec![0u64; sizes.len()];
        loop {
            let saved = serde_json::to_string(&*e).unwrap();
            *e = serde_json::from_str(&saved).unwrap();
            for _ in 0..stop_every {
                let step = e.next();
                done_steps.push(step.clone());
                match step {
                    Step::Redact { index, cursor, .. } => {
                        assert_eq!(
                            cursor.map(|c| c.parse::<u64>().unwrap()).unwrap_or(0),
                            at[index]
                        );
                        let n = page.min(sizes[index] - at[index]);
                        at[index] += n;
                        let next = (at[index] < sizes[index]).then(|| at[index].to_string());
                        e.redacted(index, n, next);
                    }
                    Step::RemovePointer { index, .. } => e.pointer_removed(index),
                    Step::Record => e.mark_recorded(),
                    Step::Done => return done_steps,
                }
            }
        }
    }

    #[test]
    fn every_entry_of_every_subject_is_rewritten_once_before_the_record_however_often_it_stops() {
        let subjects = [subject("a", OWN), subject("b", 9), subject("c", OWN)];
        for stop_every in [1, 2, 5, 100] {
            let mut e = Erasure::new(MemberNumber::from_body(OWN), 10, subjects.clone());
            let steps = drive(&mut e, &[10_000, 3, 0], 200, stop_every);
            assert!(e.complete());
            assert_eq!(e.events_redacted, 10_003);
            let redacts = steps
                .iter()
                .filter(|s| matches!(s, Step::Redact { .. }))
                .count();
            assert_eq!(
                redacts,
                50 + 1 + 1,
                "one step per page, one for an empty history"
            );
            let pointers: Vec<_> = steps
                .iter()
                .filter_map(|s| match s {
                    Step::RemovePointer { pseudonym, .. } => Some(pseudonym.as_str()),
                    _ => None,
                })
                .collect();
            assert_eq!(pointers, vec!["b"], "only a pointer another slot holds");
            let record_at = steps.iter().position(|s| *s == Step::Record).unwrap();
            assert_eq!(record_at, steps.len() - 2, "the record comes last");
            assert_eq!(e.record()["complete"], true);
        }
    }

    #[test]
    fn an_expired_cursor_starts_the_subject_over_and_the_erasure_still_ends() {
        let mut e = Erasure::new(MemberNumber::from_body(OWN), 10, [subject("a", OWN)]);
        e.redacted(0, 200, Some("200".into()));
        e.restart(0);
        assert_eq!(
            e.next(),
            Step::Redact {
                index: 0,
                pseudonym: "a".into(),
                cursor: None
            }
        );
        assert!(!e.complete());
        assert_eq!(e.record()["complete"], false);
        e.redacted(0, 0, None);
        assert_eq!(e.next(), Step::Record);
        e.mark_recorded();
        assert!(e.complete());
    }
}
