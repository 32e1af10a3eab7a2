//! Typed settings built from a lookup function (the edge passes the Worker's env), with secrets
//! whose `Debug` prints `[redacted]`. A missing or invalid setting is not fatal here: it becomes an
//! [`Error::Config`] only when a route asks for it, so everything else keeps working.

use std::fmt;

use base64::Engine as _;
use subtle::ConstantTimeEq;

use crate::consent::{Controller, InForce};
use crate::error::Error;
use crate::feed::retry::RETRY_DELAYS_SECS;
use crate::lang::Lang;

/// The default base URL of the LINE Messaging API.
pub const DEFAULT_LINE_API_BASE: &str = "https://api.line.me";
/// The default base URL of Meta's Graph API.
pub const DEFAULT_GRAPH_API_BASE: &str = "https://graph.facebook.com";
/// The shortest signing key accepted, in bytes (HMAC-SHA256 wants at least its output size).
pub const MIN_SIGNING_KEY_BYTES: usize = 32;
/// The longest key id: it travels in every signed code, and a barcode with the longest key id and
/// coupon id must still fit a version-4 QR code at level M.
pub const MAX_KID_LEN: usize = 16;
/// How long consent evidence is kept after the subject's consent ended, by default: five years
/// (1,826 days), the longest limitation period a claim about our messages may be brought in
/// among the markets we serve — France's civil limitation (Code civil art. 2224, 5 years), the
/// US TCPA's (28 U.S.C. § 1658(a), 4 years), Japan's tort claims (Civil Code art. 724, 3 years,
/// beyond the Specified E-mail Act's 1 month after the last message). A retailer in one market
/// may shorten it (`RETENTION_DAYS`).
pub const DEFAULT_RETENTION_DAYS: u32 = 1826;

/// A secret string. Its `Debug` and `Display` never print the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (a signature, an `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with a candidate in constant time (after a length check, which only reveals the
    /// length).
    pub fn matches(&self, candidate: &[u8]) -> bool {
        let ours = self.0.as_bytes();
        ours.len() == candidate.len() && bool::from(ours.ct_eq(candidate))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One key of [`SigningKeys`]: an id that travels in every signed code, and the key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    kid: String,
    key: Vec<u8>,
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn bytes(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// The keys of `SIGNING_KEYS`: the first signs, all verify (rotation without downtime).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeys(Vec<SigningKey>);

impl SigningKeys {
    /// Parses comma-separated `kid:base64key` entries. Key ids are ASCII letters and digits and
    /// unique; keys decode (standard or URL-safe base64, padded or not) to at least 32 bytes.
    ///
    /// # Errors
    /// A sentence saying what is wrong, never quoting a key.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let mut keys: Vec<SigningKey> = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, b64) = entry
                .split_once(':')
                .ok_or("an entry is not of the form kid:base64key")?;
            if kid.is_empty() || !kid.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err("a key id is not letters and digits");
            }
            if kid.len() > MAX_KID_LEN {
                return Err("a key id is longer than 16 characters");
            }
            if keys.iter().any(|k| k.kid == kid) {
                return Err("a key id appears twice");
            }
            let key = decode_base64(b64.trim()).ok_or("a key is not valid base64")?;
            if key.len() < MIN_SIGNING_KEY_BYTES {
                return Err("a key is shorter than 32 bytes");
            }
            keys.push(SigningKey {
                kid: kid.to_owned(),
                key,
            });
        }
        if keys.is_empty() {
            return Err("missing");
        }
        Ok(SigningKeys(keys))
    }

    /// The key that signs new codes.
    pub fn current(&self) -> &SigningKey {
        &self.0[0]
    }

    /// The key with this id, if it is still accepted.
    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.0.iter().find(|k| k.kid == kid)
    }

    pub fn all(&self) -> &[SigningKey] {
        &self.0
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// A setting as read: its value, or why it cannot be used. Turned into an [`Error::Config`] only
/// when a route asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting<T> {
    Set(T),
    Missing,
    Invalid(&'static str),
}

impl<T> Setting<T> {
    /// The value, or the 500 `config` error that names this setting.
    ///
    /// # Errors
    /// [`Error::Config`] when the setting is missing or invalid.
    pub fn require(&self, name: &'static str) -> Result<&T, Error> {
        match self {
            Setting::Set(value) => Ok(value),
            Setting::Missing => Err(Error::Config {
                setting: name,
                problem: "missing",
            }),
            Setting::Invalid(problem) => Err(Error::Config {
                setting: name,
                problem,
            }),
        }
    }

    pub fn get(&self) -> Option<&T> {
        match self {
            Setting::Set(value) => Some(value),
            _ => None,
        }
    }

    /// `set`, `missing` or `invalid`: what the admin configuration report shows.
    pub fn status(&self) -> &'static str {
        match self {
            Setting::Set(_) => "set",
            Setting::Missing => "missing",
            Setting::Invalid(_) => "invalid",
        }
    }
}

