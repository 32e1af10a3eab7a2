//! What the till shows after a scan (`POST /api/pos/scan`): the member, the coupon the barcode
//! names, and the member's coupons with their status at this store now.
//!
//! Listed: every coupon the member redeemed, and the coupons the member may be offered — in
//! their window or starting or ended within [`NEARBY_MS`] (so the cashier can say "from
//! Friday" or "it ended Sunday"), consent-gated ones only while consent is granted, the
//! coupons of other stores included as `not_valid_here`. Usable ones first.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::coupons::{Coupon, CouponStatus, CouponsIndex};
use crate::ids::{CouponId, StoreId};
use crate::lang::Lang;
use crate::members::MemberRecord;
use crate::stores::StoresIndex;
use crate::till::redemptions::Redemption;
use crate::time::format_rfc3339;

/// How far before its start or after its end a coupon is still listed.
pub const NEARBY_MS: u64 = 7 * 86_400_000;

/// The member as the till sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillMember {
    pub number: String,
    pub favourite_store: Option<StoreId>,
    /// `granted` when at least one channel's marketing consent is granted, else `withdrawn`.
    pub consent: &'static str,
    pub channels: Vec<&'static str>,
}

/// A redemption as the till shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillRedemption {
    pub redeemed_at: String,
    pub store_id: StoreId,
    pub register_id: String,
    pub transaction_id: String,
}

/// A coupon as the till shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillCoupon {
    pub id: CouponId,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: CouponStatus,
    pub valid_from: String,
    pub valid_until: String,
    pub requires_consent: bool,
    /// Redeemable now, here, by this member.
    pub usable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redemption: Option<TillRedemption>,
}

/// The scan's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanView {
    pub store_id: StoreId,
    /// The names, in the till's language, of the stores the answer mentions (this store, the
    /// favourite, where coupons were redeemed), so the till never shows a bare id.
    pub store_names: BTreeMap<StoreId, String>,
    pub member: TillMember,
    pub coupon: Option<TillCoupon>,
    pub coupons: Vec<TillCoupon>,
    pub code_expires_at: String,
}

/// Builds the scan's answer at `now_ms` for a till of `store`.
#[allow(clippy::too_many_arguments)]
pub fn view(
    member: &MemberRecord,
    scanned: Option<&CouponId>,
    coupons: &CouponsIndex,
    stores: &StoresIndex,
    store: &StoreId,
    now_ms: u64,
    code_expires_at_ms: u64,
    lang: Lang,
) -> ScanView {
    let granted = member.consent_granted();
    let view = |c: &Coupon| till_coupon(c, member, store, now_ms, granted, lang);
    let mut listed: Vec<TillCoupon> = coupons
        .coupons
        .iter()
        .filter(|c| {
            let redeemed = member.redemptions.iter().any(|r| r.coupon_id == c.id);
            let nearby = now_ms.saturating_add(NEARBY_MS) >= c.valid_from_ms
                && now_ms < c.valid_until_ms.saturating_add(NEARBY_MS);
            redeemed || (nearby && (granted || !c.requires_consent))
        })
        .map(view)
        .collect();
    listed.sort_by_key(|c| (!c.usable, rank(c.status), c.id.clone()));
    let store_names = std::iter::once(store)
        .chain(member.favourite_store.as_ref())
        .chain(member.redemptions.iter().map(|r| &r.store_id))
        .filter_map(|id| stores.get(id))
        .map(|s| (s.id.clone(), s.name(lang).to_owned()))
        .collect();
    ScanView {
        store_id: store.clone(),
        store_names,
        member: TillMember {
            number: member.number.to_string(),
            favourite_store: member.favourite_store.clone(),
            consent: if granted { "granted" } else { "withdrawn" },
            channels: member.subjects.iter().map(|s| s.channel.as_str()).collect(),
        },
        coupon: scanned.and_then(|id| coupons.get(id)).map(view),
        coupons: listed,
        code_expires_at: format_rfc3339(code_expires_at_ms),
    }
}

