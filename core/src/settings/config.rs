//! Every setting in one table ([`SETTINGS`]: name, var or secret, the check a value must pass,
//! the default of an optional one), which drives both the typed [`Config`] and the report of
//! `GET /api/admin/config`. A missing or invalid setting is not fatal here: it becomes an
//! [`Error::Config`] only when a route asks for it, so everything else keeps working.

use crate::consent::{Controller, InForce};
use crate::error::Error;
use crate::lang::Lang;
use crate::settings::base_url;
use crate::settings::secrets::{Secret, SigningKeys, MIN_SIGNING_KEY_BYTES};
use crate::wallet::keys::{pkcs8_der, Cert, PassSigner, ServiceAccount};

/// Where a setting comes from: `[vars]` in `wrangler.toml`, or `wrangler secret put` (`.dev.vars`
/// locally).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Var,
    Secret,
}

/// One setting of [`SETTINGS`].
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    /// What a value must be; a value that fails is reported `invalid`, never used.
    pub check: fn(&str) -> Result<(), &'static str>,
    /// The value used while it is unset or invalid; `None`: the routes that need it answer 500
    /// `config` instead.
    pub default: Option<&'static str>,
}

const fn var(name: &'static str, check: fn(&str) -> Result<(), &'static str>) -> Spec {
    Spec {
        name,
        kind: Kind::Var,
        check,
        default: None,
    }
}

const fn optional(
    name: &'static str,
    check: fn(&str) -> Result<(), &'static str>,
    default: &'static str,
) -> Spec {
    Spec {
        name,
        kind: Kind::Var,
        check,
        default: Some(default),
    }
}

const fn secret(name: &'static str, check: fn(&str) -> Result<(), &'static str>) -> Spec {
    Spec {
        name,
        kind: Kind::Secret,
        check,
        default: None,
    }
}

/// The default base URL of the LINE Messaging API.
pub const DEFAULT_LINE_API_BASE: &str = "https://api.line.me";
/// The default base URL of Meta's Graph API.
pub const DEFAULT_GRAPH_API_BASE: &str = "https://graph.facebook.com";
/// The feed's waits before retries 1, 2, 3…: more than 24 hours in all
/// (`crate::feed::retry::RETRY_DELAYS_SECS`; a test keeps the two equal).
const DEFAULT_FEED_RETRY_DELAYS: &str =
    "10,30,60,300,900,1800,3600,7200,14400,21600,21600,21600,21600";

/// Every setting, in the order the configuration report lists them.
pub const SETTINGS: [Spec; 37] = [
    var("PUBLIC_BASE_URL", base_url::check),
    var("LINE_BOT_BASIC_ID", check_line_basic_id),
    var("WHATSAPP_NUMBER", check_digits),
    var("WHATSAPP_PHONE_NUMBER_ID", check_digits),
    var("MESSENGER_PAGE", check_handle),
    var("INSTAGRAM_USERNAME", check_handle),
    optional("LINE_API_BASE", base_url::check, DEFAULT_LINE_API_BASE),
    optional("GRAPH_API_BASE", base_url::check, DEFAULT_GRAPH_API_BASE),
    secret("LINE_CHANNEL_SECRET", check_secret_list),
    secret("LINE_CHANNEL_ACCESS_TOKEN", check_any),
    secret("META_APP_SECRET", check_secret_list),
    secret("META_VERIFY_TOKEN", check_any),
    secret("META_ACCESS_TOKEN", check_any),
    secret("SIGNING_KEYS", check_signing_keys),
    secret("ADMIN_TOKEN", check_any),
    secret("PSEUDONYM_KEY", check_pseudonym_key),
    optional("DEFAULT_LANG", check_lang, "en"),
    optional("LOG_REQUESTS", check_log_requests, "errors"),
    optional(
        "FEED_RETRY_DELAYS",
        check_retry_delays,
        DEFAULT_FEED_RETRY_DELAYS,
    ),
    optional("FEED_TIMEOUT_SECS", check_timeout_secs, "10"),
    var("CONTROLLER_NAME", check_text),
    var("CONTROLLER_ADDRESS", check_text),
    var("CONTROLLER_EMAIL", check_email),
    var("CONTROLLER_PHONE", check_text),
    var("JURISDICTION", check_country),
    optional("RETENTION_DAYS", check_retention_days, "1826"),
    optional("OFFLINE_MAX_HOURS", check_offline_max_hours, "72"),
    var("APPLE_PASS_TYPE_ID", check_pass_type_id),
    var("APPLE_TEAM_ID", check_team_id),
    secret("APPLE_PASS_CERT", check_cert),
    secret("APPLE_PASS_KEY", check_private_key),
    var("APPLE_WWDR_CERT", check_cert),
    optional("APNS_BASE", base_url::check, DEFAULT_APNS_BASE),
    var("GOOGLE_WALLET_ISSUER_ID", check_digits),
    secret("GOOGLE_WALLET_SERVICE_ACCOUNT", check_service_account),
    optional(
        "GOOGLE_WALLET_API_BASE",
        base_url::check,
        DEFAULT_GOOGLE_WALLET_API_BASE,
    ),
    optional(
        "GOOGLE_OAUTH_TOKEN_URL",
        base_url::check,
        DEFAULT_GOOGLE_OAUTH_TOKEN_URL,
    ),
];

