//! The feed's events: one per consent change, member creation, channel link, redemption and
//! erasure, as CloudEvents 1.0 JSON (`specversion`, `id`, `source`, `type`, `time`,
//! `datacontenttype`, `data`) with `data` as flat scalar fields — what a marketing-automation
//! tool maps to columns without parsing nested objects.
//!
//! An event's id derives from what caused it (the ledger event id, the redemption id, the
//! member number), so a cause enqueued twice is one event: receivers deduplicate on
//! `webhook-id`, which is this id. An erased member's events carry no channel user id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::consent::{Action, Channel, Source};
use crate::ids::MemberNumber;
use crate::members::{Answer, Change, LinkedSubject, MemberRecord, Request};
use crate::till::redemptions::{Outcome, Redemption};
use crate::time::format_rfc3339;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "member.consent.granted")]
    ConsentGranted,
    #[serde(rename = "member.consent.withdrawn")]
    ConsentWithdrawn,
    #[serde(rename = "member.created")]
    MemberCreated,
    #[serde(rename = "member.linked")]
    MemberLinked,
    #[serde(rename = "coupon.redeemed")]
    CouponRedeemed,
    #[serde(rename = "member.erased")]
    MemberErased,
    /// A redemption a till queued offline was refused when it arrived
    /// ([`crate::till::offline::Conflict`]).
    #[serde(rename = "coupon.redemption_conflict")]
    CouponRedemptionConflict,
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
            EventType::CouponRedemptionConflict => "coupon.redemption_conflict",
        }
    }

    /// Every type, for parsing a filter.
    pub const ALL: [EventType; 7] = [
        EventType::ConsentGranted,
        EventType::ConsentWithdrawn,
        EventType::MemberCreated,
        EventType::MemberLinked,
        EventType::CouponRedeemed,
        EventType::MemberErased,
        EventType::CouponRedemptionConflict,
    ];

    /// The type named `text` (its CloudEvents `type`).
    pub fn parse(text: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// A flat `data` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl From<bool> for Scalar {
    fn from(b: bool) -> Self {
        Scalar::Bool(b)
    }
}

/// One event of the feed (serialized as is on its way through the queue; [`FeedEvent::envelope`]
/// is what receivers see).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEvent {
    pub id: String,
    pub kind: EventType,
    pub time_ms: u64,
    pub data: Data,
    /// On `member.erased` only: when the member was created, so that every month of the log
    /// that may hold the member's events is scrubbed of their channel user ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrub_from_ms: Option<u64>,
}

/// The flat `data` of an event.
pub type Data = BTreeMap<String, Scalar>;

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
    data: &'a Data,
}

impl FeedEvent {
    /// The member the event is about (every event names one).
    pub fn member_number(&self) -> Option<&str> {
        match self.data.get("member_number") {
            Some(Scalar::Text(number)) => Some(number),
            _ => None,
        }
    }

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

/// The field saying whether marketing can reach the member's account on a channel
/// ([`LinkedSubject::marketing_deliverable`]): the tool sends offers only where it is true.
pub fn marketing_field(channel: Channel) -> &'static str {
    match channel {
        Channel::Line => "line_marketing_deliverable",
        Channel::Whatsapp => "whatsapp_marketing_deliverable",
        Channel::Messenger => "messenger_marketing_deliverable",
        Channel::Instagram => "instagram_marketing_deliverable",
    }
}

/// The member's number and channel user ids, each with whether marketing can reach it (none
/// once erased: the record is gone).
fn member_fields(number: MemberNumber, member: Option<&MemberRecord>) -> Data {
    let mut data = Data::new();
    put(&mut data, "member_number", number.to_string());
    for s in member.map(|m| m.subjects.as_slice()).unwrap_or_default() {
        if !s.user_id.is_empty() {
            put(&mut data, user_id_field(s.channel), s.user_id.as_str());
            put(
                &mut data,
                marketing_field(s.channel),
                s.marketing_deliverable(),
            );
        }
    }
    data
}