/// A coupon as an offline till needs to name it and to check its window and store without a
/// connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineCoupon {
    pub id: CouponId,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub valid_from: String,
    pub valid_until: String,
    pub requires_consent: bool,
}

/// The coupons a till of `store` may have to redeem without a connection in the next
/// [`NEARBY_MS`]: valid at the store, not ended, starting within that time.
pub fn offline_catalogue(
    coupons: &CouponsIndex,
    store: &StoreId,
    now_ms: u64,
    lang: Lang,
) -> Vec<OfflineCoupon> {
    coupons
        .coupons
        .iter()
        .filter(|c| {
            now_ms < c.valid_until_ms
                && now_ms.saturating_add(NEARBY_MS) >= c.valid_from_ms
                && c.stores.as_ref().is_none_or(|s| s.contains(store))
        })
        .map(|c| OfflineCoupon {
            id: c.id.clone(),
            title: c.title(lang).to_owned(),
            description: c.description(lang).map(str::to_owned),
            valid_from: format_rfc3339(c.valid_from_ms),
            valid_until: format_rfc3339(c.valid_until_ms),
            requires_consent: c.requires_consent,
        })
        .collect()
}

fn till_coupon(
    c: &Coupon,
    member: &MemberRecord,
    store: &StoreId,
    now_ms: u64,
    granted: bool,
    lang: Lang,
) -> TillCoupon {
    let redemption = member.redemptions.iter().find(|r| r.coupon_id == c.id);
    let status = match redemption {
        Some(_) => CouponStatus::Redeemed,
        None => c.status(now_ms, Some(store)),
    };
    TillCoupon {
        id: c.id.clone(),
        title: c.title(lang).to_owned(),
        description: c.description(lang).map(str::to_owned),
        status,
        valid_from: format_rfc3339(c.valid_from_ms),
        valid_until: format_rfc3339(c.valid_until_ms),
        requires_consent: c.requires_consent,
        usable: status == CouponStatus::Available && (granted || !c.requires_consent),
        redemption: redemption.map(till_redemption),
    }
}

/// A redemption in the till's words (also the `already_redeemed` error's "when and where").
pub fn till_redemption(r: &Redemption) -> TillRedemption {
    TillRedemption {
        redeemed_at: format_rfc3339(r.redeemed_at_ms),
        store_id: r.store_id.clone(),
        register_id: r.register_id.as_str().to_owned(),
        transaction_id: r.transaction_id.as_str().to_owned(),
    }
}