/// Apple's push service (pass updates).
pub const DEFAULT_APNS_BASE: &str = "https://api.push.apple.com";
/// Google Wallet's REST API.
pub const DEFAULT_GOOGLE_WALLET_API_BASE: &str = "https://walletobjects.googleapis.com";
/// Google's OAuth token endpoint (the service account's JWT-bearer grant).
pub const DEFAULT_GOOGLE_OAUTH_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// Apple Wallet's settings, together (the card offers the pass only when all are usable).
#[derive(Debug, Clone)]
pub struct AppleWallet {
    pub pass_type_id: String,
    pub team_id: String,
    pub signer: PassSigner,
    pub apns_base: String,
}

/// Google Wallet's settings, together.
#[derive(Debug, Clone)]
pub struct GoogleWallet {
    pub issuer_id: String,
    pub account: ServiceAccount,
    pub api_base: String,
    pub token_url: String,
}

/// The entry of `name` in [`SETTINGS`].
///
/// # Panics
/// On a name the table lacks: a programming error every test that reads a `Config` catches.
pub fn spec(name: &str) -> &'static Spec {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is not in config::SETTINGS"))
}

/// How long consent evidence is kept after the subject's consent ended, by default: five years
/// (1,826 days), the longest limitation period a claim about our messages may be brought in
/// among the markets we serve — France's civil limitation (Code civil art. 2224, 5 years), the
/// US TCPA's (28 U.S.C. § 1658(a), 4 years), Japan's tort claims (Civil Code art. 724, 3 years,
/// beyond the Specified E-mail Act's 1 month after the last message). A retailer in one market
/// may shorten it (`RETENTION_DAYS`).
pub const DEFAULT_RETENTION_DAYS: u32 = 1826;

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

    /// The value turned into another type; a missing or invalid setting stays so.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Setting<U> {
        match self {
            Setting::Set(value) => Setting::Set(f(value)),
            Setting::Missing => Setting::Missing,
            Setting::Invalid(problem) => Setting::Invalid(problem),
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

impl Spec {
    /// This setting as read through `lookup`: empty counts as missing, then the check decides.
    pub fn read(&self, lookup: &impl Fn(&str) -> Option<String>) -> Setting<String> {
        match lookup(self.name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        {
            None => Setting::Missing,
            Some(v) => match (self.check)(&v) {
                Ok(()) => Setting::Set(v),
                Err(problem) => Setting::Invalid(problem),
            },
        }
    }

    /// The value, or the default while it is unset or invalid (`None` for a required one).
    fn value_or_default(&self, lookup: &impl Fn(&str) -> Option<String>) -> Option<String> {
        match self.read(lookup) {
            Setting::Set(v) => Some(v),
            _ => self.default.map(str::to_owned),
        }
    }

    /// `set`, `missing`, `invalid`, or `default` for an optional one left unset: what the
    /// configuration report shows. Never a value.
    pub fn status(&self, lookup: &impl Fn(&str) -> Option<String>) -> &'static str {
        match (self.read(lookup), self.default) {
            (Setting::Missing, Some(_)) => "default",
            (setting, _) => setting.status(),
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

/// Every setting of [`SETTINGS`], typed.
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
    /// comma-separated list, each at most 12 hours; default `crate::feed::retry::RETRY_DELAYS_SECS`). Tests and a
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
    /// `OFFLINE_MAX_HOURS` (1 to 720; default
    /// [`crate::till::offline::DEFAULT_OFFLINE_MAX_HOURS`]): how old a redemption a till
    /// queued while offline may be when it arrives.
    pub offline_max_hours: u32,
    /// Apple Wallet: the pass type, the team, the certificate, its key, the WWDR intermediate.
    pub apple_pass_type_id: Setting<String>,
    pub apple_team_id: Setting<String>,
    pub apple_pass_cert: Setting<String>,
    pub apple_pass_key: Setting<Secret>,
    pub apple_wwdr_cert: Setting<String>,
    pub apns_base: String,
    /// Google Wallet: the issuer and the service account's JSON key.
    pub google_wallet_issuer_id: Setting<String>,
    pub google_wallet_service_account: Setting<Secret>,
    pub google_wallet_api_base: String,
    pub google_oauth_token_url: String,
}

impl Config {
    /// Reads every setting through `lookup` (the edge passes the Worker's env). Never fails:
    /// problems surface per setting, on the routes that need it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| spec(name).read(&lookup);
        // An optional setting: its value, else its default (which passes its own check).
        let value = |name: &str| {
            spec(name)
                .value_or_default(&lookup)
                .expect("an optional setting has a default")
        };
        let secrets = |raw: String| -> Vec<Secret> {
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Secret::new)
                .collect()
        };
        let base = |raw: String| raw.trim_end_matches('/').to_owned();
        Config {
            public_base_url: read("PUBLIC_BASE_URL").map(base),
            line_bot_basic_id: read("LINE_BOT_BASIC_ID"),
            whatsapp_number: read("WHATSAPP_NUMBER"),
            whatsapp_phone_number_id: read("WHATSAPP_PHONE_NUMBER_ID"),
            messenger_page: read("MESSENGER_PAGE"),
            instagram_username: read("INSTAGRAM_USERNAME"),
            line_api_base: base(value("LINE_API_BASE")),
            graph_api_base: base(value("GRAPH_API_BASE")),
            line_channel_secrets: read("LINE_CHANNEL_SECRET").map(secrets),
            line_channel_access_token: read("LINE_CHANNEL_ACCESS_TOKEN").map(Secret::new),
            meta_app_secrets: read("META_APP_SECRET").map(secrets),
            meta_verify_token: read("META_VERIFY_TOKEN").map(Secret::new),
            meta_access_token: read("META_ACCESS_TOKEN").map(Secret::new),
            // `check_signing_keys` parsed them already: a value that is `Set` parses.
            signing_keys: read("SIGNING_KEYS")
                .map(|raw| SigningKeys::parse(&raw).expect("checked by check_signing_keys")),
            admin_token: read("ADMIN_TOKEN").map(Secret::new),
            pseudonym_key: read("PSEUDONYM_KEY").map(Secret::new),
            default_lang: Lang::parse(&value("DEFAULT_LANG")).unwrap_or(Lang::En),
            log_requests: if value("LOG_REQUESTS") == "all" {
                RequestLogging::All
            } else {
                RequestLogging::Errors
            },
            feed_retry_delays: parse_retry_delays(&value("FEED_RETRY_DELAYS")).unwrap_or_default(),
            feed_timeout_ms: value("FEED_TIMEOUT_SECS").parse::<u64>().unwrap_or(10) * 1000,
            controller_name: read("CONTROLLER_NAME"),
            controller_address: read("CONTROLLER_ADDRESS"),
            controller_email: read("CONTROLLER_EMAIL"),
            controller_phone: read("CONTROLLER_PHONE"),
            jurisdiction: read("JURISDICTION").map(|v| v.to_ascii_uppercase()),
            retention_days: value("RETENTION_DAYS")
                .parse()
                .unwrap_or(DEFAULT_RETENTION_DAYS),
            offline_max_hours: value("OFFLINE_MAX_HOURS")
                .parse()
                .unwrap_or(crate::till::offline::DEFAULT_OFFLINE_MAX_HOURS),
            apple_pass_type_id: read("APPLE_PASS_TYPE_ID"),
            apple_team_id: read("APPLE_TEAM_ID"),
            apple_pass_cert: read("APPLE_PASS_CERT"),
            apple_pass_key: read("APPLE_PASS_KEY").map(Secret::new),
            apple_wwdr_cert: read("APPLE_WWDR_CERT"),
            apns_base: base(value("APNS_BASE")),
            google_wallet_issuer_id: read("GOOGLE_WALLET_ISSUER_ID"),
            google_wallet_service_account: read("GOOGLE_WALLET_SERVICE_ACCOUNT").map(Secret::new),
            google_wallet_api_base: base(value("GOOGLE_WALLET_API_BASE")),
            google_oauth_token_url: value("GOOGLE_OAUTH_TOKEN_URL"),
        }
    }

    /// Apple Wallet, when every one of its settings is usable.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first that is missing or invalid.
    pub fn apple_wallet(&self) -> Result<AppleWallet, Error> {
        let pass_type_id = self
            .apple_pass_type_id
            .require("APPLE_PASS_TYPE_ID")?
            .clone();
        let team_id = self.apple_team_id.require("APPLE_TEAM_ID")?.clone();
        let cert = self.apple_pass_cert.require("APPLE_PASS_CERT")?;
        let key = self.apple_pass_key.require("APPLE_PASS_KEY")?;
        let wwdr = self.apple_wwdr_cert.require("APPLE_WWDR_CERT")?;
        let signer =
            PassSigner::new(cert, key.expose(), wwdr).map_err(|problem| Error::Config {
                setting: "APPLE_PASS_CERT",
                problem,
            })?;
        Ok(AppleWallet {
            pass_type_id,
            team_id,
            signer,
            apns_base: self.apns_base.clone(),
        })
    }

    /// Google Wallet, when its issuer and service account are usable.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first that is missing or invalid.
    pub fn google_wallet(&self) -> Result<GoogleWallet, Error> {
        let issuer_id = self
            .google_wallet_issuer_id
            .require("GOOGLE_WALLET_ISSUER_ID")?
            .clone();
        let raw = self
            .google_wallet_service_account
            .require("GOOGLE_WALLET_SERVICE_ACCOUNT")?;
        let account = ServiceAccount::parse(raw.expose()).map_err(|problem| Error::Config {
            setting: "GOOGLE_WALLET_SERVICE_ACCOUNT",
            problem,
        })?;
        Ok(GoogleWallet {
            issuer_id,
            account,
            api_base: self.google_wallet_api_base.clone(),
            token_url: self.google_oauth_token_url.clone(),
        })
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

    /// Every setting's status, in [`SETTINGS`] order: what `GET /api/admin/config` reports.
    pub fn report(lookup: impl Fn(&str) -> Option<String>) -> Vec<(&'static str, &'static str)> {
        SETTINGS
            .iter()
            .map(|spec| (spec.name, spec.status(&lookup)))
            .collect()
    }
}

/// `pass.` and a reverse-DNS name, as Apple issues them.
fn check_pass_type_id(v: &str) -> Result<(), &'static str> {
    let ok = v.starts_with("pass.")
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    ok.then_some(())
        .ok_or("not a Pass Type ID (pass.com.example.members)")
}

/// Ten capitals and digits.
fn check_team_id(v: &str) -> Result<(), &'static str> {
    (v.len() == 10
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    .then_some(())
    .ok_or("not a 10-character Team ID")
}

fn check_cert(v: &str) -> Result<(), &'static str> {
    let cert = Cert::from_pem(v)?;
    cert.key_kind().map(|_| ())
}