/// Which requests get an access-log line of our own (`LOG_REQUESTS`). Cloudflare's invocation
/// logs already record every request; a line of ours costs ~30 µs, so by default only answers
/// of 4xx/5xx get one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLogging {
    /// Only requests that ended in an error (the default).
    Errors,
    /// Every request (`LOG_REQUESTS=all`), for debugging.
    All,
}

/// Every setting of `../shared/API.md`, typed, and the project's own (`LOG_REQUESTS`).
#[derive(Debug, Clone)]
pub struct Config {
    pub public_base_url: Setting<String>,
    pub line_bot_basic_id: Setting<String>,
    pub whatsapp_number: Setting<String>,
    pub whatsapp_phone_number_id: Setting<String>,
    pub messenger_page: Setting<String>,
    pub instagram_username: Setting<String>,
    pub line_api_base: String,
    pub graph_api_base: String,
    pub line_channel_secrets: Setting<Vec<Secret>>,
    pub line_channel_access_token: Setting<Secret>,
    pub meta_app_secrets: Setting<Vec<Secret>>,
    pub meta_verify_token: Setting<Secret>,
    pub meta_access_token: Setting<Secret>,
    pub signing_keys: Setting<SigningKeys>,
    pub admin_token: Setting<Secret>,
    /// Key of the keyed hashes that stand for people in KV key names. Unlike signing keys it is
    /// never rotated: a new one would orphan every existing record.
    pub pseudonym_key: Setting<Secret>,
    /// The language of replies when nothing says the shopper's (`DEFAULT_LANG`, default `en`).
    pub default_lang: Lang,
    pub log_requests: RequestLogging,
    /// Waits between a failed feed delivery's retries, seconds (`FEED_RETRY_DELAYS`: a
    /// comma-separated list, each at most 12 hours; default [`RETRY_DELAYS_SECS`]). Tests and a
    /// staging receiver shorten it.
    pub feed_retry_delays: Vec<u32>,
    /// How long a feed delivery waits for the receiver's answer (`FEED_TIMEOUT_SECS`, 1–60,
    /// default 10).
    pub feed_timeout_ms: u64,
    /// The controller's name, postal address, e-mail and phone (`CONTROLLER_*`).
    pub controller_name: Setting<String>,
    pub controller_address: Setting<String>,
    pub controller_email: Setting<String>,
    pub controller_phone: Setting<String>,
    /// `JURISDICTION`: ISO 3166-1 alpha-2, upper case.
    pub jurisdiction: Setting<String>,
    /// `RETENTION_DAYS` (1 to 36,500; default [`DEFAULT_RETENTION_DAYS`]).
    pub retention_days: u32,
}