fn put(data: &mut Data, key: &str, value: impl Into<Scalar>) {
    data.insert(key.to_owned(), value.into());
}

/// A consent change applied to one of the member's subjects, with the member as it is now.
fn consent(
    member: &MemberRecord,
    subject: &LinkedSubject,
    change: &Change,
    id: String,
) -> FeedEvent {
    let mut data = member_fields(member.number, Some(member));
    let (kind, state) = match change.action {
        Action::Granted => (EventType::ConsentGranted, "granted"),
        Action::Withdrawn => (EventType::ConsentWithdrawn, "withdrawn"),
    };
    put(&mut data, "channel", subject.channel.as_str());
    put(
        &mut data,
        "purpose",
        crate::members::recorded_purpose(subject, change).as_str(),
    );
    put(&mut data, "consent_state", state);
    let source = serde_json::to_value(change.source).unwrap_or_default();
    put(&mut data, "source", source.as_str().unwrap_or_default());
    if let Some(store) = &change.store {
        put(&mut data, "store_id", store.as_str());
    }
    if let Some(campaign) = &change.campaign {
        put(&mut data, "campaign_id", campaign.as_str());
    }
    if let Some(version) = &change.notice_version {
        put(&mut data, "notice_version", version.as_str());
    }
    FeedEvent {
        id,
        kind,
        time_ms: change.occurred_at_ms,
        data,
        scrub_from_ms: None,
    }
}

/// A member founded by a first grant.
pub fn member_created(member: &MemberRecord) -> FeedEvent {
    let mut data = member_fields(member.number, Some(member));
    if let Some(store) = &member.favourite_store {
        put(&mut data, "store_id", store.as_str());
    }
    FeedEvent {
        id: format!("mbr_{}", member.number),
        kind: EventType::MemberCreated,
        time_ms: member.created_at_ms,
        data,
        scrub_from_ms: None,
    }
}

/// A channel account linked to a member by a link code.
pub fn member_linked(member: &MemberRecord, channel: Channel, at_ms: u64) -> FeedEvent {
    let mut data = member_fields(member.number, Some(member));
    put(&mut data, "channel", channel.as_str());
    FeedEvent {
        id: format!("lnk_{}_{}", member.number, channel.as_str()),
        kind: EventType::MemberLinked,
        time_ms: at_ms,
        data,
        scrub_from_ms: None,
    }
}

/// A coupon redeemed at a till: the link between the shopper's apps and a purchase.
pub fn coupon_redeemed(r: &Redemption, member: Option<&MemberRecord>) -> FeedEvent {
    let mut data = member_fields(r.member_number, member);
    put(&mut data, "coupon_id", r.coupon_id.as_str());
    put(&mut data, "store_id", r.store_id.as_str());
    put(&mut data, "register_id", r.register_id.as_str());
    put(&mut data, "transaction_id", r.transaction_id.as_str());
    put(&mut data, "redemption_id", r.id.as_str());
    if let Some(key) = &r.pos_key_id {
        put(&mut data, "pos_key_id", key.as_str());
    }
    // Made at a till without a connection: dated when it happened, synced later.
    put(&mut data, "offline", r.is_offline());
    if let Some(synced) = r.synced_at_ms {
        put(&mut data, "offline_at", format_rfc3339(r.redeemed_at_ms));
        put(&mut data, "synced_at", format_rfc3339(synced));
    }
    FeedEvent {
        id: format!("evt_{}", r.id),
        kind: EventType::CouponRedeemed,
        time_ms: r.redeemed_at_ms,
        data,
        scrub_from_ms: None,
    }
}

/// How much earlier than the member's creation one of their events may be dated: events carry
/// the platform's time, and Meta keeps retrying a failed WhatsApp webhook delivery "with
/// decreasing frequency … for up to 7 days" (developers.facebook.com/docs/whatsapp/cloud-api/
/// guides/set-up-webhooks), so the founding grant itself may be that old when it arrives.
pub const EARLIEST_BEFORE_CREATION_MS: u64 = 8 * 24 * 3600 * 1000;

