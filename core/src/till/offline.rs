//! The till when the network drops: a redemption queued on the device arrives later with
//! `offline_at`, the moment it happened, and is decided as of that moment (API.md, "The till
//! when the network drops"). What may arrive (`check_offline_at`), how much a till may queue
//! (`offline_limit`), and the **conflicts**: queued redemptions the server refused, kept per
//! store by its `Till` object and told to the feed as `coupon.redemption_conflict`.
//!
//! A conflict is named by its store, transaction and coupon, so a sync that is cut and repeated
//! records it once and answers it the same way again.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::feed::events::{Data, EventType, FeedEvent, Scalar};
use crate::ids::{CouponId, MemberNumber, StoreId, TillId};
use crate::till::redemptions::{Attempt, Redemption};
use crate::time::format_rfc3339;

/// `OFFLINE_MAX_HOURS` by default: three days, a long weekend without a line.
pub const DEFAULT_OFFLINE_MAX_HOURS: u32 = 72;
/// How many redemptions a till may hold queued, by default (per POS key; the admin may set it).
pub const DEFAULT_OFFLINE_LIMIT: u32 = 50;
/// The most an admin may set: a till holding more unconfirmed discounts is no longer a till
/// riding out an outage.
pub const MAX_OFFLINE_LIMIT: u32 = 1000;
/// How far ahead of the server's clock `offline_at` may be (a till's clock drifts a little).
pub const OFFLINE_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;
/// The most conflicts one listing returns (newest first; `before` pages on).
pub const CONFLICTS_PAGE: usize = 100;

/// Why an `offline_at` is refused: the error code and its message.
pub fn check_offline_at(
    offline_at_ms: u64,
    now_ms: u64,
    max_hours: u32,
) -> Result<(), (&'static str, String)> {
    let max_ms = u64::from(max_hours) * 3_600_000;
    if offline_at_ms > now_ms + OFFLINE_CLOCK_SKEW_MS {
        return Err((
            "offline_in_future",
            "`offline_at` is later than now: check the till's clock.".into(),
        ));
    }
    if now_ms.saturating_sub(offline_at_ms) > max_ms {
        return Err((
            "offline_too_old",
            format!(
                "This redemption was queued more than {max_hours} hours ago (OFFLINE_MAX_HOURS): \
                 it is not accepted; the store decides what to do with it."
            ),
        ));
    }
    Ok(())
}

/// The refusals that make a queued redemption a conflict: every final "no" (a 401, a 429 or a
/// 5xx is no answer: the till keeps the redemption and tries again).
pub const CONFLICT_CODES: [&str; 12] = [
    "already_redeemed",
    "transaction_conflict",
    "expired",
    "not_yet_valid",
    "not_valid_here",
    "consent_withdrawn",
    "unknown_member",
    "invalid_code",
    "coupon_mismatch",
    "unknown_coupon",
    "offline_too_old",
    "offline_in_future",
];

/// What names a queued attempt, however far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub store: StoreId,
    pub register: TillId,
    pub transaction: TillId,
    pub coupon: CouponId,
    pub pos_key_id: Option<String>,
    pub offline_at_ms: u64,
}

impl Queued {
    /// The queued attempt an attempt is, if the till made it offline.
    pub fn of(attempt: &Attempt) -> Option<Queued> {
        Some(Queued {
            store: attempt.store.clone(),
            register: attempt.register.clone(),
            transaction: attempt.transaction.clone(),
            coupon: attempt.coupon.id.clone(),
            pos_key_id: attempt.pos_key_id.clone(),
            offline_at_ms: attempt.offline_at_ms?,
        })
    }

    /// Its conflict: refused for `reason` (`message` as the till is told) at `now_ms`.
    pub fn conflict(
        &self,
        member: Option<MemberNumber>,
        reason: &str,
        message: String,
        first: Option<Redemption>,
        now_ms: u64,
    ) -> Conflict {
        Conflict {
            id: conflict_id(&self.store, &self.transaction, &self.coupon),
            reason: reason.to_owned(),
            message,
            store_id: self.store.clone(),
            register_id: self.register.clone(),
            transaction_id: self.transaction.clone(),
            coupon_id: self.coupon.clone(),
            member_number: member,
            pos_key_id: self.pos_key_id.clone(),
            offline_at_ms: self.offline_at_ms,
            detected_at_ms: now_ms,
            first,
        }
    }
}