/// The names of every setting, in the order of the contract, then ours: for the configuration
/// report.
pub const SETTING_NAMES: [&str; 26] = [
    "PUBLIC_BASE_URL",
    "LINE_BOT_BASIC_ID",
    "WHATSAPP_NUMBER",
    "WHATSAPP_PHONE_NUMBER_ID",
    "MESSENGER_PAGE",
    "INSTAGRAM_USERNAME",
    "LINE_API_BASE",
    "GRAPH_API_BASE",
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "META_ACCESS_TOKEN",
    "SIGNING_KEYS",
    "ADMIN_TOKEN",
    "PSEUDONYM_KEY",
    "DEFAULT_LANG",
    "LOG_REQUESTS",
    "FEED_RETRY_DELAYS",
    "FEED_TIMEOUT_SECS",
    "CONTROLLER_NAME",
    "CONTROLLER_ADDRESS",
    "CONTROLLER_EMAIL",
    "CONTROLLER_PHONE",
    "JURISDICTION",
    "RETENTION_DAYS",
];

impl Config {
    /// Reads every setting through `lookup` (the edge passes the Worker's env). Empty values count
    /// as missing. Never fails: problems surface per setting, on the routes that need it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| -> Option<String> {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let plain = |name: &str, check: fn(&str) -> Result<(), &'static str>| match read(name) {
            None => Setting::Missing,
            Some(v) => match check(&v) {
                Ok(()) => Setting::Set(v),
                Err(problem) => Setting::Invalid(problem),
            },
        };
        let secret = |name: &str| match read(name) {
            None => Setting::Missing,
            Some(v) => Setting::Set(Secret(v)),
        };
        let secret_list = |name: &str| match read(name) {
            None => Setting::Missing,
            Some(v) => {
                let list: Vec<Secret> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
                    .collect();
                if list.is_empty() {
                    Setting::Missing
                } else {
                    Setting::Set(list)
                }
            }
        };
        let base = |name: &str, default: &str| {
            read(name)
                .filter(|v| check_http_url(v).is_ok())
                .unwrap_or_else(|| default.to_owned())
                .trim_end_matches('/')
                .to_owned()
        };
        Config {
            public_base_url: match plain("PUBLIC_BASE_URL", check_http_url) {
                Setting::Set(v) => Setting::Set(v.trim_end_matches('/').to_owned()),
                other => other,
            },
            line_bot_basic_id: plain("LINE_BOT_BASIC_ID", check_line_basic_id),
            whatsapp_number: plain("WHATSAPP_NUMBER", check_digits),
            whatsapp_phone_number_id: plain("WHATSAPP_PHONE_NUMBER_ID", check_digits),
            messenger_page: plain("MESSENGER_PAGE", check_handle),
            instagram_username: plain("INSTAGRAM_USERNAME", check_handle),
            line_api_base: base("LINE_API_BASE", DEFAULT_LINE_API_BASE),
            graph_api_base: base("GRAPH_API_BASE", DEFAULT_GRAPH_API_BASE),
            line_channel_secrets: secret_list("LINE_CHANNEL_SECRET"),
            line_channel_access_token: secret("LINE_CHANNEL_ACCESS_TOKEN"),
            meta_app_secrets: secret_list("META_APP_SECRET"),
            meta_verify_token: secret("META_VERIFY_TOKEN"),
            meta_access_token: secret("META_ACCESS_TOKEN"),
            signing_keys: match read("SIGNING_KEYS") {
                None => Setting::Missing,
                Some(raw) => match SigningKeys::parse(&raw) {
                    Ok(keys) => Setting::Set(keys),
                    Err(problem) => Setting::Invalid(problem),
                },
            },
            admin_token: secret("ADMIN_TOKEN"),
            pseudonym_key: match read("PSEUDONYM_KEY") {
                None => Setting::Missing,
                Some(v) if v.len() < MIN_SIGNING_KEY_BYTES => {
                    Setting::Invalid("shorter than 32 characters")
                }
                Some(v) => Setting::Set(Secret(v)),
            },
            default_lang: read("DEFAULT_LANG")
                .and_then(|v| Lang::parse(&v))
                .unwrap_or(Lang::En),
            log_requests: match read("LOG_REQUESTS").as_deref() {
                Some("all") => RequestLogging::All,
                _ => RequestLogging::Errors,
            },
            feed_retry_delays: read("FEED_RETRY_DELAYS")
                .and_then(|v| parse_retry_delays(&v))
                .unwrap_or_else(|| RETRY_DELAYS_SECS.to_vec()),
            feed_timeout_ms: read("FEED_TIMEOUT_SECS")
                .and_then(|v| parse_timeout_secs(&v))
                .map_or(10_000, |s| s * 1000),
            controller_name: plain("CONTROLLER_NAME", check_text),
            controller_address: plain("CONTROLLER_ADDRESS", check_text),
            controller_email: plain("CONTROLLER_EMAIL", check_email),
            controller_phone: plain("CONTROLLER_PHONE", check_text),
            jurisdiction: match plain("JURISDICTION", check_country) {
                Setting::Set(v) => Setting::Set(v.to_ascii_uppercase()),
                other => other,
            },
            retention_days: read("RETENTION_DAYS")
                .and_then(|v| parse_retention_days(&v))
                .unwrap_or(DEFAULT_RETENTION_DAYS),
        }
    }

    /// The controller, when all four `CONTROLLER_*` settings are usable.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first that is missing or invalid.
    pub fn controller(&self) -> Result<Controller, Error> {
        Ok(Controller {
            name: self.controller_name.require("CONTROLLER_NAME")?.clone(),
            address: self
                .controller_address
                .require("CONTROLLER_ADDRESS")?
                .clone(),
            email: self.controller_email.require("CONTROLLER_EMAIL")?.clone(),
            phone: self.controller_phone.require("CONTROLLER_PHONE")?.clone(),
        })
    }

    /// `JURISDICTION`'s country, when set: the country of a store that has none of its own.
    pub fn jurisdiction_country(&self) -> Option<&str> {
        self.jurisdiction.get().map(String::as_str)
    }

    /// The controller and jurisdiction every new ledger event records (what is configured;
    /// a consent is recorded all the same when they are not).
    pub fn in_force(&self) -> InForce {
        InForce {
            controller: self.controller().ok(),
            jurisdiction: self.jurisdiction.get().cloned(),
        }
    }

    /// `set` / `missing` / `invalid` for every setting (`default` for the API bases left unset):
    /// what `GET /api/admin/config` reports. Never a value.
    pub fn report(&self, lookup: impl Fn(&str) -> Option<String>) -> Vec<(&'static str, String)> {
        let base_status = |name: &str| -> String {
            match lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
            {
                None => "default".into(),
                Some(v) if check_http_url(&v).is_ok() => "set".into(),
                Some(_) => "invalid".into(),
            }
        };
        let statuses = [
            self.public_base_url.status().to_owned(),
            self.line_bot_basic_id.status().to_owned(),
            self.whatsapp_number.status().to_owned(),
            self.whatsapp_phone_number_id.status().to_owned(),
            self.messenger_page.status().to_owned(),
            self.instagram_username.status().to_owned(),
            base_status("LINE_API_BASE"),
            base_status("GRAPH_API_BASE"),
            self.line_channel_secrets.status().to_owned(),
            self.line_channel_access_token.status().to_owned(),
            self.meta_app_secrets.status().to_owned(),
            self.meta_verify_token.status().to_owned(),
            self.meta_access_token.status().to_owned(),
            self.signing_keys.status().to_owned(),
            self.admin_token.status().to_owned(),
            self.pseudonym_key.status().to_owned(),
            match lookup("DEFAULT_LANG").as_deref().map(str::trim) {
                None | Some("") => "default".to_owned(),
                Some(v) if Lang::parse(v).is_some() => "set".to_owned(),
                Some(_) => "invalid".to_owned(),
            },
            match lookup("LOG_REQUESTS").as_deref().map(str::trim) {
                None | Some("") => "default".to_owned(),
                Some("all" | "errors") => "set".to_owned(),
                Some(_) => "invalid".to_owned(),
            },
            optional_status(lookup("FEED_RETRY_DELAYS"), |v| {
                parse_retry_delays(v).is_some()
            }),
            optional_status(lookup("FEED_TIMEOUT_SECS"), |v| {
                parse_timeout_secs(v).is_some()
            }),
            self.controller_name.status().to_owned(),
            self.controller_address.status().to_owned(),
            self.controller_email.status().to_owned(),
            self.controller_phone.status().to_owned(),
            self.jurisdiction.status().to_owned(),
            optional_status(lookup("RETENTION_DAYS"), |v| {
                parse_retention_days(v).is_some()
            }),
        ];
        SETTING_NAMES.into_iter().zip(statuses).collect()
    }
}

