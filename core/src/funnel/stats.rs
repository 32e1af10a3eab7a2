//! The funnel per store and day, as `GET /api/admin/stats` answers it: landing views, grants and
//! withdrawals per channel, cards issued, redemptions. Days are the store's own calendar days
//! (its time zone): a Tokyo store's Monday is Tokyo's Monday. Changes that no store is known
//! for (a plain follow without a join code, from a member with no favourite store) are counted
//! apart, under no store, by UTC day.
//!
//! The counters live in the `Funnel` Durable Object of each store, one row per day and metric;
//! the names of the metrics are here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::consent::{Channel, ConsentState, Purpose};
use crate::error::Error;
use crate::ids::StoreId;
use crate::stores::StoresIndex;
use crate::time::{format_day, parse_day};

/// Metric: a landing page view.
pub const VIEW: &str = "view";
/// Metric: a member's card issued (their first grant).
pub const CARD: &str = "card";
/// Metric: a coupon redeemed.
pub const REDEMPTION: &str = "redemption";
/// Metric: of those, one a till made offline (counted beside [`REDEMPTION`], on the day it
/// happened, when its queue arrives).
pub const OFFLINE_REDEMPTION: &str = "redemption_offline";
/// The `Funnel` object that counts changes no store is known for (not a valid store id).
pub const NO_STORE: &str = "_";
/// The most days one answer holds: of a longer range, the last `MAX_DAYS` (the answer's `from`
/// says where it starts; ask again for the days before).
pub const MAX_DAYS: i64 = 92;

/// Metric: a grant on `channel` (consent became granted).
pub fn grant(channel: Channel) -> String {
    format!("grant:{}", channel.as_str())
}

/// Metric: a grant on `channel` for the card only (purpose `card`: the platform cannot carry
/// marketing there), counted beside [`grant`], which counts every opt-in.
pub fn card_only_grant(channel: Channel) -> String {
    format!("grant_card:{}", channel.as_str())
}

/// Metric: a withdrawal on `channel` (consent stopped being granted).
pub fn withdrawal(channel: Channel) -> String {
    format!("withdrawal:{}", channel.as_str())
}

/// The metrics a consent change counts: a grant (and, for the card only, a card-only grant) or
/// a withdrawal on its channel when the state changed, and the card when this change issued it.
pub fn consent_metrics(
    channel: Channel,
    purpose: Purpose,
    before: ConsentState,
    after: ConsentState,
    card_issued: bool,
) -> Vec<String> {
    let mut metrics = Vec::new();
    match (
        before == ConsentState::Granted,
        after == ConsentState::Granted,
    ) {
        (false, true) => {
            metrics.push(grant(channel));
            if purpose == Purpose::Card {
                metrics.push(card_only_grant(channel));
            }
        }
        (true, false) => metrics.push(withdrawal(channel)),
        _ => {}
    }
    if card_issued {
        metrics.push(CARD.to_owned());
    }
    metrics
}

/// How the answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    /// A chart of the rows (see [`crate::funnel::chart`]).
    Svg,
}

/// A validated stats request. A bound left out is "today", and today is each store's own: at
/// 00:30 in Tokyo (15:30 UTC the day before) a Tokyo store's today is already the next day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Day numbers (days since 1970-01-01), inclusive; `None`: the store's own today.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub format: Format,
}

/// The days one store is asked for, inclusive (none when `from > to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub from: i64,
    pub to: i64,
}

impl Days {
    /// Whether it holds no day (`from` after `to`).
    pub fn is_empty(self) -> bool {
        self.from > self.to
    }

    /// From the first day of either to the last of either (the answer's `from` and `to`).
    pub fn union(self, other: Days) -> Days {
        Days {
            from: self.from.min(other.from),
            to: self.to.max(other.to),
        }
    }
}