fn rank(status: CouponStatus) -> u8 {
    match status {
        CouponStatus::Available => 0,
        CouponStatus::NotYetValid => 1,
        CouponStatus::NotValidHere => 2,
        CouponStatus::Redeemed => 3,
        CouponStatus::Expired => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{Action, Channel};
    use crate::ids::{MemberNumber, TillId};
    use crate::members::LinkedSubject;

    const T0: u64 = 1_795_000_000_000;
    const DAY: u64 = 86_400_000;

    fn store(s: &str) -> StoreId {
        StoreId::parse(s).unwrap()
    }

    fn coupon(id: &str, from: u64, until: u64, stores: Option<&str>, gated: bool) -> Coupon {
        Coupon {
            id: CouponId::parse(id).unwrap(),
            title: BTreeMap::from([("en".into(), format!("{id} title"))]),
            description: None,
            valid_from_ms: from,
            valid_until_ms: until,
            stores: stores.map(|s| vec![store(s)]),
            requires_consent: gated,
            updated_at_ms: 0,
        }
    }

    fn member(granted: bool) -> MemberRecord {
        let number = MemberNumber::from_body(5);
        let action = if granted {
            Action::Granted
        } else {
            Action::Withdrawn
        };
        MemberRecord {
            number,
            created_at_ms: 0,
            card_issued_at_ms: Some(0),
            favourite_store: Some(store("umeda")),
            lang: None,
            subjects: vec![LinkedSubject {
                pseudonym: "p".into(),
                channel: Channel::Line,
                user_id: "U1".into(),
                home: number,
                linked_at_ms: 0,
                latest: Some((1, action)),
                aliases: Vec::new(),
                purpose: None,
            }],
            applied: Default::default(),
            used_links: vec![],
            redemptions: vec![Redemption {
                id: "rd_x".into(),
                coupon_id: CouponId::parse("used").unwrap(),
                member_number: number,
                store_id: store("umeda"),
                register_id: TillId::parse("R9").unwrap(),
                transaction_id: TillId::parse("T9").unwrap(),
                redeemed_at_ms: T0 - DAY,
                pos_key_id: None,
                synced_at_ms: None,
            }],
        }
    }

    fn index() -> CouponsIndex {
        CouponsIndex {
            coupons: vec![
                coupon("open", T0 - DAY, T0 + DAY, None, true),
                coupon("ungated", T0 - DAY, T0 + DAY, None, false),
                coupon("elsewhere", T0 - DAY, T0 + DAY, Some("namba"), true),
                coupon("soon", T0 + DAY, T0 + 2 * DAY, None, true),
                coupon("far", T0 + 30 * DAY, T0 + 31 * DAY, None, true),
                coupon("ended", T0 - 3 * DAY, T0 - DAY, None, true),
                coupon("long-gone", T0 - 60 * DAY, T0 - 50 * DAY, None, true),
                coupon("used", T0 - 90 * DAY, T0 - 50 * DAY, None, true),
            ],
        }
    }

    fn listed(view: &ScanView) -> Vec<(&str, &str, bool)> {
        view.coupons
            .iter()
            .map(|c| (c.id.as_str(), c.status.as_str(), c.usable))
            .collect()
    }

    #[test]
    fn the_till_lists_usable_coupons_first_then_the_rest_with_their_status() {
        let here = store("shibuya");
        let scanned = CouponId::parse("open").unwrap();
        let stores: StoresIndex = serde_json::from_value(serde_json::json!({"stores": [
            {"id": "shibuya", "names": {"ja": "渋谷店", "en": "Shibuya"}, "address": "a",
             "timezone": "Asia/Tokyo", "updated_at_ms": 0},
            {"id": "namba", "names": {"en": "Namba"}, "address": "b",
             "timezone": "Asia/Tokyo", "updated_at_ms": 0},
        ]}))
        .unwrap();
        let view = view(
            &member(true),
            Some(&scanned),
            &index(),
            &stores,
            &here,
            T0,
            T0,
            Lang::En,
        );
        assert_eq!(
            listed(&view),
            vec![
                ("open", "available", true),
                ("ungated", "available", true),
                ("soon", "not_yet_valid", false),
                ("elsewhere", "not_valid_here", false),
                ("used", "redeemed", false),
                ("ended", "expired", false),
            ]
        );
        let used = view
            .coupons
            .iter()
            .find(|c| c.id.as_str() == "used")
            .unwrap();
        assert_eq!(used.redemption.as_ref().unwrap().register_id, "R9");
        assert_eq!(view.coupon.as_ref().unwrap().title, "open title");
        assert_eq!(view.member.consent, "granted");
        assert_eq!(view.member.channels, vec!["line"]);
        assert_eq!(
            serde_json::to_value(&view.store_names).unwrap(),
            serde_json::json!({"shibuya": "Shibuya"}),
            "the stores it mentions that exist: here (the favourite umeda has no record)"
        );
    }

    #[test]
    fn without_consent_only_ungated_and_redeemed_coupons_are_listed() {
        let here = store("shibuya");
        let gated = CouponId::parse("open").unwrap();
        let view = view(
            &member(false),
            Some(&gated),
            &index(),
            &StoresIndex::default(),
            &here,
            T0,
            T0,
            Lang::En,
        );
        assert_eq!(
            listed(&view),
            vec![("ungated", "available", true), ("used", "redeemed", false)]
        );
        let scanned = view.coupon.unwrap();
        assert_eq!(
            (scanned.status, scanned.usable),
            (CouponStatus::Available, false)
        );
        assert_eq!(view.member.consent, "withdrawn");
        let json = serde_json::to_value(&view.coupons[0]).unwrap();
        assert!(json.get("redemption").is_none() && json.get("description").is_none());
    }
}