/// `default` / `set` / `invalid` of an optional setting.
fn optional_status(value: Option<String>, valid: impl Fn(&str) -> bool) -> String {
    match value.as_deref().map(str::trim) {
        None | Some("") => "default",
        Some(v) if valid(v) => "set",
        Some(_) => "invalid",
    }
    .to_owned()
}

/// 1 to 30 waits of 0 to 43,200 s (Cloudflare Queues delay a message by at most 12 hours).
fn parse_retry_delays(v: &str) -> Option<Vec<u32>> {
    let delays = v
        .split(',')
        .map(|d| d.trim().parse::<u32>().ok().filter(|d| *d <= 43_200))
        .collect::<Option<Vec<u32>>>()?;
    (1..=30).contains(&delays.len()).then_some(delays)
}

fn parse_retention_days(v: &str) -> Option<u32> {
    v.parse::<u32>().ok().filter(|d| (1..=36_500).contains(d))
}

/// Printable text of at most 300 characters (it is shown in receipts and pages).
fn check_text(v: &str) -> Result<(), &'static str> {
    if v.chars().count() <= 300 && !v.chars().any(char::is_control) {
        Ok(())
    } else {
        Err("not one line of at most 300 characters")
    }
}

fn check_email(v: &str) -> Result<(), &'static str> {
    check_text(v)?;
    match v.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !v.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err("not an e-mail address"),
    }
}