impl Query {
    /// From the query parameters (`from`, `to`: `YYYY-MM-DD`, default each store's today;
    /// `format`: `json`, `csv` or `svg`, else JSON or CSV by the `Accept` header). A `from`
    /// after `to` asks for no day at all; a range longer than [`MAX_DAYS`] gets its last ones
    /// ([`Query::days`]).
    ///
    /// # Errors
    /// 400 `invalid_date` or `invalid_format`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        format: Option<&str>,
        accept: Option<&str>,
    ) -> Result<Query, Error> {
        let day = |name: &str, raw: Option<&str>| {
            raw.map(|d| {
                parse_day(d).ok_or_else(|| {
                    Error::bad_request(
                        "invalid_date",
                        format!("`{name}` is a calendar day, YYYY-MM-DD."),
                    )
                })
            })
            .transpose()
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        let format = match format {
            Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            Some("svg") => Format::Svg,
            Some(_) => {
                return Err(Error::bad_request(
                    "invalid_format",
                    "`format` is json, csv or svg.",
                ))
            }
            None if accept.is_some_and(|a| a.contains("text/csv")) => Format::Csv,
            None => Format::Json,
        };
        Ok(Query { from, to, format })
    }

    /// The days of a store whose own calendar shows `today`: a bound left out is `today`, and
    /// a range that would pass the limit there keeps its last `MAX_DAYS` days. None when `from`
    /// is after `to` ([`Days::is_empty`]).
    pub fn days(&self, today: i64) -> Days {
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or(today).max(to - MAX_DAYS + 1);
        Days { from, to }
    }
}

/// The `store` parameter: absent, every store (and the changes of no store); else one store.
///
/// # Errors
/// 400 `invalid_store` when it is not a store id.
pub fn parse_store(raw: Option<&str>) -> Result<Option<StoreId>, Error> {
    raw.map(|s| {
        StoreId::parse(s).map_err(|why| {
            Error::bad_request(
                "invalid_store",
                format!("`store` is one store's id: {why}."),
            )
        })
    })
    .transpose()
}

/// Whose counters a request reads, each with its time zone: the one store asked for; else every
/// store of the index, then the changes of no store (by UTC day).
///
/// # Errors
/// 404 `not_found` when the store asked for is not in the index.
pub fn owners<'a>(
    index: &'a StoresIndex,
    only: Option<&StoreId>,
) -> Result<Vec<(Option<&'a StoreId>, &'a str)>, Error> {
    match only {
        Some(id) => {
            let store = index.get(id).ok_or(Error::NotFound)?;
            Ok(vec![(Some(&store.id), store.timezone.as_str())])
        }
        None => Ok(index
            .stores
            .iter()
            .map(|s| (Some(&s.id), s.timezone.as_str()))
            .chain([(None, "UTC")])
            .collect()),
    }
}

/// One counter as the `Funnel` object keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub day: String,
    pub metric: String,
    pub n: i64,
}

/// Counts per channel, in JSON as `{"line": 0, "whatsapp": 0, …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerChannel([i64; 4]);

impl PerChannel {
    /// Every channel's together.
    pub fn total(&self) -> i64 {
        self.0.iter().sum()
    }

    fn add(&mut self, channel: Channel, n: i64) {
        self.0[index(channel)] += n;
    }

    pub fn get(&self, channel: Channel) -> i64 {
        self.0[index(channel)]
    }
}

fn index(channel: Channel) -> usize {
    Channel::ALL.iter().position(|c| *c == channel).unwrap_or(0)
}

impl Serialize for PerChannel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<&str, i64> = Channel::ALL
            .iter()
            .map(|c| (c.as_str(), self.get(*c)))
            .collect();
        map.serialize(s)
    }
}