fn check_private_key(v: &str) -> Result<(), &'static str> {
    pkcs8_der(v).map(|_| ())
}

fn check_service_account(v: &str) -> Result<(), &'static str> {
    ServiceAccount::parse(v).map(|_| ())
}

fn check_any(_: &str) -> Result<(), &'static str> {
    Ok(())
}

/// A comma-separated list of secrets (the first is current; the others are accepted during a
/// rotation).
fn check_secret_list(v: &str) -> Result<(), &'static str> {
    if v.split(',').any(|s| !s.trim().is_empty()) {
        Ok(())
    } else {
        Err("no secret in the list")
    }
}

fn check_signing_keys(v: &str) -> Result<(), &'static str> {
    SigningKeys::parse(v).map(|_| ())
}

/// The pseudonym key is never rotated (a new one would orphan every record): it must be strong.
fn check_pseudonym_key(v: &str) -> Result<(), &'static str> {
    if v.len() >= MIN_SIGNING_KEY_BYTES {
        Ok(())
    } else {
        Err("shorter than 32 characters")
    }
}

fn check_lang(v: &str) -> Result<(), &'static str> {
    Lang::parse(v).map(|_| ()).ok_or("not ja, en or fr")
}

fn check_log_requests(v: &str) -> Result<(), &'static str> {
    match v {
        "all" | "errors" => Ok(()),
        _ => Err("not all or errors"),
    }
}