/// ISO 3166-1 alpha-2: two ASCII letters (checked for shape; the list of codes changes).
fn check_country(v: &str) -> Result<(), &'static str> {
    if v.len() == 2 && v.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err("not an ISO 3166-1 alpha-2 country code such as FR or JP")
    }
}

fn parse_timeout_secs(v: &str) -> Option<u64> {
    v.parse::<u64>().ok().filter(|s| (1..=60).contains(s))
}

/// An https base URL; plain http only for a loopback host (local runs and tests): these URLs
/// carry bearer tokens (the API bases) and card links (the public base).
fn check_http_url(v: &str) -> Result<(), &'static str> {
    let (https, rest) = match (v.strip_prefix("https://"), v.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Err("not an http(s) URL"),
    };
    if rest.is_empty() || rest.contains(['?', '#', ' ', '"', '<', '>', '@', '\\']) {
        return Err("not a plain base URL");
    }
    if !https && !is_loopback(rest.split('/').next().unwrap_or_default()) {
        return Err("plain http is only for a loopback host");
    }
    Ok(())
}

/// Whether `authority` (`host[:port]`) names this machine: `localhost`, `127.x.y.z` or `[::1]`.
pub(crate) fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => return v6.split(']').next() == Some("::1"),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_digits(v: &str) -> Result<(), &'static str> {
    if v.len() <= 20 && v.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("not digits only")
    }
}

fn check_line_basic_id(v: &str) -> Result<(), &'static str> {
    match v.strip_prefix('@') {
        Some(id)
            if !id.is_empty()
                && id.len() <= 30
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') =>
        {
            Ok(())
        }
        _ => Err("not a LINE basic id such as @123abcde"),
    }
}