/// The HTTP status a refusal is answered with (the usual one of `POST /api/pos/redeem`).
pub fn refusal_status(code: &str) -> u16 {
    match code {
        "already_redeemed" | "transaction_conflict" => 409,
        "unknown_member" | "unknown_coupon" => 404,
        _ => 422,
    }
}

/// A queued redemption the server refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub id: String,
    /// The refusal's error code (one of [`CONFLICT_CODES`]).
    pub reason: String,
    /// Its message, as the till was answered.
    pub message: String,
    pub store_id: StoreId,
    pub register_id: TillId,
    pub transaction_id: TillId,
    pub coupon_id: CouponId,
    /// The member of the barcode, when it verified (a forged code names no one we trust).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_number: Option<MemberNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos_key_id: Option<String>,
    pub offline_at_ms: u64,
    /// When the sync brought it.
    pub detected_at_ms: u64,
    /// The redemption that won, when the coupon was redeemed elsewhere first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<Redemption>,
}

/// A conflict's id: `cf_` and 16 base32 characters of a hash of its store, transaction and
/// coupon (one attempt of the till, however often it is sent).
pub fn conflict_id(store: &StoreId, transaction: &TillId, coupon: &CouponId) -> String {
    let digest = Sha256::new()
        .chain_update(store.as_str())
        .chain_update(b"/")
        .chain_update(transaction.as_str())
        .chain_update(b"/")
        .chain_update(coupon.as_str())
        .finalize();
    format!("cf_{}", crate::encoding::base32_lower(&digest[..10]))
}

