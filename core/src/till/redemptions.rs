//! Redeeming a coupon, exactly once per member: the check-and-set the member's Durable Object
//! takes (pure; the object only serialises it).
//!
//! An attempt names the coupon's terms, the till's store, register and transaction. The answer,
//! in this order:
//! 1. the same coupon already redeemed under the same transaction of the same store: the first
//!    answer again (a till retrying after a timeout never gets a false "already redeemed";
//!    transaction ids are the store's registers' own, so another store's "T1" is another);
//! 2. redeemed under another transaction: `already_redeemed`, with when and where;
//! 3. outside its window or not valid at this store: `expired`, `not_yet_valid`, `not_valid_here`;
//! 4. a consent-gated coupon while no channel's consent is granted: `consent_withdrawn` (a
//!    withdrawal that reached the object blocks it at once, at every till);
//! 5. otherwise the redemption, recorded with store, register, transaction and time.
//!
//! Refusals are not recorded: a retry is decided afresh.
//!
//! An attempt a till queued while offline carries `offline_at_ms`: it is decided as of that
//! moment (its window, and the consent the caller reads as of then), and its redemption is dated
//! then, with `synced_at_ms` saying when it arrived.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::coupons::{window_status, Coupon, CouponStatus};
use crate::ids::{CouponId, MemberNumber, StoreId, TillId};
use crate::time::format_rfc3339;

/// What a redemption needs to know of a coupon (the admin may change it; the attempt carries
/// the terms the till read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponTerms {
    pub id: CouponId,
    pub valid_from_ms: u64,
    pub valid_until_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stores: Option<Vec<StoreId>>,
    pub requires_consent: bool,
}

impl From<&Coupon> for CouponTerms {
    fn from(c: &Coupon) -> Self {
        CouponTerms {
            id: c.id.clone(),
            valid_from_ms: c.valid_from_ms,
            valid_until_ms: c.valid_until_ms,
            stores: c.stores.clone(),
            requires_consent: c.requires_consent,
        }
    }
}

impl CouponTerms {
    /// The coupon's status at `now_ms` at `store`, before any redemption.
    pub fn status(&self, now_ms: u64, store: &StoreId) -> CouponStatus {
        window_status(
            (self.valid_from_ms, self.valid_until_ms),
            self.stores.as_deref(),
            now_ms,
            Some(store),
        )
    }
}

/// A till's attempt to redeem a coupon of a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub coupon: CouponTerms,
    pub store: StoreId,
    pub register: TillId,
    pub transaction: TillId,
    /// The id of the POS key that made the attempt (a leaked key leaves a trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos_key_id: Option<String>,
    /// When the till redeemed it while offline (it arrives later, with its queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_at_ms: Option<u64>,
}

impl Attempt {
    /// The moment the attempt is decided as of: when the till made it.
    pub fn at_ms(&self, now_ms: u64) -> u64 {
        self.offline_at_ms.unwrap_or(now_ms)
    }
}

/// A redemption: the link between a member and a purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub id: String,
    pub coupon_id: CouponId,
    pub member_number: MemberNumber,
    pub store_id: StoreId,
    pub register_id: TillId,
    pub transaction_id: TillId,
    pub redeemed_at_ms: u64,
    /// The POS key that redeemed it (none for redemptions recorded before keys were named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos_key_id: Option<String>,
    /// For a redemption made offline: when its till's queue brought it (`redeemed_at_ms` is
    /// when it happened, the `offline_at` of the till).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_at_ms: Option<u64>,
}

impl Redemption {
    /// Whether the till made it offline.
    pub fn is_offline(&self) -> bool {
        self.synced_at_ms.is_some()
    }

    /// As the API shows it (`POST /api/pos/redeem`, the access export).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "id": self.id,
            "coupon_id": self.coupon_id,
            "member_number": self.member_number,
            "store_id": self.store_id,
            "register_id": self.register_id,
            "transaction_id": self.transaction_id,
            "redeemed_at": format_rfc3339(self.redeemed_at_ms),
            "pos_key_id": self.pos_key_id,
            "offline": self.is_offline(),
        });
        if let Some(synced) = self.synced_at_ms {
            v["offline_at"] = format_rfc3339(self.redeemed_at_ms).into();
            v["synced_at"] = format_rfc3339(synced).into();
        }
        v
    }
}

/// Why an attempt was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// Redeemed before, under another transaction.
    AlreadyRedeemed {
        first: Redemption,
    },
    Expired,
    NotYetValid,
    NotValidHere,
    ConsentWithdrawn,
}

impl Refusal {
    /// What the till is told, in English (the till page shows its own words by code).
    pub fn message(&self, coupon: &CouponTerms) -> String {
        match self {
            Refusal::Expired => format!(
                "This coupon ended on {}.",
                format_rfc3339(coupon.valid_until_ms)
            ),
            Refusal::NotYetValid => format!(
                "This coupon starts on {}.",
                format_rfc3339(coupon.valid_from_ms)
            ),
            Refusal::NotValidHere => "This coupon is not valid at this store.".into(),
            Refusal::ConsentWithdrawn => {
                "This coupon is for members who receive our messages; this member stopped them."
                    .into()
            }
            Refusal::AlreadyRedeemed { first } => format!(
                "Already redeemed on {} at store {}, register {}.",
                format_rfc3339(first.redeemed_at_ms),
                first.store_id,
                first.register_id.as_str()
            ),
        }
    }

