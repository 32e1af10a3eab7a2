//! The feed's events: one per consent change, member creation, channel link, redemption and
//! erasure, as CloudEvents 1.0 JSON (`specversion`, `id`, `source`, `type`, `time`,
//! `datacontenttype`, `data`) with `data` as flat scalar fields — what a marketing-automation
//! tool maps to columns without parsing nested objects.
//!
//! An event's id derives from what caused it (the ledger event id, the redemption id, the
//! member number), so a cause enqueued twice is one event: receivers deduplicate on
//! `webhook-id`, which is this id. An erased member's events carry no channel user id.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::consent::{Action, Channel, ConsentEvent};
use crate::ids::MemberNumber;
use crate::members::MemberRecord;
use crate::redemptions::Redemption;
use crate::time::format_rfc3339;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    ConsentGranted,
    ConsentWithdrawn,
    MemberCreated,
    MemberLinked,
    CouponRedeemed,
    MemberErased,
}

impl EventType {
    /// The CloudEvents `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ConsentGranted => "member.consent.granted",
            EventType::ConsentWithdrawn => "member.consent.withdrawn",
            EventType::MemberCreated => "member.created",
            EventType::MemberLinked => "member.linked",
            EventType::CouponRedeemed => "coupon.redeemed",
            EventType::MemberErased => "member.erased",
        }
    }
}

/// A flat `data` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Number(i64),
    Bool(bool),
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::Text(s.to_owned())
    }
}

impl From<String> for Scalar {
    fn from(s: String) -> Self {
        Scalar::Text(s)
    }
}

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    pub id: String,
    pub kind: EventType,
    pub time_ms: u64,
    pub data: BTreeMap<&'static str, Scalar>,
}

/// The CloudEvents envelope as sent.
#[derive(Serialize)]
struct Envelope<'a> {
    specversion: &'static str,
    id: &'a str,
    source: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    datacontenttype: &'static str,
    data: &'a BTreeMap<&'static str, Scalar>,
}

impl FeedEvent {
    /// The JSON body of a delivery (and a line of the NDJSON export). `source` names this
    /// service: the public base URL.
    pub fn envelope(&self, source: &str) -> String {
        serde_json::to_string(&Envelope {
            specversion: "1.0",
            id: &self.id,
            source,
            kind: self.kind.as_str(),
            time: format_rfc3339(self.time_ms),
            datacontenttype: "application/json",
            data: &self.data,
        })
        .unwrap_or_default()
    }
}

/// The field naming a channel's user id, as the tool needs it to message the shopper there.
pub fn user_id_field(channel: Channel) -> &'static str {
    match channel {
        Channel::Line => "line_user_id",
        Channel::Whatsapp => "whatsapp_id",
        Channel::Messenger => "messenger_psid",
        Channel::Instagram => "instagram_igsid",
    }
}

/// The member's number and channel user ids (none once erased: the record is gone).
fn member_fields(
    number: MemberNumber,
    member: Option<&MemberRecord>,
) -> BTreeMap<&'static str, Scalar> {
    let mut data = BTreeMap::new();
    data.insert("member_number", number.to_string().into());
    for s in member.map(|m| m.subjects.as_slice()).unwrap_or_default() {
        if !s.user_id.is_empty() {
            data.insert(user_id_field(s.channel), s.user_id.clone().into());
        }
    }
    data
}