/// A member erased: the number only. Every month of the log from a little before the member's
/// creation is scrubbed of their channel user ids.
pub fn member_erased(number: MemberNumber, at_ms: u64, created_at_ms: u64) -> FeedEvent {
    FeedEvent {
        id: format!("era_{number}"),
        kind: EventType::MemberErased,
        time_ms: at_ms,
        data: member_fields(number, None),
        scrub_from_ms: Some(created_at_ms.saturating_sub(EARLIEST_BEFORE_CREATION_MS)),
    }
}

/// The events a request to a member's object caused, from the request, its answer and the
/// member before and after. Only real changes count: a redelivered event, a grant while granted
/// or a replayed redemption cause nothing.
pub fn caused_by(
    request: &Request,
    answer: &Answer,
    before: Option<&MemberRecord>,
    after: Option<&MemberRecord>,
    now_ms: u64,
) -> Vec<FeedEvent> {
    let mut events = Vec::new();
    match (answer, after) {
        (Answer::Applied(applied), Some(m)) if !applied.duplicate => {
            let (subject, change) = match request {
                Request::Resolve {
                    subject,
                    change: Some(change),
                    ..
                }
                | Request::ApplyLinked {
                    subject, change, ..
                }
                | Request::Link {
                    subject, change, ..
                } => (subject, change),
                _ => return events,
            };
            if applied.new_member {
                events.push(member_created(m));
            }
            let before_subjects = before.map(|b| b.subjects.as_slice()).unwrap_or_default();
            for s in &m.subjects {
                if !before_subjects.iter().any(|b| b.pseudonym == s.pseudonym)
                    && !applied.new_member
                {
                    events.push(member_linked(m, s.channel, s.linked_at_ms));
                }
            }
            let linked = m.subject(&subject.pseudonym);
            if let (Some(s), true) = (linked, applied.before != applied.after) {
                events.push(consent(m, s, change, format!("evt_{}", change.event_id)));
            }
        }
        (Answer::Stopped { withdrawn }, Some(m)) => {
            let Request::StopAll { at_ms, .. } = request else {
                return events;
            };
            for w in withdrawn {
                let Some(s) = m.subjects.iter().find(|s| s.pseudonym == w.pseudonym) else {
                    continue;
                };
                let change = Change {
                    event_id: String::new(),
                    occurred_at_ms: s.latest.map_or(*at_ms, |(t, _)| t),
                    action: Action::Withdrawn,
                    source: Source::CardPage,
                    store: None,
                    lang: None,
                    campaign: None,
                    notice_version: None,
                    purpose: w.purpose,
                };
                let id = format!("stp_{}_{}_{at_ms}", m.number, s.channel.as_str());
                events.push(consent(m, s, &change, id));
            }
        }
        (
            Answer::Redemption {
                result: Outcome::Redeemed { redemption },
            },
            _,
        ) => events.push(coupon_redeemed(redemption, after)),
        (Answer::Erased { .. }, None) => {
            if let Some(b) = before {
                events.push(member_erased(b.number, now_ms, b.created_at_ms));
            }
        }
        _ => {}
    }
    events
}

/// The data fields that name a shopper in an app.
pub const USER_ID_FIELDS: [&str; 4] = [
    "line_user_id",
    "whatsapp_id",
    "messenger_psid",
    "instagram_igsid",
];