    /// The error code of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::AlreadyRedeemed { .. } => "already_redeemed",
            Refusal::Expired => "expired",
            Refusal::NotYetValid => "not_yet_valid",
            Refusal::NotValidHere => "not_valid_here",
            Refusal::ConsentWithdrawn => "consent_withdrawn",
        }
    }
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// Recorded now.
    Redeemed {
        redemption: Redemption,
    },
    /// The same transaction again: the first answer.
    Replayed {
        redemption: Redemption,
    },
    Refused(Refusal),
}

impl Outcome {
    /// Whether the till's transaction now belongs to the member: something was redeemed under
    /// it (now, or by the same request before). A refusal leaves it free for another member.
    pub fn binds_transaction(&self) -> bool {
        matches!(self, Outcome::Redeemed { .. } | Outcome::Replayed { .. })
    }
}

/// Decides an attempt at `now_ms` against the member's redemptions so far (as of the attempt's
/// `offline_at_ms` when it has one, with `consent_granted` read as of then); on
/// [`Outcome::Redeemed`] the caller appends the redemption.
pub fn decide(
    member: MemberNumber,
    redemptions: &[Redemption],
    consent_granted: bool,
    attempt: &Attempt,
    now_ms: u64,
) -> Outcome {
    if let Some(first) = redemptions
        .iter()
        .find(|r| r.coupon_id == attempt.coupon.id)
    {
        return if first.transaction_id == attempt.transaction && first.store_id == attempt.store {
            Outcome::Replayed {
                redemption: first.clone(),
            }
        } else {
            Outcome::Refused(Refusal::AlreadyRedeemed {
                first: first.clone(),
            })
        };
    }
    let at_ms = attempt.at_ms(now_ms);
    match attempt.coupon.status(at_ms, &attempt.store) {
        CouponStatus::Expired => return Outcome::Refused(Refusal::Expired),
        CouponStatus::NotYetValid => return Outcome::Refused(Refusal::NotYetValid),
        CouponStatus::NotValidHere => return Outcome::Refused(Refusal::NotValidHere),
        CouponStatus::Available | CouponStatus::Redeemed => {}
    }
    if attempt.coupon.requires_consent && !consent_granted {
        return Outcome::Refused(Refusal::ConsentWithdrawn);
    }
    Outcome::Redeemed {
        redemption: Redemption {
            id: redemption_id(member, &attempt.coupon.id),
            coupon_id: attempt.coupon.id.clone(),
            member_number: member,
            store_id: attempt.store.clone(),
            register_id: attempt.register.clone(),
            transaction_id: attempt.transaction.clone(),
            redeemed_at_ms: at_ms,
            pos_key_id: attempt.pos_key_id.clone(),
            synced_at_ms: attempt.offline_at_ms.map(|_| now_ms),
        },
    }
}

