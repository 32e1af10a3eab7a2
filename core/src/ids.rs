//! Identifiers as parse-don't-validate newtypes: store and campaign ids, member numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A store id: 1–32 of `a-z`, `0-9`, `-`, starting with a letter or digit (it appears in URLs,
/// QR codes and join codes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StoreId(String);

impl StoreId {
    /// # Errors
    /// A sentence saying what a store id must be.
    pub fn parse(raw: &str) -> Result<StoreId, &'static str> {
        if is_slug(raw, 32) {
            Ok(StoreId(raw.to_owned()))
        } else {
            Err("a store id is 1 to 32 of a-z, 0-9 and '-', starting with a letter or digit")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A campaign id: 1–32 of `a-z`, `0-9`, `-` (printed on posters as `?c=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CampaignId(String);

impl CampaignId {
    /// # Errors
    /// A sentence saying what a campaign id must be.
    pub fn parse(raw: &str) -> Result<CampaignId, &'static str> {
        if is_slug(raw, 32) {
            Ok(CampaignId(raw.to_owned()))
        } else {
            Err("a campaign id is 1 to 32 of a-z, 0-9 and '-', starting with a letter or digit")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A coupon id: 1–16 of `a-z`, `0-9`, `-`, starting with a letter or digit. Short, because it
/// travels inside a coupon's barcode, which must fit a version-4 QR code at level M.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CouponId(String);

impl CouponId {
    /// # Errors
    /// A sentence saying what a coupon id must be.
    pub fn parse(raw: &str) -> Result<CouponId, &'static str> {
        if is_slug(raw, 16) {
            Ok(CouponId(raw.to_owned()))
        } else {
            Err("a coupon id is 1 to 16 of a-z, 0-9 and '-', starting with a letter or digit")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a till sends to name a register or a transaction: 1–64 of `A-Z`, `a-z`, `0-9`, `.`, `_`,
/// `:`, `-` (register software writes them in many shapes; these are safe in logs and CSV).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TillId(String);

impl TillId {
    /// # Errors
    /// A sentence saying what such an id must be.
    pub fn parse(raw: &str) -> Result<TillId, &'static str> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(TillId(raw.to_owned()))
        } else {
            Err("1 to 64 of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_slug(raw: &str, max: usize) -> bool {
    !raw.is_empty()
        && raw.len() <= max
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !raw.starts_with('-')
}

macro_rules! string_newtype_conversions {
    ($($t:ident),*) => {$(
        impl TryFrom<String> for $t {
            type Error = &'static str;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $t::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_newtype_conversions!(StoreId, CampaignId, CouponId, TillId);

/// A member number people can read out: 12 digits, the last a Luhn check digit (catches any one
/// wrong digit and most swapped pairs when a cashier types it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberNumber(u64);

impl MemberNumber {
    /// The largest body (11 digits) a member number carries before its check digit.
    pub const BODY_LIMIT: u64 = 100_000_000_000;

    /// The member number whose first 11 digits are `body % 10^11` (the check digit is added).
    pub fn from_body(body: u64) -> MemberNumber {
        let body = body % Self::BODY_LIMIT;
        MemberNumber(body * 10 + u64::from(luhn_check_digit(body)))
    }

    /// Parses 12 digits (spaces and hyphens between groups allowed) with a valid check digit.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub fn parse(raw: &str) -> Result<MemberNumber, &'static str> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("a member number is 12 digits");
        }
        let value: u64 = digits.parse().map_err(|_| "a member number is 12 digits")?;
        if luhn_check_digit(value / 10) != (value % 10) as u8 {
            return Err("the member number's check digit is wrong");
        }
        Ok(MemberNumber(value))
    }

    /// Parses the plain form only: exactly 12 digits with a valid check digit, as a member
    /// number is written in a URL (`openapi.yaml`: `^[0-9]{12}$`); the grouped form people
    /// type (`1234 5678 9012`) is [`MemberNumber::parse`]'s.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub fn parse_plain(raw: &str) -> Result<MemberNumber, &'static str> {
        if !MemberNumber::is_plain(raw) {
            return Err("a member number is 12 digits");
        }
        MemberNumber::parse(raw)
    }

    /// Whether `raw` has the plain form's shape, exactly 12 digits, whatever its check digit.
    pub fn is_plain(raw: &str) -> bool {
        raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit())
    }

    /// The number as a `u64` (for compact codes).
    pub fn value(self) -> u64 {
        self.0
    }

    /// Rebuilds from [`MemberNumber::value`], checking the digit.
    pub fn from_value(value: u64) -> Option<MemberNumber> {
        MemberNumber::parse(&format!("{value:012}")).ok()
    }

    /// `1234 5678 9012`: for people to read.
    pub fn grouped(self) -> String {
        let s = self.to_string();
        format!("{} {} {}", &s[0..4], &s[4..8], &s[8..12])
    }
}

impl fmt::Display for MemberNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012}", self.0)
    }
}

impl TryFrom<String> for MemberNumber {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        MemberNumber::parse(&s)
    }
}

impl From<MemberNumber> for String {
    fn from(v: MemberNumber) -> String {
        v.to_string()
    }
}

/// The Luhn check digit of `body` (the digit that makes `body * 10 + digit` valid).
fn luhn_check_digit(body: u64) -> u8 {
    let mut sum = 0u64;
    let mut n = body;
    let mut double = true;
    while n > 0 {
        let mut d = n % 10;
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        n /= 10;
    }
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_ids_are_url_safe_slugs() {
        for ok in ["a", "shibuya-01", "0", &"x".repeat(32)] {
            assert!(StoreId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "Shibuya",
            "a b",
            "a/b",
            "店",
            &"x".repeat(33),
            "<script>",
        ] {
            assert!(StoreId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coupon_ids_are_short_slugs() {
        for ok in ["a", "spring-10", &"x".repeat(16)] {
            assert!(CouponId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "A", "a_b", &"x".repeat(17)] {
            assert!(CouponId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn luhn_digit_matches_the_published_example() {
        // The Luhn algorithm's textbook example: 7992739871 has check digit 3.
        assert_eq!(luhn_check_digit(7_992_739_871), 3);
    }

    #[test]
    fn member_numbers_round_trip_and_catch_typos() {
        let n = MemberNumber::from_body(12_345_678_901);
        assert_eq!(n.to_string().len(), 12);
        assert_eq!(MemberNumber::parse(&n.to_string()), Ok(n));
        assert_eq!(MemberNumber::parse(&n.grouped()), Ok(n));
        assert_eq!(MemberNumber::from_value(n.value()), Some(n));
        let s = n.to_string();
        for i in 0..12 {
            let mut typo: Vec<u8> = s.bytes().collect();
            typo[i] = b'0' + (typo[i] - b'0' + 1) % 10;
            assert!(MemberNumber::parse(std::str::from_utf8(&typo).unwrap()).is_err());
        }
        assert!(MemberNumber::parse("12345").is_err());
    }

    #[test]
    fn till_ids_take_what_registers_print_and_nothing_hostile() {
        for ok in [
            "R1",
            "POS-03",
            "2026-11-23:000123",
            "a.b_c",
            &"x".repeat(64),
        ] {
            assert!(TillId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", " R1", "R 1", "R1,", "<b>", "é", &"x".repeat(65)] {
            assert!(TillId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_plain_form_is_exactly_12_digits() {
        let n = MemberNumber::from_body(12_345_678_901);
        assert_eq!(MemberNumber::parse_plain(&n.to_string()), Ok(n));
        for grouped in [n.grouped(), n.grouped().replace(' ', "-"), format!("-{n}")] {
            assert!(MemberNumber::parse(&grouped).is_ok(), "{grouped}");
            assert!(MemberNumber::parse_plain(&grouped).is_err(), "{grouped}");
        }
        let mut typo = n.to_string().into_bytes();
        typo[11] = b'0' + (typo[11] - b'0' + 1) % 10;
        assert!(MemberNumber::parse_plain(std::str::from_utf8(&typo).unwrap()).is_err());
    }

    #[test]
    fn small_bodies_are_zero_padded() {
        let n = MemberNumber::from_body(7);
        assert!(n.to_string().starts_with("0000000000"));
        assert_eq!(MemberNumber::parse(&n.to_string()), Ok(n));
    }
}