/// A consent change recorded in the ledger, with the member as it is now.
pub fn consent(event: &ConsentEvent, member: Option<&MemberRecord>) -> Option<FeedEvent> {
    let number = event.member_number?;
    let mut data = member_fields(number, member);
    let (kind, state) = match event.action {
        Action::Granted => (EventType::ConsentGranted, "granted"),
        Action::Withdrawn => (EventType::ConsentWithdrawn, "withdrawn"),
    };
    data.insert("channel", event.subject.channel.as_str().into());
    if !event.subject.user_id.is_empty() {
        data.insert(
            user_id_field(event.subject.channel),
            event.subject.user_id.clone().into(),
        );
    }
    data.insert("purpose", event.purpose.clone().into());
    data.insert("consent_state", state.into());
    data.insert(
        "source",
        serde_json::to_value(event.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
            .into(),
    );
    if let Some(store) = &event.store_id {
        data.insert("store_id", store.as_str().into());
    }
    if let Some(campaign) = &event.campaign_id {
        data.insert("campaign_id", campaign.as_str().into());
    }
    if let Some(version) = &event.notice_version {
        data.insert("notice_version", version.clone().into());
    }
    Some(FeedEvent {
        id: format!("evt_{}", event.event_id),
        kind,
        time_ms: event.occurred_at_ms,
        data,
    })
}

/// A member founded by a first grant.
pub fn member_created(member: &MemberRecord) -> FeedEvent {
    let mut data = member_fields(member.number, Some(member));
    if let Some(store) = &member.favourite_store {
        data.insert("store_id", store.as_str().into());
    }
    FeedEvent {
        id: format!("mbr_{}", member.number),
        kind: EventType::MemberCreated,
        time_ms: member.created_at_ms,
        data,
    }
}

/// A channel account linked to a member by a link code.
pub fn member_linked(member: &MemberRecord, channel: Channel, at_ms: u64) -> FeedEvent {
    let mut data = member_fields(member.number, Some(member));
    data.insert("channel", channel.as_str().into());
    FeedEvent {
        id: format!("lnk_{}_{}", member.number, channel.as_str()),
        kind: EventType::MemberLinked,
        time_ms: at_ms,
        data,
    }
}

/// A coupon redeemed at a till: the link between the shopper's apps and a purchase.
pub fn coupon_redeemed(r: &Redemption, member: Option<&MemberRecord>) -> FeedEvent {
    let mut data = member_fields(r.member_number, member);
    data.insert("coupon_id", r.coupon_id.as_str().into());
    data.insert("store_id", r.store_id.as_str().into());
    data.insert("register_id", r.register_id.as_str().into());
    data.insert("transaction_id", r.transaction_id.as_str().into());
    data.insert("redemption_id", r.id.clone().into());
    FeedEvent {
        id: format!("evt_{}", r.id),
        kind: EventType::CouponRedeemed,
        time_ms: r.redeemed_at_ms,
        data,
    }
}

/// A member erased: the number only.
pub fn member_erased(number: MemberNumber, at_ms: u64) -> FeedEvent {
    FeedEvent {
        id: format!("era_{number}"),
        kind: EventType::MemberErased,
        time_ms: at_ms,
        data: member_fields(number, None),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::consent::{Source, Subject};
    use crate::ids::{CouponId, StoreId, TillId};
    use crate::members::LinkedSubject;

    const T: u64 = 1_795_000_000_000;

    fn member() -> MemberRecord {
        let number = MemberNumber::from_body(77);
        let subject = |channel, user: &str| LinkedSubject {
            pseudonym: format!("p-{user}"),
            channel,
            user_id: user.into(),
            home: number,
            linked_at_ms: T,
            latest: Some((T, Action::Granted)),
        };
        MemberRecord {
            number,
            created_at_ms: T,
            card_issued_at_ms: Some(T),
            favourite_store: Some(StoreId::parse("shibuya").unwrap()),
            lang: None,
            subjects: vec![
                subject(Channel::Line, "U1"),
                subject(Channel::Whatsapp, "8190"),
            ],
            applied: Default::default(),
            used_links: vec![],
            redemptions: vec![],
        }
    }

    fn parsed(e: &FeedEvent) -> Value {
        serde_json::from_str(&e.envelope("https://shop.example")).unwrap()
    }

    #[test]
    fn a_consent_change_is_a_cloudevent_with_flat_data_and_every_app_id() {
        let m = member();
        let event = ConsentEvent {
            event_id: "abc".into(),
            subject: Subject::new(Channel::Line, "U1"),
            member_number: Some(m.number),
            purpose: "marketing".into(),
            action: Action::Withdrawn,
            source: Source::Keyword,
            store_id: Some(StoreId::parse("umeda").unwrap()),
            campaign_id: None,
            notice_version: Some("2026-11".into()),
            lang: None,
            occurred_at_ms: T,
            recorded_at_ms: T + 5,
            platform_event_id: "ev".into(),
            erased_at_ms: None,
        };
        let v = parsed(&consent(&event, Some(&m)).unwrap());
        assert_eq!(
            v,
            json!({
                "specversion": "1.0", "id": "evt_abc", "source": "https://shop.example",
                "type": "member.consent.withdrawn", "time": "2026-11-18T11:06:40Z",
                "datacontenttype": "application/json",
                "data": {
                    "member_number": m.number.to_string(), "line_user_id": "U1",
                    "whatsapp_id": "8190", "channel": "line", "purpose": "marketing",
                    "consent_state": "withdrawn", "source": "keyword", "store_id": "umeda",
                    "notice_version": "2026-11",
                },
            })
        );
        assert!(v["data"]
            .as_object()
            .unwrap()
            .values()
            .all(|x| !x.is_object() && !x.is_array()));
        let mut orphan = event.clone();
        orphan.member_number = None;
        assert_eq!(consent(&orphan, None), None, "no member, no feed event");
    }

    #[test]
    fn a_redemption_links_the_apps_to_the_purchase_and_erasure_names_only_the_number() {
        let m = member();
        let r = Redemption {
            id: "rd_x".into(),
            coupon_id: CouponId::parse("welcome").unwrap(),
            member_number: m.number,
            store_id: StoreId::parse("shibuya").unwrap(),
            register_id: TillId::parse("R1").unwrap(),
            transaction_id: TillId::parse("T9").unwrap(),
            redeemed_at_ms: T,
        };
        let v = parsed(&coupon_redeemed(&r, Some(&m)));
        assert_eq!(v["type"], "coupon.redeemed");
        assert_eq!(v["id"], "evt_rd_x");
        for (k, want) in [
            ("coupon_id", "welcome"),
            ("transaction_id", "T9"),
            ("register_id", "R1"),
            ("line_user_id", "U1"),
        ] {
            assert_eq!(v["data"][k], want, "{k}");
        }
        let erased = parsed(&member_erased(m.number, T));
        assert_eq!(erased["type"], "member.erased");
        assert_eq!(
            erased["data"],
            json!({ "member_number": m.number.to_string() })
        );
        let gone = parsed(&coupon_redeemed(&r, None));
        assert!(
            gone["data"].get("line_user_id").is_none(),
            "no member record, no app ids"
        );
    }

    #[test]
    fn ids_follow_the_cause_so_a_cause_enqueued_twice_is_one_event() {
        let m = member();
        assert_eq!(member_created(&m).id, member_created(&m).id);
        assert_eq!(member_created(&m).kind.as_str(), "member.created");
        let linked = member_linked(&m, Channel::Whatsapp, T);
        assert_eq!(linked.id, format!("lnk_{}_whatsapp", m.number));
        assert_eq!(parsed(&linked)["data"]["channel"], "whatsapp");
    }
}