/// An envelope without its channel user ids (an erased member's events in the log), or `None`
/// when it had none to remove (or is not an envelope).
pub fn scrub(envelope: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(envelope).ok()?;
    let data = value.get_mut("data")?.as_object_mut()?;
    let mut removed = false;
    for field in USER_ID_FIELDS {
        removed |= data.remove(field).is_some();
    }
    removed.then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::codes::LinkCode;
    use crate::consent::Purpose;
    use crate::ids::{CampaignId, CouponId, StoreId, TillId};
    use crate::members::{Slot, SubjectRef};

    const T: u64 = 1_795_000_000_000;

    fn parsed(e: &FeedEvent) -> Value {
        serde_json::from_str(&e.envelope("https://shop.example")).unwrap()
    }

    fn subject(p: &str, channel: Channel, user: &str) -> SubjectRef {
        SubjectRef {
            pseudonym: p.into(),
            channel,
            user_id: user.into(),
        }
    }

    fn change(id: &str, at: u64, action: Action, source: Source) -> Change {
        Change {
            event_id: id.into(),
            occurred_at_ms: at,
            action,
            source,
            store: Some(StoreId::parse("umeda").unwrap()),
            lang: None,
            campaign: Some(CampaignId::parse("spring").unwrap()),
            notice_version: Some("2026-11".into()),
            purpose: Purpose::Marketing,
        }
    }

    /// Runs a request on the slot and returns the events it caused.
    fn run(slot: &mut Slot, request: Request) -> Vec<FeedEvent> {
        let before = slot.member.clone();
        let answer = slot.handle(request.clone(), T + 99);
        caused_by(
            &request,
            &answer,
            before.as_ref(),
            slot.member.as_ref(),
            T + 99,
        )
    }

    fn found(slot: &mut Slot, number: MemberNumber) -> Vec<FeedEvent> {
        run(
            slot,
            Request::Resolve {
                slot: number,
                subject: subject("p1", Channel::Line, "U1"),
                change: Some(change("e1", T, Action::Granted, Source::JoinCode)),
                aliases: Vec::new(),
            },
        )
    }

    #[test]
    fn a_first_grant_founds_a_member_and_grants_as_flat_cloudevents() {
        let number = MemberNumber::from_body(77);
        let mut slot = Slot::default();
        let events = found(&mut slot, number);
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["member.created", "member.consent.granted"]);
        let v = parsed(&events[1]);
        assert_eq!(
            v,
            json!({
                "specversion": "1.0", "id": "evt_e1", "source": "https://shop.example",
                "type": "member.consent.granted", "time": "2026-11-18T11:06:40Z",
                "datacontenttype": "application/json",
                "data": {
                    "member_number": number.to_string(), "line_user_id": "U1",
                    "line_marketing_deliverable": true,
                    "channel": "line", "purpose": "marketing", "consent_state": "granted",
                    "source": "join_code", "store_id": "umeda", "campaign_id": "spring",
                    "notice_version": "2026-11",
                },
            })
        );
        assert!(v["data"]
            .as_object()
            .unwrap()
            .values()
            .all(|x| !x.is_object() && !x.is_array()));
        assert_eq!(parsed(&events[0])["data"]["store_id"], "umeda");
    }

    #[test]
    fn only_real_changes_cause_events() {
        let number = MemberNumber::from_body(78);
        let mut slot = Slot::default();
        found(&mut slot, number);
        assert!(found(&mut slot, number).is_empty(), "a redelivery");
        let regrant = Request::Resolve {
            slot: number,
            subject: subject("p1", Channel::Line, "U1"),
            change: Some(change("e2", T + 5, Action::Granted, Source::Follow)),
            aliases: Vec::new(),
        };
        assert!(run(&mut slot, regrant).is_empty(), "a grant while granted");
        let stop = Request::Resolve {
            slot: number,
            subject: subject("p1", Channel::Line, "U1"),
            change: Some(change("e3", T + 9, Action::Withdrawn, Source::Keyword)),
            aliases: Vec::new(),
        };
        let events = run(&mut slot, stop);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventType::ConsentWithdrawn);
        assert_eq!(parsed(&events[0])["data"]["source"], "keyword");
        assert!(run(&mut slot, Request::Get).is_empty());
    }

    #[test]
    fn a_link_names_the_new_app_and_a_stop_withdraws_each_app() {
        let number = MemberNumber::from_body(79);
        let mut slot = Slot::default();
        found(&mut slot, number);
        let link = Request::Link {
            subject: subject("p2", Channel::Whatsapp, "8190"),
            home: number,
            code: LinkCode {
                member: number,
                channel: Channel::Whatsapp,
                issued_at: T / 1000,
            },
            change: change("e4", T + 10, Action::Granted, Source::JoinCode),
        };
        let events = run(&mut slot, link);
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["member.linked", "member.consent.granted"]);
        let linked = parsed(&events[0]);
        assert_eq!(linked["id"], format!("lnk_{number}_whatsapp"));
        assert_eq!(linked["data"]["whatsapp_id"], "8190");
        assert_eq!(linked["data"]["line_user_id"], "U1");

        let stopped = run(
            &mut slot,
            Request::StopAll {
                at_ms: T + 20,
                lang: None,
            },
        );
        let channels: Vec<_> = stopped
            .iter()
            .map(|e| parsed(e)["data"]["channel"].clone())
            .collect();
        assert_eq!(channels, [json!("line"), json!("whatsapp")]);
        assert!(stopped
            .iter()
            .all(|e| e.kind == EventType::ConsentWithdrawn));
        assert_eq!(parsed(&stopped[0])["data"]["source"], "card_page");
        assert_eq!(stopped[0].id, format!("stp_{number}_line_{}", T + 20));
        assert!(run(
            &mut slot,
            Request::StopAll {
                at_ms: T + 30,
                lang: None
            }
        )
        .is_empty());
    }

    #[test]
    fn a_redemption_links_the_apps_to_the_purchase_and_erasure_names_only_the_number() {
        let number = MemberNumber::from_body(80);
        let mut slot = Slot::default();
        found(&mut slot, number);
        let m = slot.member.clone().unwrap();
        let r = Redemption {
            id: "rd_x".into(),
            coupon_id: CouponId::parse("welcome").unwrap(),
            member_number: number,
            store_id: StoreId::parse("shibuya").unwrap(),
            register_id: TillId::parse("R1").unwrap(),
            transaction_id: TillId::parse("T9").unwrap(),
            redeemed_at_ms: T,
            pos_key_id: Some("pk_till9".into()),
            synced_at_ms: None,
        };
        let v = parsed(&coupon_redeemed(&r, Some(&m)));
        assert_eq!(v["type"], "coupon.redeemed");
        assert_eq!(v["id"], "evt_rd_x");
        for (k, want) in [
            ("coupon_id", "welcome"),
            ("transaction_id", "T9"),
            ("register_id", "R1"),
            ("pos_key_id", "pk_till9"),
            ("line_user_id", "U1"),
        ] {
            assert_eq!(v["data"][k], want, "{k}");
        }
        let erased = run(&mut slot, Request::Erase { number: None });
        assert_eq!(erased.len(), 1);
        assert_eq!(erased[0].kind, EventType::MemberErased);
        assert_eq!(
            erased[0].scrub_from_ms,
            Some(T + 99 - EARLIEST_BEFORE_CREATION_MS),
            "from before the founding grant's platform time (T)"
        );
        assert_eq!(
            parsed(&erased[0])["data"],
            json!({ "member_number": number.to_string() })
        );
        assert!(
            run(&mut slot, Request::Erase { number: None }).is_empty(),
            "erased once"
        );
    }

    #[test]
    fn scrubbing_removes_every_app_id_and_nothing_else() {
        let number = MemberNumber::from_body(81);
        let mut slot = Slot::default();
        let events = found(&mut slot, number);
        let body = events[1].envelope("https://shop.example");
        let clean: Value = serde_json::from_str(&scrub(&body).unwrap()).unwrap();
        let mut want: Value = serde_json::from_str(&body).unwrap();
        want["data"].as_object_mut().unwrap().remove("line_user_id");
        assert_eq!(clean, want);
        assert_eq!(scrub(&clean.to_string()), None, "nothing left to remove");
        assert_eq!(scrub("not json"), None);
    }

    #[test]
    fn events_cross_the_queue_unchanged_and_types_parse_back() {
        let mut slot = Slot::default();
        for e in found(&mut slot, MemberNumber::from_body(82)) {
            let text = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<FeedEvent>(&text).unwrap(), e);
        }
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("member"), None);
    }
}