impl Conflict {
    /// As the admin API lists it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "id": self.id,
            "reason": self.reason,
            "message": self.message,
            "store_id": self.store_id,
            "register_id": self.register_id,
            "transaction_id": self.transaction_id,
            "coupon_id": self.coupon_id,
            "member_number": self.member_number.map(|m| m.to_string()),
            "pos_key_id": self.pos_key_id,
            "offline_at": format_rfc3339(self.offline_at_ms),
            "detected_at": format_rfc3339(self.detected_at_ms),
        });
        if let Some(first) = &self.first {
            v["first"] = first.to_json();
        }
        v
    }

    /// The feed's `coupon.redemption_conflict`: flat, with both transactions (the queued one,
    /// and the one that won when there is one). Dated when it was found: that is when the
    /// retailer's tools can act on it.
    pub fn feed_event(&self) -> FeedEvent {
        let mut data = Data::new();
        let mut put = |k: &str, v: Scalar| {
            data.insert(k.to_owned(), v);
        };
        put("conflict_id", self.id.clone().into());
        put("reason", self.reason.clone().into());
        if let Some(m) = self.member_number {
            put("member_number", m.to_string().into());
        }
        put("coupon_id", self.coupon_id.as_str().into());
        put("store_id", self.store_id.as_str().into());
        put("register_id", self.register_id.as_str().into());
        put("transaction_id", self.transaction_id.as_str().into());
        put("offline", true.into());
        put("offline_at", format_rfc3339(self.offline_at_ms).into());
        if let Some(key) = &self.pos_key_id {
            put("pos_key_id", key.as_str().into());
        }
        if let Some(first) = &self.first {
            put("first_redemption_id", first.id.as_str().into());
            put("first_store_id", first.store_id.as_str().into());
            put("first_register_id", first.register_id.as_str().into());
            put("first_transaction_id", first.transaction_id.as_str().into());
            put(
                "first_redeemed_at",
                format_rfc3339(first.redeemed_at_ms).into(),
            );
            put("first_offline", first.is_offline().into());
        }
        FeedEvent {
            id: format!("evt_{}", self.id),
            kind: EventType::CouponRedemptionConflict,
            time_ms: self.detected_at_ms,
            data,
            scrub_from_ms: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_000_000_000;
    const HOUR: u64 = 3_600_000;

    #[test]
    fn offline_at_is_bounded_by_the_max_age_and_the_clock() {
        assert_eq!(check_offline_at(NOW - 72 * HOUR, NOW, 72), Ok(()));
        assert_eq!(check_offline_at(NOW + 4 * 60_000, NOW, 72), Ok(()));
        assert_eq!(
            check_offline_at(NOW - 72 * HOUR - 1, NOW, 72)
                .unwrap_err()
                .0,
            "offline_too_old"
        );
        assert_eq!(
            check_offline_at(NOW - 2 * HOUR, NOW, 1).unwrap_err().0,
            "offline_too_old"
        );
        assert_eq!(
            check_offline_at(NOW + 6 * 60_000, NOW, 72).unwrap_err().0,
            "offline_in_future"
        );
    }

    fn conflict(first: Option<Redemption>) -> Conflict {
        let store = StoreId::parse("shibuya").unwrap();
        let txn = TillId::parse("T2").unwrap();
        let coupon = CouponId::parse("welcome").unwrap();
        Conflict {
            id: conflict_id(&store, &txn, &coupon),
            reason: "already_redeemed".into(),
            message: "Already redeemed.".into(),
            store_id: store,
            register_id: TillId::parse("R2").unwrap(),
            transaction_id: txn,
            coupon_id: coupon,
            member_number: Some(MemberNumber::from_body(42)),
            pos_key_id: Some("abcdefgh".into()),
            offline_at_ms: NOW - HOUR,
            detected_at_ms: NOW,
            first,
        }
    }

    #[test]
    fn ids_name_the_attempt_not_the_sync() {
        let s = StoreId::parse("shibuya").unwrap();
        let c = CouponId::parse("welcome").unwrap();
        let a = conflict_id(&s, &TillId::parse("T1").unwrap(), &c);
        assert_eq!(a, conflict_id(&s, &TillId::parse("T1").unwrap(), &c));
        assert_eq!(a.len(), 19);
        assert_ne!(a, conflict_id(&s, &TillId::parse("T2").unwrap(), &c));
        assert_ne!(
            a,
            conflict_id(
                &StoreId::parse("umeda").unwrap(),
                &TillId::parse("T1").unwrap(),
                &c
            )
        );
    }

    #[test]
    fn the_feed_event_carries_both_transactions_flat() {
        let first = Redemption {
            id: "rd_x".into(),
            coupon_id: CouponId::parse("welcome").unwrap(),
            member_number: MemberNumber::from_body(42),
            store_id: StoreId::parse("shibuya").unwrap(),
            register_id: TillId::parse("R1").unwrap(),
            transaction_id: TillId::parse("T1").unwrap(),
            redeemed_at_ms: NOW - 2 * HOUR,
            pos_key_id: None,
            synced_at_ms: Some(NOW - 60_000),
        };
        let event = conflict(Some(first)).feed_event();
        assert_eq!(event.kind.as_str(), "coupon.redemption_conflict");
        assert_eq!(event.time_ms, NOW);
        let text = |k: &str| match event.data.get(k) {
            Some(Scalar::Text(t)) => t.clone(),
            other => panic!("{k}: {other:?}"),
        };
        assert_eq!(text("transaction_id"), "T2");
        assert_eq!(text("first_transaction_id"), "T1");
        assert_eq!(text("first_register_id"), "R1");
        assert_eq!(text("reason"), "already_redeemed");
        assert_eq!(event.data.get("first_offline"), Some(&Scalar::Bool(true)));
        let member = MemberNumber::from_body(42).to_string();
        assert_eq!(event.member_number(), Some(member.as_str()));
        let alone = conflict(None).feed_event();
        assert!(!alone.data.contains_key("first_transaction_id"));
        assert_eq!(alone.id, format!("evt_{}", conflict(None).id));
    }

    #[test]
    fn conflicts_survive_json() {
        let c = conflict(None);
        let back: Conflict = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert_eq!(c.to_json()["offline_at"], format_rfc3339(NOW - HOUR));
        assert!(c.to_json().get("first").is_none());
    }
}