/// A redemption's id: `rd_` and 16 base32 characters of a hash of the member and the coupon
/// (a coupon is redeemed once per member, so the pair names the redemption; the hash keeps the
/// member number out of places that only need the id).
pub fn redemption_id(member: MemberNumber, coupon: &CouponId) -> String {
    let digest = Sha256::new()
        .chain_update(member.to_string())
        .chain_update(b"/")
        .chain_update(coupon.as_str())
        .finalize();
    format!("rd_{}", crate::encoding::base32_lower(&digest[..10]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_795_000_000_000;
    const DAY: u64 = 86_400_000;

    fn store(s: &str) -> StoreId {
        StoreId::parse(s).unwrap()
    }

    fn till(s: &str) -> TillId {
        TillId::parse(s).unwrap()
    }

    fn terms(stores: Option<Vec<&str>>, requires_consent: bool) -> CouponTerms {
        CouponTerms {
            id: CouponId::parse("welcome").unwrap(),
            valid_from_ms: T0,
            valid_until_ms: T0 + DAY,
            stores: stores.map(|s| s.into_iter().map(store).collect()),
            requires_consent,
        }
    }

    fn attempt(transaction: &str, at: &str) -> Attempt {
        Attempt {
            coupon: terms(Some(vec!["shibuya", "umeda"]), true),
            store: store(at),
            register: till("R1"),
            transaction: till(transaction),
            pos_key_id: Some("pk_test".into()),
            offline_at_ms: None,
        }
    }

    fn member() -> MemberNumber {
        MemberNumber::from_body(42)
    }

    fn redeemed(outcome: Outcome) -> Redemption {
        match outcome {
            Outcome::Redeemed { redemption } => redemption,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_coupon_is_redeemed_once_and_the_same_transaction_replays_the_first_answer() {
        let mut done = Vec::new();
        let first = redeemed(decide(member(), &done, true, &attempt("T1", "shibuya"), T0));
        assert_eq!(first.redeemed_at_ms, T0);
        assert_eq!(first.transaction_id.as_str(), "T1");
        assert_eq!(
            first.pos_key_id.as_deref(),
            Some("pk_test"),
            "the key that redeemed it is kept"
        );
        done.push(first.clone());
        assert_eq!(
            decide(member(), &done, true, &attempt("T1", "shibuya"), T0 + 5),
            Outcome::Replayed {
                redemption: first.clone()
            },
            "a retry of the same transaction is the first answer"
        );
        assert_eq!(
            decide(member(), &done, true, &attempt("T1", "umeda"), T0 + 5),
            Outcome::Refused(Refusal::AlreadyRedeemed {
                first: first.clone()
            }),
            "another store's transaction T1 is another transaction"
        );
        let refused = decide(member(), &done, true, &attempt("T2", "umeda"), T0 + 5);
        assert!(
            !refused.binds_transaction(),
            "a refused transaction stays free"
        );
        assert_eq!(
            refused,
            Outcome::Refused(Refusal::AlreadyRedeemed { first })
        );
        let replayed = decide(member(), &done, true, &attempt("T1", "shibuya"), T0 + 9);
        assert!(replayed.binds_transaction());
    }

    #[test]
    fn already_redeemed_wins_over_expiry_and_consent_and_a_replay_survives_them() {
        let first = redeemed(decide(member(), &[], true, &attempt("T1", "shibuya"), T0));
        let done = [first.clone()];
        let late = T0 + 2 * DAY;
        assert_eq!(
            decide(member(), &done, false, &attempt("T1", "shibuya"), late),
            Outcome::Replayed { redemption: first }
        );
        assert_eq!(
            decide(member(), &done, false, &attempt("T9", "shibuya"), late)
                .clone()
                .refusal_code(),
            Some("already_redeemed")
        );
    }

    #[test]
    fn the_window_then_the_store_then_consent_refuse() {
        for (at_ms, at, consent, code) in [
            (T0 - 1, "shibuya", true, "not_yet_valid"),
            (T0 + DAY, "shibuya", true, "expired"),
            (T0 + DAY, "namba", true, "expired"),
            (T0, "namba", true, "not_valid_here"),
            (T0, "namba", false, "not_valid_here"),
            (T0, "shibuya", false, "consent_withdrawn"),
        ] {
            let outcome = decide(member(), &[], consent, &attempt("T1", at), at_ms);
            assert_eq!(outcome.refusal_code(), Some(code), "{at_ms} {at} {consent}");
        }
        let mut open = attempt("T1", "namba");
        open.coupon = terms(None, false);
        redeemed(decide(member(), &[], false, &open, T0));
    }

    #[test]
    fn an_offline_attempt_is_decided_and_dated_as_of_its_moment() {
        let mut queued = attempt("T1", "shibuya");
        // Made the last minute of the coupon's window, synced the next day.
        queued.offline_at_ms = Some(T0 + DAY - 60_000);
        let r = redeemed(decide(member(), &[], true, &queued, T0 + DAY + 3_600_000));
        assert_eq!(r.redeemed_at_ms, T0 + DAY - 60_000);
        assert_eq!(r.synced_at_ms, Some(T0 + DAY + 3_600_000));
        assert!(r.is_offline());
        let json = r.to_json();
        assert_eq!(json["offline"], true);
        assert_eq!(json["offline_at"], json["redeemed_at"]);
        // Made before the window opened: refused, whenever it arrives.
        queued.offline_at_ms = Some(T0 - 1);
        assert_eq!(
            decide(member(), &[], true, &queued, T0 + 5).refusal_code(),
            Some("not_yet_valid")
        );
        // Online attempts carry neither.
        let online = redeemed(decide(member(), &[], true, &attempt("T1", "shibuya"), T0));
        assert!(!online.is_offline());
        assert!(online.to_json().get("offline_at").is_none());
    }

    #[test]
    fn ids_are_stable_opaque_and_differ_per_member_and_coupon() {
        let c = CouponId::parse("welcome").unwrap();
        let id = redemption_id(member(), &c);
        assert_eq!(id, redemption_id(member(), &c));
        assert_eq!(id.len(), 19);
        assert!(!id.contains(&member().to_string()));
        assert_ne!(id, redemption_id(MemberNumber::from_body(43), &c));
        assert_ne!(
            id,
            redemption_id(member(), &CouponId::parse("other").unwrap())
        );
    }

    #[test]
    fn outcomes_survive_json() {
        let first = redeemed(decide(member(), &[], true, &attempt("T1", "shibuya"), T0));
        for o in [
            Outcome::Replayed {
                redemption: first.clone(),
            },
            Outcome::Refused(Refusal::AlreadyRedeemed { first }),
            Outcome::Refused(Refusal::ConsentWithdrawn),
        ] {
            let back: Outcome = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
            assert_eq!(back, o);
        }
    }

    impl Outcome {
        fn refusal_code(&self) -> Option<&'static str> {
            match self {
                Outcome::Refused(r) => Some(r.code()),
                _ => None,
            }
        }
    }
}