/// One store's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Absent (not `null`) on the rows of no store: a generic client reading `store_id` finds a
    /// store or nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<StoreId>,
    pub time_zone: String,
    pub day: String,
    pub landing_views: i64,
    /// Every opt-in.
    pub grants: PerChannel,
    /// Of `grants`, those for the card only (no offers can reach them); the rest can.
    pub card_only_grants: PerChannel,
    pub withdrawals: PerChannel,
    pub cards_issued: i64,
    pub redemptions: i64,
    /// Of `redemptions`, those a till made offline.
    pub offline_redemptions: i64,
}

impl Row {
    fn empty(store_id: Option<StoreId>, time_zone: &str, day: String) -> Row {
        Row {
            store_id,
            time_zone: time_zone.to_owned(),
            day,
            landing_views: 0,
            grants: PerChannel::default(),
            card_only_grants: PerChannel::default(),
            withdrawals: PerChannel::default(),
            cards_issued: 0,
            redemptions: 0,
            offline_redemptions: 0,
        }
    }

    fn add(&mut self, metric: &str, n: i64) {
        match metric {
            VIEW => self.landing_views += n,
            CARD => self.cards_issued += n,
            REDEMPTION => self.redemptions += n,
            OFFLINE_REDEMPTION => self.offline_redemptions += n,
            other => {
                let (kind, channel) = other.split_once(':').unwrap_or((other, ""));
                match (kind, Channel::parse(channel)) {
                    ("grant", Some(c)) => self.grants.add(c, n),
                    ("grant_card", Some(c)) => self.card_only_grants.add(c, n),
                    ("withdrawal", Some(c)) => self.withdrawals.add(c, n),
                    // A metric this version does not know: ignored, never an error.
                    _ => {}
                }
            }
        }
    }
}

/// The rows of one store over the query's days: every day for a store (zeros included, so the
/// CSV charts as it is), only days with counts for the changes of no store.
pub fn rows(store_id: Option<&StoreId>, time_zone: &str, days: Days, counts: &[Count]) -> Vec<Row> {
    let mut by_day: BTreeMap<String, Row> = BTreeMap::new();
    if store_id.is_some() {
        for d in days.from..=days.to {
            let day = format_day(d);
            by_day.insert(day.clone(), Row::empty(store_id.cloned(), time_zone, day));
        }
    }
    for c in counts {
        if parse_day(&c.day).is_none_or(|d| d < days.from || d > days.to) {
            continue;
        }
        by_day
            .entry(c.day.clone())
            .or_insert_with(|| Row::empty(store_id.cloned(), time_zone, c.day.clone()))
            .add(&c.metric, c.n);
    }
    by_day.into_values().collect()
}

/// The CSV's header line.
pub const CSV_HEADER: &str = "store_id,time_zone,day,landing_views,\
grants_line,grants_whatsapp,grants_messenger,grants_instagram,\
withdrawals_line,withdrawals_whatsapp,withdrawals_messenger,withdrawals_instagram,\
cards_issued,redemptions,\
card_only_grants_line,card_only_grants_whatsapp,card_only_grants_messenger,card_only_grants_instagram,\
offline_redemptions";

