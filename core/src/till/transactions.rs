//! Which member a till transaction belongs to, per store: one transaction may redeem several
//! coupons of one member, never coupons of two members (`transaction_conflict`).
//!
//! The `Till` Durable Object of a store keeps a *bound* row for each transaction that redeemed
//! something, and, in memory only, *holds* for attempts in flight. An attempt holds its
//! transaction for its member while the member's object decides; a success binds it, a refusal
//! lets the hold go, so a transaction is never bound by a refused attempt (a cashier who scanned
//! the wrong card first can still use the transaction for the right one). Holds live in memory
//! because they die with the requests that made them: if the object restarts, so did they.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::MemberNumber;
use crate::members::Answer;
use crate::till::offline::Conflict;
use crate::till::redemptions::Attempt;

/// How long a bound transaction is remembered: well past any retry or return of the purchase.
pub const KEEP_BOUND_MS: u64 = 90 * 86_400_000;

/// What the edge asks a store's `Till` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TillRequest {
    /// Redeem through it, for `member`, unless the attempt's POS key was revoked. An attempt a
    /// till queued offline that is refused becomes a conflict (answered
    /// [`TillAnswer::Conflicted`]); the same attempt again is answered by the same conflict.
    Redeem {
        member: MemberNumber,
        attempt: Attempt,
    },
    /// A queued attempt the edge refused before any object could (a forged code, too old…):
    /// kept unless a conflict of the same id is, and answered with the one kept.
    Conflict { conflict: Box<Conflict> },
    /// The store's conflicts, newest first: at most `limit`, those before `before`
    /// (`(detected_at_ms, id)` of the last one of the previous page).
    Conflicts {
        #[serde(default)]
        before: Option<(u64, String)>,
        limit: u32,
    },
    /// How many redemptions a POS key's till may queue offline.
    SetOfflineLimit { key_id: String, limit: u32 },
    /// What the till of a POS key needs to know of it: revoked or not, its offline limit.
    KeyInfo { key_id: String },
    /// The offline limits set for the store's keys (the rest have the default).
    OfflineLimits,
    /// A POS key of the store is revoked: from this answer on, it redeems nothing. (Scans read
    /// the key's record, which other isolates may hold for a while: redemptions must not.)
    RevokeKey { key_id: String },
}

/// What the `Till` object answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "till", rename_all = "snake_case")]
pub enum TillAnswer {
    /// The transaction belongs to another member.
    TransactionConflict,
    /// The attempt's POS key was revoked.
    KeyRevoked,
    /// A revocation or a limit was kept.
    Done,
    /// A queued attempt is a conflict: this one (kept now or before).
    Conflicted {
        conflict: Box<Conflict>,
    },
    Conflicts {
        conflicts: Vec<Conflict>,
    },
    Key {
        revoked: bool,
        offline_limit: u32,
    },
    Limits {
        limits: BTreeMap<String, u32>,
    },
    /// The member's object's answer.
    Member {
        answer: Answer,
    },
}

/// Attempts in flight: transaction id → (member, how many attempts).
#[derive(Debug, Default)]
pub struct Holds(BTreeMap<String, (MemberNumber, u32)>);

/// Whether an attempt may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Go on, and [`Holds::settle`] after the member's object answered.
    Held,
    /// The transaction belongs (or is being given) to another member.
    Conflict,
}

impl Holds {
    /// Claims `transaction` for `member`, given the member it is bound to (if any).
    pub fn claim(
        &mut self,
        transaction: &str,
        member: MemberNumber,
        bound: Option<MemberNumber>,
    ) -> Claim {
        if bound.is_some_and(|b| b != member) {
            return Claim::Conflict;
        }
        match self.0.get_mut(transaction) {
            Some((holder, _)) if *holder != member => Claim::Conflict,
            Some((_, n)) => {
                *n += 1;
                Claim::Held
            }
            None => {
                self.0.insert(transaction.to_owned(), (member, 1));
                Claim::Held
            }
        }
    }

    /// Ends a held attempt. Returns whether the transaction is to be bound to `member` now (the
    /// attempt redeemed something).
    pub fn settle(&mut self, transaction: &str, member: MemberNumber, redeemed: bool) -> bool {
        if let Some((holder, n)) = self.0.get_mut(transaction) {
            if *holder == member {
                *n -= 1;
                if *n == 0 {
                    self.0.remove(transaction);
                }
            }
        }
        redeemed
    }

    /// Attempts in flight (for tests and logs).
    pub fn in_flight(&self) -> usize {
        self.0.values().map(|(_, n)| *n as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: u64) -> MemberNumber {
        MemberNumber::from_body(n)
    }

    #[test]
    fn a_bound_transaction_is_its_members_only() {
        let mut holds = Holds::default();
        assert_eq!(holds.claim("T1", m(1), Some(m(1))), Claim::Held);
        assert_eq!(holds.claim("T1", m(2), Some(m(1))), Claim::Conflict);
        assert!(holds.settle("T1", m(1), true));
        assert_eq!(holds.in_flight(), 0);
    }

    #[test]
    fn concurrent_attempts_of_one_member_share_a_hold_and_another_member_waits_for_none() {
        let mut holds = Holds::default();
        assert_eq!(holds.claim("T1", m(1), None), Claim::Held);
        assert_eq!(holds.claim("T1", m(1), None), Claim::Held);
        assert_eq!(holds.claim("T1", m(2), None), Claim::Conflict);
        assert!(!holds.settle("T1", m(1), false));
        assert_eq!(
            holds.claim("T1", m(2), None),
            Claim::Conflict,
            "one attempt of member 1 is still in flight"
        );
        holds.settle("T1", m(1), false);
        assert_eq!(holds.in_flight(), 0);
        assert_eq!(
            holds.claim("T1", m(2), None),
            Claim::Held,
            "refused attempts bind nothing"
        );
    }

    #[test]
    fn settling_for_another_member_never_releases_a_hold() {
        let mut holds = Holds::default();
        holds.claim("T1", m(1), None);
        holds.settle("T1", m(2), false);
        assert_eq!(holds.claim("T1", m(2), None), Claim::Conflict);
    }
}
