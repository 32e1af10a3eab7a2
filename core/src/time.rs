//! Calendar arithmetic on Unix milliseconds (the core has no clock: `now` is passed in).

/// The UTC calendar day of a Unix time in milliseconds, as `YYYY-MM-DD`.
pub fn utc_day(unix_ms: u64) -> String {
    format_day((unix_ms / 86_400_000) as i64)
}

/// Parses a calendar day `YYYY-MM-DD` (a real date, 1970 or later) into days since 1970-01-01.
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if y < 1970 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// The calendar day `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub fn format_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses an RFC 3339 `date-time` (`2026-11-23T04:41:21Z`, `…T13:41:21.5+09:00`) into Unix
/// milliseconds; `None` for anything else or before 1970. Written here rather than taken from a
/// date crate: it is the only date parsing the Worker does, and the wasm's size is budgeted.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    u64::try_from(parse_rfc3339_signed(s)?).ok()
}

/// As [`parse_rfc3339`], with any time before 1970 read as 1970-01-01T00:00:00Z: for bounds
/// (a coupon's window, an export's range), where "since 1066" means "since the beginning".
pub fn parse_rfc3339_from_epoch(s: &str) -> Option<u64> {
    Some(u64::try_from(parse_rfc3339_signed(s)?).unwrap_or(0))
}

/// Unix milliseconds, negative before 1970.
fn parse_rfc3339_signed(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b[i] == b'.' {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        let first3: String = s[start..start + digits.min(3)].to_owned();
        millis = first3.parse::<i64>().ok()? * 10i64.pow(3 - digits.min(3) as u32);
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            if *sign == b'+' {
                total
            } else {
                -total
            }
        }
        _ => return None,
    };
    // A leap second (60) exists only in the last minute of a UTC day (RFC 3339 5.7, and JSON
    // Schema's `date-time` in openapi.yaml); it counts as the last second of its minute.
    if second == 60 && (hour * 60 + minute - offset_min).rem_euclid(1440) != 1439 {
        return None;
    }
    let secs =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
            - offset_min * 60;
    secs.checked_mul(1000)?.checked_add(millis)
}

/// Unix milliseconds as RFC 3339 in UTC: `2026-11-23T04:41:21Z` (`.mmm` when not whole).
/// Written digit by digit: a till scan formats dozens of these, and `format!` would be most of it.
pub fn format_rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    // Never negative: `ms` counts from 1970.
    let year = u64::try_from(y).unwrap_or_default();
    let mut out = String::with_capacity(24);
    push_digits(&mut out, year, 4, '-');
    push_digits(&mut out, u64::from(m), 2, '-');
    push_digits(&mut out, u64::from(d), 2, 'T');
    push_digits(&mut out, rem / 3600, 2, ':');
    push_digits(&mut out, rem % 3600 / 60, 2, ':');
    match ms % 1000 {
        0 => push_digits(&mut out, rem % 60, 2, 'Z'),
        frac => {
            push_digits(&mut out, rem % 60, 2, '.');
            push_digits(&mut out, frac, 3, 'Z');
        }
    }
    out
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Unix milliseconds as an HTTP date (RFC 9110 IMF-fixdate): `Thu, 03 Dec 2026 15:04:05 GMT`.
pub fn format_http_date(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An IMF-fixdate as Unix milliseconds (the only form RFC 9110 lets a sender use).
pub fn parse_http_date(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, mi, sec] = hms.as_slice() else {
        return None;
    };
    if !(1..=days_in_month(year, month)).contains(&day) || *h > 23 || *mi > 59 || *sec > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + mi * 60 + sec.min(&59);
    u64::try_from(secs).ok().map(|s| s * 1000)
}

/// `n` zero-padded to `width` digits (wider numbers whole, as `{:0width$}`), then `then`.
fn push_digits(out: &mut String, n: u64, width: u32, then: char) {
    if n >= 10u64.pow(width) {
        out.push_str(&n.to_string());
    } else {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u64.pow(place) % 10) as u8));
        }
    }
    out.push(then);
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`: (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_only_when_real_and_round_trip() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(
            parse_day("2000-02-29").map(format_day).as_deref(),
            Some("2000-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "1969-12-31",
            "2026-1-01",
            "2026-01-0a",
            "+026-01-01",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(1_795_367_804_987), "2026-11-22");
        assert_eq!(utc_day(4_102_444_799_999), "2099-12-31");
    }

    #[test]
    fn rfc_3339_instants_parse_with_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2000-02-29T12:00:00+09:00"),
            Some(951_793_200_000)
        );
        assert_eq!(parse_rfc3339("2000-02-29t03:00:00z"), Some(951_793_200_000));
        assert_eq!(
            parse_rfc3339("2000-02-28T22:30:00-04:30"),
            Some(951_793_200_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T17:16:44.987Z"),
            Some(1_795_367_804_987)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T17:16:44.9876543Z"),
            Some(1_795_367_804_987)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T17:16:44.5Z"),
            Some(1_795_367_804_500)
        );
    }

    #[test]
    fn rfc_3339_formatting_matches_format_macro() {
        let reference = |ms: u64| {
            let secs = ms / 1000;
            let (y, m, d) = civil_from_days((secs / 86_400) as i64);
            let rem = secs % 86_400;
            let base = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                rem / 3600,
                rem % 3600 / 60,
                rem % 60
            );
            match ms % 1000 {
                0 => format!("{base}Z"),
                frac => format!("{base}.{frac:03}Z"),
            }
        };
        let mut ms: u64 = 1;
        for i in 0..5_000u64 {
            ms = ms.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i) % 300_000_000_000_000;
            for v in [ms, ms - ms % 1000, ms % 4_102_444_800_000] {
                assert_eq!(format_rfc3339(v), reference(v), "{v}");
            }
        }
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(253_402_300_800_000), "10000-01-01T00:00:00Z");
    }

    #[test]
    fn rfc_3339_formats_round_trip() {
        for ms in [0, 951_793_200_000, 1_795_367_804_987, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Some(ms), "{ms}");
        }
        assert_eq!(format_rfc3339(1_795_367_804_000), "2026-11-22T17:16:44Z");
        assert_eq!(
            format_rfc3339(1_795_367_804_987),
            "2026-11-22T17:16:44.987Z"
        );
    }

    #[test]
    fn malformed_rfc_3339_is_refused() {
        for bad in [
            "",
            "2026-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T04:41:21",
            "2026-11-23 04:41:21Z",
            "2026-1-01T00:00:00Z",
            "2026-11-23T04:41:21Zjunk",
            "2026-11-23T04:41:21+0900",
            "2026-11-23T04:41:21.Z",
            "1969-12-31T23:59:59Z",
            "2026-11-23T04:41:21+24:00",
            "２026-11-23T04:41:21Z",
            "2026-11-23T04:41:60Z",
            "2016-12-31T23:59:60+01:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn leap_seconds_only_end_a_utc_day() {
        let last = parse_rfc3339("2016-12-31T23:59:59Z");
        assert!(last.is_some());
        assert_eq!(parse_rfc3339("2016-12-31T23:59:60Z"), last);
        assert_eq!(parse_rfc3339("2016-12-31T15:59:60-08:00"), last);
        assert_eq!(parse_rfc3339("2017-01-01T08:59:60+09:00"), last);
    }
}