/// The rows as CSV (RFC 4180, CRLF line ends). Every field is an id, a zone name, a day or a
/// number: none needs quoting, and none can start a spreadsheet formula.
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for r in rows {
        let mut fields = vec![
            r.store_id.as_ref().map_or("", StoreId::as_str).to_owned(),
            r.time_zone.clone(),
            r.day.clone(),
            r.landing_views.to_string(),
        ];
        fields.extend(Channel::ALL.iter().map(|c| r.grants.get(*c).to_string()));
        fields.extend(
            Channel::ALL
                .iter()
                .map(|c| r.withdrawals.get(*c).to_string()),
        );
        fields.push(r.cards_issued.to_string());
        fields.push(r.redemptions.to_string());
        fields.extend(
            Channel::ALL
                .iter()
                .map(|c| r.card_only_grants.get(*c).to_string()),
        );
        fields.push(r.offline_redemptions.to_string());
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i64 {
        parse_day(s).unwrap()
    }

    fn count(d: &str, metric: &str, n: i64) -> Count {
        Count {
            day: d.into(),
            metric: metric.into(),
            n,
        }
    }

    #[test]
    fn queries_default_to_today_and_refuse_bad_days_ranges_and_formats() {
        let today = day("2026-11-23");
        let q = Query::parse(None, None, None, None).unwrap();
        assert_eq!((q.from, q.to, q.format), (None, None, Format::Json));
        // Each store's own today: Tokyo's is already tomorrow in the UTC afternoon.
        let tomorrow = today + 1;
        assert_eq!(
            q.days(tomorrow),
            Days {
                from: tomorrow,
                to: tomorrow
            }
        );
        // A bound that is some store's today is accepted; one past every store's is not.
        assert!(Query::parse(Some("2026-11-24"), None, None, None).is_ok());
        assert!(Query::parse(None, Some("2026-11-22"), None, None).is_ok());
        let only_from = Query::parse(Some("2026-11-24"), None, None, None).unwrap();
        let utc_days = only_from.days(today);
        assert!(utc_days.from > utc_days.to, "no day yet for a UTC store");
        // A store a day ahead keeps the last 92 days of a range at the limit.
        let long = Query::parse(Some("2026-08-24"), None, None, None).unwrap();
        assert_eq!(long.days(today).to - long.days(today).from, MAX_DAYS - 1);
        assert_eq!(
            long.days(tomorrow).to - long.days(tomorrow).from,
            MAX_DAYS - 1
        );
        let csv = Query::parse(
            Some("2026-11-01"),
            Some("2026-11-30"),
            None,
            Some("text/csv"),
        );
        assert_eq!(csv.unwrap().format, Format::Csv);
        let svg = Query::parse(None, None, Some("svg"), Some("text/csv")).unwrap();
        assert_eq!(svg.format, Format::Svg, "`format` wins over `Accept`");
        for (from, to, format, code) in [
            (Some("2026-11-31"), None, None, "invalid_date"),
            (Some("23/11/2026"), None, None, "invalid_date"),
            (None, None, Some("xml"), "invalid_format"),
            (None, None, Some("SVG"), "invalid_format"),
        ] {
            let err = Query::parse(from, to, format, None).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, code));
        }
        // Not errors: a reversed range has no day; a long one keeps its last `MAX_DAYS`.
        let reversed = Query::parse(Some("2026-11-24"), Some("2026-11-23"), None, None).unwrap();
        assert!(reversed.days(today).is_empty());
        let year = Query::parse(Some("2026-01-01"), Some("2026-12-31"), None, None).unwrap();
        let days = year.days(today);
        assert_eq!(
            (format_day(days.from), format_day(days.to)),
            ("2026-10-01".to_owned(), "2026-12-31".to_owned())
        );
    }

    #[test]
    fn a_store_gets_every_day_and_counts_land_in_their_columns() {
        let q = Query::parse(Some("2026-11-22"), Some("2026-11-24"), None, None).unwrap();
        let store = StoreId::parse("shibuya").unwrap();
        let counts = [
            count("2026-11-23", VIEW, 7),
            count("2026-11-23", &grant(Channel::Line), 2),
            count("2026-11-23", &grant(Channel::Messenger), 1),
            count("2026-11-23", &card_only_grant(Channel::Messenger), 1),
            count("2026-11-23", &withdrawal(Channel::Instagram), 1),
            count("2026-11-23", CARD, 2),
            count("2026-11-24", REDEMPTION, 3),
            count("2026-11-24", "from-a-future-version", 9),
            count("2026-11-25", VIEW, 100),
        ];
        let rows = rows(Some(&store), "Asia/Tokyo", q.days(0), &counts);
        assert_eq!(rows.len(), 3);
        let v = serde_json::to_value(&rows[1]).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "store_id": "shibuya", "time_zone": "Asia/Tokyo", "day": "2026-11-23",
                "landing_views": 7,
                "grants": {"line": 2, "whatsapp": 0, "messenger": 1, "instagram": 0},
                "card_only_grants": {"line": 0, "whatsapp": 0, "messenger": 1, "instagram": 0},
                "withdrawals": {"line": 0, "whatsapp": 0, "messenger": 0, "instagram": 1},
                "cards_issued": 2, "redemptions": 0, "offline_redemptions": 0,
            })
        );
        assert_eq!(rows[2].redemptions, 3);
        let text = csv(&rows);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(
            lines[2],
            "shibuya,Asia/Tokyo,2026-11-23,7,2,0,1,0,0,0,0,1,2,0,0,0,1,0,0"
        );
        assert_eq!(
            lines.len(),
            5,
            "three rows, a header and the final line end"
        );
    }

    #[test]
    fn only_state_changes_and_first_cards_count() {
        use ConsentState::*;
        use Purpose::{Card, Marketing};
        assert_eq!(
            consent_metrics(Channel::Line, Marketing, Unknown, Granted, true),
            vec!["grant:line", "card"]
        );
        // A card-only opt-in counts as an opt-in, and apart as one no offer can reach.
        assert_eq!(
            consent_metrics(Channel::Messenger, Card, Unknown, Granted, false),
            vec!["grant:messenger", "grant_card:messenger"]
        );
        assert_eq!(
            consent_metrics(Channel::Whatsapp, Card, Granted, Withdrawn, false),
            vec!["withdrawal:whatsapp"]
        );
        assert!(consent_metrics(Channel::Line, Marketing, Granted, Granted, false).is_empty());
        assert!(consent_metrics(Channel::Line, Marketing, Unknown, Withdrawn, false).is_empty());
    }

    #[test]
    fn one_store_is_read_alone_and_only_when_it_is_in_the_index() {
        let store = |id: &str, tz: &str| crate::stores::Store {
            id: StoreId::parse(id).unwrap(),
            names: BTreeMap::from([("en".to_owned(), id.to_owned())]),
            address: "1 Main St".into(),
            timezone: tz.into(),
            country: None,
            latitude: None,
            longitude: None,
            updated_at_ms: 0,
        };
        let index = StoresIndex {
            stores: vec![
                store("shibuya", "Asia/Tokyo"),
                store("paris", "Europe/Paris"),
            ],
        };
        let all: Vec<(Option<&str>, &str)> = owners(&index, None)
            .unwrap()
            .into_iter()
            .map(|(id, tz)| (id.map(StoreId::as_str), tz))
            .collect();
        assert_eq!(
            all,
            vec![
                (Some("shibuya"), "Asia/Tokyo"),
                (Some("paris"), "Europe/Paris"),
                (None, "UTC")
            ]
        );
        let paris = parse_store(Some("paris")).unwrap();
        let one = owners(&index, paris.as_ref()).unwrap();
        assert_eq!(one.len(), 1, "no row of no store either");
        assert_eq!(
            (one[0].0.map(StoreId::as_str), one[0].1),
            (Some("paris"), "Europe/Paris")
        );
        assert_eq!(parse_store(None).unwrap(), None);
        let unknown = parse_store(Some("nosuch")).unwrap();
        let err = owners(&index, unknown.as_ref()).unwrap_err();
        assert_eq!((err.status(), err.code()), (404, "not_found"));
        for bad in ["Bad!", "", "-x", &"a".repeat(33)] {
            let err = parse_store(Some(bad)).unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_store"), "{bad}");
        }
    }

    #[test]
    fn changes_of_no_store_show_only_the_days_that_have_some() {
        let q = Query::parse(Some("2026-11-22"), Some("2026-11-24"), None, None).unwrap();
        let rows = rows(None, "UTC", q.days(0), &[count("2026-11-23", CARD, 1)]);
        assert_eq!(rows.len(), 1);
        assert!(csv(&rows).contains("\r\n,UTC,2026-11-23,0,"));
    }
}
