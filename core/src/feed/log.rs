//! The feed's log: every event as delivered, kept in one `FeedLog` Durable Object per calendar
//! month (UTC) of the event's time, so no object outgrows its storage and a time range reads
//! only the months it spans. Deliveries read their bodies from here, so an erasure that scrubs
//! the log also scrubs what is still waiting to be delivered. The export reads it in order.

use serde::{Deserialize, Serialize};

use crate::error::Error;
#[cfg(test)]
use crate::time::parse_rfc3339;
use crate::time::{format_day, format_rfc3339, parse_day, parse_rfc3339_from_epoch};

use super::events::{EventType, FeedEvent};

const DAY_MS: u64 = 24 * 3600 * 1000;
/// The longest span one export answer (or one replay step) reads: a longer range is served a
/// span at a time (the export's `Link: rel="next"`, the replay's next message), so each
/// invocation reads at most 13 months' objects.
pub const SPAN_MAX_DAYS: u64 = 366;
/// How far past now an event's time may be (a platform's clock ahead of ours): a range's end
/// is cut there, as nothing later can exist.
const FUTURE_SLACK_MS: u64 = DAY_MS;
/// Rows per page of a log read.
pub const PAGE_ROWS: u32 = 500;

/// The month (`2026-11`) an instant falls in, UTC: the name of its log object.
pub fn month_of(ms: u64) -> String {
    let day = format_day(i64::try_from(ms / DAY_MS).unwrap_or(i64::MAX));
    day[..7].to_owned()
}

/// The months a half-open range `[from_ms, to_ms)` touches, in order.
pub fn months_between(from_ms: u64, to_ms: u64) -> Vec<String> {
    let mut months: Vec<String> = Vec::new();
    let mut t = from_ms;
    while t < to_ms {
        let m = month_of(t);
        if months.last() != Some(&m) {
            months.push(m);
        }
        t = t.saturating_add(DAY_MS);
    }
    let last = month_of(to_ms.saturating_sub(1).max(from_ms));
    if from_ms < to_ms && months.last() != Some(&last) {
        months.push(last);
    }
    months
}

/// The first instant of a month (`2026-11`, as [`month_of`] names it).
pub fn month_start_ms(month: &str) -> Option<u64> {
    let day = u64::try_from(parse_day(&format!("{month}-01"))?).ok()?;
    Some(day * DAY_MS)
}

/// The most months' objects one replay step reads when they hold nothing of the range: an
/// empty stretch of years is walked through a message at a time.
pub const MONTHS_PER_STEP: usize = 13;

/// One event in the log: its envelope exactly as delivered, and what finds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: String,
    pub time_ms: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The member number (text), for scrubbing after an erasure.
    pub member: Option<String>,
    pub body: String,
}

impl LogRow {
    /// The row of an event, its envelope naming `source`.
    pub fn of(event: &FeedEvent, source: &str) -> LogRow {
        LogRow {
            id: event.id.clone(),
            time_ms: event.time_ms,
            kind: event.kind,
            member: event.member_number().map(str::to_owned),
            body: event.envelope(source),
        }
    }
}

/// Where a page of the log resumes: after this event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub time_ms: u64,
    pub id: String,
}

/// What the edge asks a month's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LogRequest {
    /// Keeps these rows (an id already kept stays as it was). A row of an erased member is kept
    /// scrubbed.
    Append { rows: Vec<LogRow> },
    /// The rows with these ids (those that exist).
    Get { ids: Vec<String> },
    /// Up to `limit` rows of `[from_ms, to_ms)` of the given types (every type when empty),
    /// ordered by time then id, after `after`.
    Page {
        from_ms: u64,
        to_ms: u64,
        #[serde(default)]
        types: Vec<EventType>,
        #[serde(default)]
        after: Option<Cursor>,
        limit: u32,
    },
    /// Removes the channel user ids from the member's rows, now and for rows still to come.
    Scrub { member: String },
    /// Deletes the rows of events before `before_ms` (retention: no copy outlives the
    /// ledger's evidence).
    Purge { before_ms: u64 },
}

/// What a log answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogAnswer {
    #[serde(default)]
    pub rows: Vec<LogRow>,
    /// Rows changed (appended or scrubbed).
    #[serde(default)]
    pub changed: u64,
}

/// An export's (or a replay's) range and types, from the query or body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from_ms: u64,
    pub to_ms: u64,
    pub types: Vec<EventType>,
}