fn check_retry_delays(v: &str) -> Result<(), &'static str> {
    parse_retry_delays(v)
        .map(|_| ())
        .ok_or("not 1 to 30 waits of at most 43200 seconds")
}

fn check_timeout_secs(v: &str) -> Result<(), &'static str> {
    match v.parse::<u64>() {
        Ok(1..=60) => Ok(()),
        _ => Err("not 1 to 60 seconds"),
    }
}

/// A month at most: past that, a queued redemption is a matter for the store, not the till.
fn check_offline_max_hours(v: &str) -> Result<(), &'static str> {
    match v.parse::<u32>() {
        Ok(1..=720) => Ok(()),
        _ => Err("not 1 to 720 hours"),
    }
}

fn check_retention_days(v: &str) -> Result<(), &'static str> {
    match v.parse::<u32>() {
        Ok(1..=36_500) => Ok(()),
        _ => Err("not 1 to 36500 days"),
    }
}

/// 1 to 30 waits of 0 to 43,200 s (Cloudflare Queues delay a message by at most 12 hours).
fn parse_retry_delays(v: &str) -> Option<Vec<u32>> {
    let delays = v
        .split(',')
        .map(|d| d.trim().parse::<u32>().ok().filter(|d| *d <= 43_200))
        .collect::<Option<Vec<u32>>>()?;
    (1..=30).contains(&delays.len()).then_some(delays)
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
    use crate::feed::retry::RETRY_DELAYS_SECS;
    use crate::settings::secrets::MAX_KID_LEN;
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
        // The layout stores a key id's length in one byte, and a barcode must still fit QR
        // version 4-M: a longer key id is an invalid setting (500 `config`), not broken codes.
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
        // These settings carry bearer tokens (the API bases) or card links (the public base):
        // a typo must never send them in clear.
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
            let report = Config::report(lookup);
            let get = |n: &str| report.iter().find(|(k, _)| *k == n).unwrap().1;
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
        let report = Config::report(lookup);
        let get = |n: &str| report.iter().find(|(k, _)| *k == n).unwrap().1;
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
        let report = Config::report(|n| (n == "FEED_RETRY_DELAYS").then(|| "x".to_owned()));
        assert!(report.contains(&("FEED_RETRY_DELAYS", "invalid")));
        assert!(report.contains(&("FEED_TIMEOUT_SECS", "default")));
    }

    #[test]
    fn every_setting_is_named_once_and_every_default_passes_its_own_check() {
        let mut names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len(), "a name appears twice");
        for spec in &SETTINGS {
            if let Some(default) = spec.default {
                assert_eq!((spec.check)(default), Ok(()), "{}", spec.name);
            }
        }
        assert_eq!(
            parse_retry_delays(DEFAULT_FEED_RETRY_DELAYS).unwrap(),
            RETRY_DELAYS_SECS
        );
        assert_eq!(
            spec("RETENTION_DAYS").default,
            Some(DEFAULT_RETENTION_DAYS.to_string().as_str())
        );
    }

    #[test]
    fn an_empty_environment_reports_required_settings_missing_and_optional_ones_default() {
        for (name, status) in Config::report(|_| None) {
            let expected = if spec(name).default.is_some() {
                "default"
            } else {
                "missing"
            };
            assert_eq!(status, expected, "{name}");
        }
    }

    /// `[vars]` of `wrangler.toml` and `.dev.vars.example` name settings of the right kind, and
    /// the example names every secret (so `make dev` starts with all of them).
    #[test]
    fn wrangler_toml_holds_vars_and_the_dev_example_holds_every_secret() {
        let toml = include_str!("../../../wrangler.toml");
        let vars = toml
            .split("\n[vars]\n")
            .nth(1)
            .expect("wrangler.toml has [vars]")
            .split("\n[")
            .next()
            .unwrap_or_default();
        let names = |text: &'static str, sep: char| -> Vec<&'static str> {
            text.lines()
                .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
                .filter_map(|l| l.split(sep).next())
                .map(str::trim)
                .collect()
        };
        let vars = names(vars, '=');
        assert!(vars.len() >= 10, "{vars:?}");
        for name in vars {
            assert_eq!(spec(name).kind, Kind::Var, "{name} in [vars]");
        }
        let example = names(include_str!("../../../.dev.vars.example"), '=');
        for name in &example {
            assert_eq!(spec(name).kind, Kind::Secret, "{name} in .dev.vars.example");
        }
        for spec in SETTINGS.iter().filter(|s| s.kind == Kind::Secret) {
            assert!(
                example.contains(&spec.name),
                "{} missing from .dev.vars.example",
                spec.name
            );
        }
    }

    #[test]
    fn the_configuration_doc_describes_every_setting() {
        let doc = include_str!("../../../docs/configuration.md");
        for spec in &SETTINGS {
            assert!(doc.contains(&format!("`{}`", spec.name)), "{}", spec.name);
        }
    }
}
