//! The feed's log: every event as delivered, kept in one `FeedLog` Durable Object per calendar
//! month (UTC) of the event's time, so no object outgrows its storage and a time range reads
//! only the months it spans. Deliveries read their bodies from here, so an erasure that scrubs
//! the log also scrubs what is still waiting to be delivered. The export reads it in order.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::time::{format_day, parse_day, parse_rfc3339};

use super::events::{EventType, FeedEvent};

const DAY_MS: u64 = 24 * 3600 * 1000;
/// The longest range one export (or replay) covers.
pub const RANGE_MAX_DAYS: u64 = 366;
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
    /// The range as retention allows it: nothing before `cutoff_ms` (`RETENTION_DAYS` ago, the
    /// ledger's own cut-off) is exported or replayed; a range wholly before it is empty.
    pub fn retained(mut self, cutoff_ms: u64) -> Range {
        self.from_ms = self.from_ms.max(cutoff_ms);
        self.to_ms = self.to_ms.max(self.from_ms);
        self
    }

    /// `from` and `to` are RFC 3339 instants or `YYYY-MM-DD` days (UTC); the range is
    /// `[from, to)` for instants and includes the whole `to` day for a day. `types` is a
    /// comma-separated list of event types (every type when absent).
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
        if to_ms <= from_ms {
            return Err(bad("invalid_range", "to must be after from"));
        }
        if to_ms - from_ms > RANGE_MAX_DAYS * DAY_MS {
            return Err(bad("invalid_range", "at most 366 days at a time"));
        }
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
    if let Some(ms) = parse_rfc3339(text) {
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
            (Some("2026-11-02"), Some("2026-11-01"), None),
            (Some("2025-01-01"), Some("2026-11-01"), None),
            (Some("2026-11-01"), Some("2026-11-02"), Some("coupon")),
        ] {
            let e = Range::parse(from, to, types).unwrap_err();
            assert_eq!(e.status(), 400, "{from:?} {to:?} {types:?}");
        }
    }

    #[test]
    fn a_range_never_reaches_before_the_retention_cutoff() {
        let r = Range::parse(Some("2026-01-01"), Some("2026-03-01"), None).unwrap();
        let cutoff = r.from_ms + 10 * DAY_MS;
        let kept = r.clone().retained(cutoff);
        assert_eq!((kept.from_ms, kept.to_ms), (cutoff, r.to_ms));
        let gone = r.clone().retained(r.to_ms + DAY_MS);
        assert_eq!(gone.from_ms, gone.to_ms, "wholly before the cut-off: empty");
        assert_eq!(r.clone().retained(0), r, "an older cut-off changes nothing");
    }
}