fn check_handle(v: &str) -> Result<(), &'static str> {
    if v.len() <= 100
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
    {
        Ok(())
    } else {
        Err("not a page or account username")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY_32: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // "0123456789abcdef" x2

    fn config(pairs: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn secret_debug_and_display_are_redacted() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        let c = config(&[
            ("ADMIN_TOKEN", "hunter2-very-secret"),
            ("SIGNING_KEYS", &format!("k1:{KEY_32}")),
        ]);
        let dump = format!("{c:?}");
        assert!(!dump.contains("hunter2"), "{dump}");
        assert!(!dump.contains(KEY_32), "{dump}");
        assert!(!dump.contains("0123456789"), "{dump}");
    }

    #[test]
    fn secret_matches_only_the_exact_value() {
        let s = Secret::new("token-abc");
        assert!(s.matches(b"token-abc"));
        for wrong in [
            &b"token-abd"[..],
            b"token-ab",
            b"token-abcd",
            b"",
            b"TOKEN-ABC",
        ] {
            assert!(!s.matches(wrong));
        }
    }

    #[test]
    fn missing_and_empty_secrets_become_config_errors_naming_the_setting() {
        for c in [config(&[]), config(&[("ADMIN_TOKEN", "  ")])] {
            let err = c.admin_token.require("ADMIN_TOKEN").unwrap_err();
            assert_eq!(err.code(), "config");
            assert!(err.log_detail().unwrap().starts_with("ADMIN_TOKEN"));
        }
    }

    #[test]
    fn comma_separated_secrets_are_accepted_for_rotation() {
        let c = config(&[("LINE_CHANNEL_SECRET", "new-secret, old-secret,")]);
        let list = c.line_channel_secrets.get().unwrap();
        assert_eq!(
            list.iter().map(Secret::expose).collect::<Vec<_>>(),
            ["new-secret", "old-secret"]
        );
    }

    #[test]
    fn a_key_id_too_long_for_the_code_layout_is_a_config_error_not_broken_codes() {
        // Issue 13, finding 3: a 256-character key id was accepted, and every code it signed
        // failed to verify (the layout stores the length in one byte; a barcode must also fit
        // QR version 4-M). Now such a setting is invalid, so the routes answer 500 `config`.
        for len in [17, 255, 256, 300] {
            let raw = format!("{}:{KEY_32}", "k".repeat(len));
            assert_eq!(
                SigningKeys::parse(&raw).unwrap_err(),
                "a key id is longer than 16 characters",
                "{len}"
            );
            let c = config(&[("SIGNING_KEYS", raw.as_str())]);
            assert_eq!(c.signing_keys.status(), "invalid");
            let err = c.signing_keys.require("SIGNING_KEYS").unwrap_err();
            assert_eq!((err.status(), err.code()), (500, "config"));
        }
        let longest = format!("{}:{KEY_32}", "k".repeat(MAX_KID_LEN));
        assert!(SigningKeys::parse(&longest).is_ok());
    }

    #[test]
    fn signing_keys_first_signs_all_verify() {
        let keys = SigningKeys::parse(&format!("k2:{KEY_32},k1:{KEY_32}")).unwrap();
        assert_eq!(keys.current().kid(), "k2");
        assert!(keys.by_kid("k1").is_some());
        assert!(keys.by_kid("k3").is_none());
        assert_eq!(keys.current().bytes(), b"0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn bad_signing_keys_are_rejected_with_a_reason_that_quotes_no_key() {
        let cases = [
            ("k1", "an entry is not of the form kid:base64key"),
            ("k-1:MDEy", "a key id is not letters and digits"),
            ("k1:!!!!", "a key is not valid base64"),
            (
                "k1:MDEyMzQ1Njc4OWFiY2RlZg==",
                "a key is shorter than 32 bytes",
            ),
        ];
        for (raw, reason) in cases {
            assert_eq!(SigningKeys::parse(raw).unwrap_err(), reason, "{raw}");
        }
        assert_eq!(
            SigningKeys::parse(&format!("a:{KEY_32},a:{KEY_32}")).unwrap_err(),
            "a key id appears twice"
        );
        let c = config(&[("SIGNING_KEYS", "k1:short")]);
        assert_eq!(c.signing_keys.status(), "invalid");
    }

    #[test]
    fn api_bases_default_and_lose_their_trailing_slash() {
        let c = config(&[]);
        assert_eq!(c.line_api_base, DEFAULT_LINE_API_BASE);
        assert_eq!(c.graph_api_base, DEFAULT_GRAPH_API_BASE);
        let c = config(&[
            ("LINE_API_BASE", "http://127.0.0.1:9000/"),
            ("PUBLIC_BASE_URL", "https://shop.example/"),
        ]);
        assert_eq!(c.line_api_base, "http://127.0.0.1:9000");
        assert_eq!(c.public_base_url.get().unwrap(), "https://shop.example");
    }

    #[test]
    fn plain_http_settings_are_refused_unless_the_host_is_loopback() {
        // Issue 13, finding 6: `http://` was accepted for settings that carry bearer tokens
        // (the API bases) or card links (the public base): a typo would send them in clear.
        for bad in [
            "http://api.line.me",
            "http://shop.example",
            "http://127.0.0.1.evil.example",
            "http://localhost.evil.example",
            "http://user@127.0.0.1",
            "http://10.0.0.1:8787",
        ] {
            let c = config(&[
                ("PUBLIC_BASE_URL", bad),
                ("LINE_API_BASE", bad),
                ("GRAPH_API_BASE", bad),
            ]);
            assert_eq!(c.public_base_url.status(), "invalid", "{bad}");
            assert_eq!(
                c.line_api_base, DEFAULT_LINE_API_BASE,
                "{bad}: never sent in clear"
            );
            assert_eq!(c.graph_api_base, DEFAULT_GRAPH_API_BASE, "{bad}");
            let lookup = |n: &str| (n != "ADMIN_TOKEN").then(|| bad.to_owned());
            let report = c.report(lookup);
            let get = |n: &str| report.iter().find(|(k, _)| *k == n).unwrap().1.clone();
            assert_eq!(get("LINE_API_BASE"), "invalid", "{bad}");
            assert_eq!(get("PUBLIC_BASE_URL"), "invalid", "{bad}");
        }
        for good in [
            "https://shop.example",
            "http://127.0.0.1:8787",
            "http://localhost:8787/",
            "http://[::1]:9000",
            "http://127.1.2.3",
        ] {
            let c = config(&[("PUBLIC_BASE_URL", good), ("LINE_API_BASE", good)]);
            assert_eq!(c.public_base_url.status(), "set", "{good}");
            assert_eq!(c.line_api_base, good.trim_end_matches('/'), "{good}");
        }
    }

    #[test]
    fn channel_identifiers_are_validated() {
        let c = config(&[
            ("LINE_BOT_BASIC_ID", "123abcde"),
            ("WHATSAPP_NUMBER", "+81 90"),
            ("MESSENGER_PAGE", "my page"),
            ("PUBLIC_BASE_URL", "ftp://x"),
        ]);
        assert_eq!(c.line_bot_basic_id.status(), "invalid");
        assert_eq!(c.whatsapp_number.status(), "invalid");
        assert_eq!(c.messenger_page.status(), "invalid");
        assert_eq!(c.public_base_url.status(), "invalid");
        let c = config(&[
            ("LINE_BOT_BASIC_ID", "@123abcde"),
            ("WHATSAPP_NUMBER", "819012345678"),
        ]);
        assert_eq!(c.line_bot_basic_id.get().unwrap(), "@123abcde");
        assert_eq!(c.whatsapp_number.status(), "set");
    }

    #[test]
    fn report_lists_every_setting_without_values() {
        let pairs = [
            ("ADMIN_TOKEN", "tok-123"),
            ("LINE_API_BASE", DEFAULT_LINE_API_BASE),
            ("GRAPH_API_BASE", "graph.example"),
        ];
        let map: HashMap<&str, &str> = pairs.into_iter().collect();
        let lookup = |n: &str| map.get(n).map(|v| v.to_string());
        let report = Config::from_lookup(lookup).report(lookup);
        assert_eq!(report.len(), SETTING_NAMES.len());
        let get = |n: &str| report.iter().find(|(k, _)| *k == n).unwrap().1.clone();
        assert_eq!(get("ADMIN_TOKEN"), "set");
        assert_eq!(get("META_APP_SECRET"), "missing");
        assert_eq!(get("LINE_API_BASE"), "set");
        assert_eq!(get("GRAPH_API_BASE"), "invalid");
        assert_eq!(get("PUBLIC_BASE_URL"), "missing");
        assert!(!format!("{report:?}").contains("tok-123"));
        assert_eq!(get("LOG_REQUESTS"), "default");
    }

    #[test]
    fn controller_and_jurisdiction_are_read_and_checked() {
        let full = config(&[
            ("CONTROLLER_NAME", "Demo Retail K.K."),
            ("CONTROLLER_ADDRESS", "1-1 Dogenzaka, Shibuya, Tokyo"),
            ("CONTROLLER_EMAIL", "privacy@example.com"),
            ("CONTROLLER_PHONE", "+81 3 0000 0000"),
            ("JURISDICTION", "jp"),
        ]);
        let in_force = full.in_force();
        assert_eq!(in_force.jurisdiction.as_deref(), Some("JP"));
        assert_eq!(in_force.controller.unwrap().email, "privacy@example.com");
        assert_eq!(full.retention_days, DEFAULT_RETENTION_DAYS);
        let partial = config(&[("CONTROLLER_NAME", "Demo"), ("JURISDICTION", "Japan")]);
        let err = partial.controller().unwrap_err();
        assert!(err.log_detail().unwrap().starts_with("CONTROLLER_ADDRESS"));
        assert_eq!(partial.in_force().controller, None);
        assert_eq!(partial.jurisdiction.status(), "invalid");
        let bad_mail = config(&[("CONTROLLER_EMAIL", "privacy at example.com")]);
        assert_eq!(bad_mail.controller_email.status(), "invalid");
        for (raw, days) in [
            ("30", 30),
            ("0", DEFAULT_RETENTION_DAYS),
            ("x", DEFAULT_RETENTION_DAYS),
        ] {
            assert_eq!(
                config(&[("RETENTION_DAYS", raw)]).retention_days,
                days,
                "{raw}"
            );
        }
    }

    #[test]
    fn only_errors_are_logged_unless_asked_for_all() {
        assert_eq!(config(&[]).log_requests, RequestLogging::Errors);
        assert_eq!(
            config(&[("LOG_REQUESTS", "all")]).log_requests,
            RequestLogging::All
        );
        assert_eq!(
            config(&[("LOG_REQUESTS", "everything")]).log_requests,
            RequestLogging::Errors
        );
    }

    #[test]
    fn the_feed_retry_schedule_and_timeout_default_and_can_be_shortened() {
        let read = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            Config::from_lookup(move |name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
        };
        let default = read(&[]);
        assert_eq!(default.feed_retry_delays, RETRY_DELAYS_SECS.to_vec());
        assert_eq!(default.feed_timeout_ms, 10_000);
        let short = read(&[
            ("FEED_RETRY_DELAYS", " 1, 2,3 "),
            ("FEED_TIMEOUT_SECS", "2"),
        ]);
        assert_eq!(short.feed_retry_delays, vec![1, 2, 3]);
        assert_eq!(short.feed_timeout_ms, 2_000);
        for bad in ["", "1,,2", "x", "43201", "-1"] {
            let c = read(&[("FEED_RETRY_DELAYS", bad), ("FEED_TIMEOUT_SECS", "61")]);
            assert_eq!(c.feed_retry_delays, RETRY_DELAYS_SECS.to_vec(), "{bad}");
            assert_eq!(c.feed_timeout_ms, 10_000);
        }
        let report = read(&[("FEED_RETRY_DELAYS", "x")])
            .report(|n| (n == "FEED_RETRY_DELAYS").then(|| "x".to_owned()));
        assert!(report.contains(&("FEED_RETRY_DELAYS", "invalid".to_owned())));
        assert!(report.contains(&("FEED_TIMEOUT_SECS", "default".to_owned())));
    }
}