impl Range {
    /// The range as events can exist in it: nothing before `cutoff_ms` (`RETENTION_DAYS` ago,
    /// the ledger's own cut-off) is exported or replayed, and nothing is later than a day past
    /// `now_ms`; a range wholly outside is empty.
    pub fn retained(mut self, cutoff_ms: u64, now_ms: u64) -> Range {
        self.from_ms = self.from_ms.max(cutoff_ms);
        self.to_ms = self
            .to_ms
            .min(now_ms.saturating_add(FUTURE_SLACK_MS))
            .max(self.from_ms);
        self
    }

    /// The first span of at most [`SPAN_MAX_DAYS`], and the rest of the range when there is
    /// more.
    pub fn split_span(&self) -> (Range, Option<Range>) {
        let end = self.from_ms.saturating_add(SPAN_MAX_DAYS * DAY_MS);
        if self.to_ms <= end {
            return (self.clone(), None);
        }
        let first = Range {
            to_ms: end,
            ..self.clone()
        };
        let rest = Range {
            from_ms: end,
            ..self.clone()
        };
        (first, Some(rest))
    }

    /// The range as an export's query (`from=…&to=…&type=…`): its bounds RFC 3339 in UTC and
    /// its types dotted names, so nothing in it needs escaping.
    pub fn query(&self) -> String {
        let mut query = format!(
            "from={}&to={}",
            format_rfc3339(self.from_ms),
            format_rfc3339(self.to_ms)
        );
        if !self.types.is_empty() {
            let types: Vec<&str> = self.types.iter().map(|t| t.as_str()).collect();
            query.push_str("&type=");
            query.push_str(&types.join(","));
        }
        query
    }

    /// Whether it holds no instant at all.
    pub fn is_empty(&self) -> bool {
        self.to_ms <= self.from_ms
    }

    /// `from` and `to` are RFC 3339 instants (before 1970: 1970) or `YYYY-MM-DD` days (UTC);
    /// the range is `[from, to)` for instants and includes the whole `to` day for a day; `to`
    /// not after `from` is an empty range. `types` is a comma-separated list of event types
    /// (every type when absent).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        types: Option<&str>,
    ) -> Result<Range, Error> {
        let bad = |code, message: &str| Error::bad_request(code, message);
        let from = from.ok_or_else(|| bad("invalid_range", "from is required"))?;
        let to = to.ok_or_else(|| bad("invalid_range", "to is required"))?;
        let from_ms = instant(from, false)
            .ok_or_else(|| bad("invalid_range", "from: an RFC 3339 time or YYYY-MM-DD"))?;
        let to_ms = instant(to, true)
            .ok_or_else(|| bad("invalid_range", "to: an RFC 3339 time or YYYY-MM-DD"))?;
        let to_ms = to_ms.max(from_ms);
        let mut parsed = Vec::new();
        for t in types.unwrap_or_default().split(',').map(str::trim) {
            if t.is_empty() {
                continue;
            }
            let kind = EventType::parse(t).ok_or_else(|| {
                bad(
                    "invalid_type",
                    "type: member.consent.granted, member.consent.withdrawn, member.created, \
                     member.linked, coupon.redeemed or member.erased",
                )
            })?;
            if !parsed.contains(&kind) {
                parsed.push(kind);
            }
        }
        Ok(Range {
            from_ms,
            to_ms,
            types: parsed,
        })
    }

    /// The months to read, in order.
    pub fn months(&self) -> Vec<String> {
        months_between(self.from_ms, self.to_ms)
    }
}

/// An instant from RFC 3339, or the start of a day (the end of it when `end_of_day`).
fn instant(text: &str, end_of_day: bool) -> Option<u64> {
    if let Some(ms) = parse_rfc3339_from_epoch(text) {
        return Some(ms);
    }
    let day = u64::try_from(parse_day(text)?).ok()?;
    Some((day + u64::from(end_of_day)) * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_name_the_objects_a_range_reads() {
        assert_eq!(month_of(0), "1970-01");
        let nov = parse_rfc3339("2026-11-30T23:59:59Z").unwrap();
        assert_eq!(month_of(nov), "2026-11");
        assert_eq!(month_of(nov + 1000), "2026-12");
        let from = parse_rfc3339("2026-10-31T12:00:00Z").unwrap();
        let to = parse_rfc3339("2027-01-01T00:00:01Z").unwrap();
        assert_eq!(
            months_between(from, to),
            ["2026-10", "2026-11", "2026-12", "2027-01"]
        );
        assert_eq!(months_between(nov, nov + 1), ["2026-11"]);
        assert!(months_between(nov, nov).is_empty());
        assert_eq!(
            month_start_ms("2026-11"),
            parse_rfc3339("2026-11-01T00:00:00Z")
        );
        assert_eq!(month_start_ms("1970-01"), Some(0));
        assert_eq!(month_start_ms("2026-13"), None);
    }

    #[test]
    fn a_range_takes_instants_or_whole_days_and_a_type_list() {
        let r = Range::parse(Some("2026-11-01"), Some("2026-11-30"), None).unwrap();
        assert_eq!(r.from_ms, parse_rfc3339("2026-11-01T00:00:00Z").unwrap());
        assert_eq!(r.to_ms, parse_rfc3339("2026-12-01T00:00:00Z").unwrap());
        assert_eq!(r.months(), ["2026-11"]);
        let r = Range::parse(
            Some("2026-11-23T09:00:00+09:00"),
            Some("2026-11-23T10:00:00+09:00"),
            Some("coupon.redeemed, member.created,coupon.redeemed"),
        )
        .unwrap();
        assert_eq!(r.to_ms - r.from_ms, 3_600_000);
        assert_eq!(
            r.types,
            [EventType::CouponRedeemed, EventType::MemberCreated]
        );
        for (from, to, types) in [
            (None, Some("2026-11-01"), None),
            (Some("2026-11-02"), None, None),
            (Some("yesterday"), Some("2026-11-01"), None),
            (Some("1969-12-31"), Some("2026-11-01"), None),
            (Some("2026-11-01"), Some("2026-11-02"), Some("coupon")),
        ] {
            let e = Range::parse(from, to, types).unwrap_err();
            assert_eq!(e.status(), 400, "{from:?} {to:?} {types:?}");
        }
        // `to` not after `from`: empty, not an error; an instant before 1970 is 1970.
        let r = Range::parse(Some("2026-11-02"), Some("2026-11-01"), None).unwrap();
        assert!(r.is_empty() && r.months().is_empty(), "{r:?}");
        let r = Range::parse(Some("1066-10-14T09:00:00Z"), Some("1970-01-02"), None).unwrap();
        assert_eq!((r.from_ms, r.to_ms), (0, 2 * DAY_MS));
    }

    #[test]
    fn a_long_range_is_served_a_span_at_a_time() {
        let r = Range::parse(Some("2020-01-01"), Some("2026-11-30"), None).unwrap();
        let (mut spans, mut rest) = (Vec::new(), Some(r.clone()));
        while let Some(range) = rest {
            let (span, more) = range.split_span();
            assert!(span.to_ms - span.from_ms <= SPAN_MAX_DAYS * DAY_MS);
            assert!(span.months().len() <= 13, "{:?}", span.months());
            spans.push(span);
            rest = more;
        }
        assert_eq!(spans.len(), 7);
        let (_, rest) = r.split_span();
        assert_eq!(
            rest.unwrap().query(),
            "from=2021-01-01T00:00:00Z&to=2026-12-01T00:00:00Z"
        );
        let typed = Range::parse(
            Some("2026-11-01"),
            Some("2026-11-02"),
            Some("coupon.redeemed"),
        );
        let typed = typed.unwrap();
        assert_eq!(
            Range::parse(
                Some("2026-11-01T00:00:00Z"),
                Some("2026-11-03T00:00:00Z"),
                Some("coupon.redeemed")
            )
            .unwrap(),
            typed,
            "{} reads back as itself",
            typed.query()
        );
        assert!(typed.query().ends_with("&type=coupon.redeemed"));
        assert_eq!(spans[0].from_ms, r.from_ms);
        assert_eq!(spans.last().unwrap().to_ms, r.to_ms);
        assert!(spans.windows(2).all(|w| w[0].to_ms == w[1].from_ms));
    }

    #[test]
    fn a_range_never_reaches_before_the_retention_cutoff() {
        let r = Range::parse(Some("2026-01-01"), Some("2026-03-01"), None).unwrap();
        let cutoff = r.from_ms + 10 * DAY_MS;
        let now = r.to_ms + 100 * DAY_MS;
        let kept = r.clone().retained(cutoff, now);
        assert_eq!((kept.from_ms, kept.to_ms), (cutoff, r.to_ms));
        let gone = r.clone().retained(r.to_ms + DAY_MS, now);
        assert_eq!(gone.from_ms, gone.to_ms, "wholly before the cut-off: empty");
        assert_eq!(
            r.clone().retained(0, now),
            r,
            "an older cut-off changes nothing"
        );
        let soon = r.clone().retained(0, r.from_ms);
        assert_eq!(soon.to_ms, r.from_ms + DAY_MS, "nothing a day past now");
    }
}
