//! The feed's endpoints: where events are POSTed, the secrets that sign them, and how their
//! deliveries have gone. Kept by the `Feeds` Durable Object; the admin sees an
//! [`EndpointView`], which never holds a secret.
//!
//! Rotation keeps the previous secret signing beside the new one for
//! [`ROTATION_OVERLAP_MS`] (24 hours, as Svix, the Standard Webhooks authors' service, does), so
//! a receiver can switch at its own pace; a second rotation drops the oldest at once.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::settings::base_url::is_loopback;
use crate::time::format_rfc3339;

use super::circuit::Circuit;
use super::signature::FeedSecret;

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP_MS: u64 = 24 * 3600 * 1000;
/// The longest endpoint URL accepted.
pub const URL_MAX: usize = 2048;
/// The most endpoints one programme may have: each event is one delivery per endpoint.
pub const ENDPOINTS_MAX: usize = 20;

/// A receiver's URL: https, or plain http for a loopback host (local runs); no user info, no
/// fragment, no spaces. A query is allowed (some tools put a routing key there).
pub fn parse_url(raw: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::unprocessable("invalid_url", format!("url: {why}"));
    let (https, rest) = match (raw.strip_prefix("https://"), raw.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => return Err(bad("must start with https://")),
    };
    if raw.len() > URL_MAX {
        return Err(bad("longer than 2048 characters"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || raw.chars().any(|c| c.is_whitespace() || c.is_control())
        || raw.contains(['#', '"', '<', '>', '\\'])
    {
        return Err(bad("not a plain URL (no user info, fragment or spaces)"));
    }
    if !https && !is_loopback(authority) {
        return Err(bad("plain http is only for a loopback host"));
    }
    Ok(raw.to_owned())
}

/// A secret and how long it signs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecret {
    #[serde(serialize_with = "expose", deserialize_with = "parse_secret")]
    pub secret: FeedSecret,
    pub created_at_ms: u64,
    /// Set when a newer secret replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningSecret")
            .field("created_at_ms", &self.created_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

fn expose<S: Serializer>(secret: &FeedSecret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&secret.expose())
}

fn parse_secret<'de, D: Deserializer<'de>>(d: D) -> Result<FeedSecret, D::Error> {
    let text = String::deserialize(d)?;
    FeedSecret::parse(&text).ok_or_else(|| serde::de::Error::custom("not a whsec_ secret"))
}

/// An endpoint as the `Feeds` object keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub created_at_ms: u64,
    /// Newest first.
    pub secrets: Vec<SigningSecret>,
    /// Set when the receiver answered 410 Gone: nothing more is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at_ms: Option<u64>,
    /// What the last failure was: `HTTP 503`, `timeout`, `network error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
    #[serde(default)]
    pub delivered: u64,
    /// The run of failed attempts it is in, if any.
    #[serde(default)]
    pub circuit: Circuit,
}

impl Endpoint {
    /// A new endpoint signing with `secret`.
    pub fn new(id: String, url: String, secret: FeedSecret, now_ms: u64) -> Endpoint {
        Endpoint {
            id,
            url,
            created_at_ms: now_ms,
            secrets: vec![SigningSecret {
                secret,
                created_at_ms: now_ms,
                expires_at_ms: None,
            }],
            disabled_at_ms: None,
            last_success_at_ms: None,
            last_failure_at_ms: None,
            last_failure: None,
            delivered: 0,
            circuit: Circuit::default(),
        }
    }

    /// The secrets that sign a delivery at `now_ms`, newest first.
    pub fn signing(&self, now_ms: u64) -> Vec<FeedSecret> {
        self.secrets
            .iter()
            .filter(|s| s.expires_at_ms.is_none_or(|t| t > now_ms))
            .map(|s| s.secret.clone())
            .collect()
    }

    /// Signs with `secret` from now on; the current one keeps signing for the overlap; any
    /// older one stops at once.
    pub fn rotate(&mut self, secret: FeedSecret, now_ms: u64) {
        self.secrets
            .retain(|s| s.expires_at_ms.is_none_or(|t| t > now_ms));
        self.secrets.truncate(1);
        for s in &mut self.secrets {
            s.expires_at_ms = Some(now_ms + ROTATION_OVERLAP_MS);
        }
        self.secrets.insert(
            0,
            SigningSecret {
                secret,
                created_at_ms: now_ms,
                expires_at_ms: None,
            },
        );
    }

    /// When the secret a rotation replaced stops signing, while it still signs.
    pub fn previous_secret_expires_at(&self, now_ms: u64) -> Option<u64> {
        self.secrets
            .iter()
            .filter_map(|s| s.expires_at_ms)
            .find(|t| *t > now_ms)
    }

    /// Takes in how a delivery went, reported at `at_ms`. Only a delivery that was sent moves
    /// the circuit.
    pub fn record(&mut self, report: &Reported, at_ms: u64) {
        match &report.result {
            DeliveryResult::Delivered => {
                self.delivered += 1;
                self.last_success_at_ms = self.last_success_at_ms.max(Some(at_ms));
                if report.sent {
                    self.circuit.succeeded();
                }
            }
            DeliveryResult::Failed { reason } | DeliveryResult::Dead { reason } => {
                if report.sent {
                    self.circuit.failed(at_ms);
                }
                if self.last_failure_at_ms.is_none_or(|t| t <= at_ms) {
                    self.last_failure_at_ms = Some(at_ms);
                    self.last_failure = Some(reason.clone());
                }
            }
            DeliveryResult::Gone => {
                self.disabled_at_ms.get_or_insert(at_ms);
                self.last_failure_at_ms = Some(at_ms);
                self.last_failure = Some("HTTP 410: disabled".into());
                self.circuit.succeeded();
            }
        }
    }

    /// What the admin sees: no secret, only when the previous one stops signing.
    pub fn view(&self, backlog: u64, dead_letters: u64, now_ms: u64) -> EndpointView {
        let time = |t: Option<u64>| t.map(format_rfc3339);
        EndpointView {
            id: self.id.clone(),
            url: self.url.clone(),
            created_at: format_rfc3339(self.created_at_ms),
            status: if self.disabled_at_ms.is_some() {
                "disabled"
            } else {
                "active"
            }
            .to_owned(),
            disabled_at: time(self.disabled_at_ms),
            last_success_at: time(self.last_success_at_ms),
            last_failure_at: time(self.last_failure_at_ms),
            last_failure: self.last_failure.clone(),
            delivered: self.delivered,
            circuit: if self.circuit.is_open(now_ms) {
                "open"
            } else {
                "closed"
            }
            .to_owned(),
            failing_since: time(self.circuit.failing_since_ms),
            backlog,
            dead_letters,
            signing_secrets: self.signing(now_ms).len(),
            previous_secret_expires_at: time(self.previous_secret_expires_at(now_ms)),
        }
    }
}

/// How one delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DeliveryResult {
    /// A 2xx.
    Delivered,
    /// Anything else; it will be tried again.
    Failed { reason: String },
    /// The retries are spent: kept as a dead letter, replayable.
    Dead { reason: String },
    /// 410 Gone: the endpoint is disabled.
    Gone,
}

/// An endpoint as `GET /api/admin/feeds` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub created_at: String,
    /// `active` or `disabled` (after a 410).
    pub status: String,
    pub disabled_at: Option<String>,
    pub last_success_at: Option<String>,
    pub last_failure_at: Option<String>,
    pub last_failure: Option<String>,
    /// Deliveries that succeeded.
    pub delivered: u64,
    /// `open` while every attempt has failed for a minute (one probe per batch is sent),
    /// else `closed`.
    pub circuit: String,
    /// The first failed attempt since the last success, while failures go on.
    pub failing_since: Option<String>,
    /// Events waiting to be delivered (first attempts and retries).
    pub backlog: u64,
    /// Events whose retries are spent.
    pub dead_letters: u64,
    /// 2 during a rotation's overlap, else 1.
    pub signing_secrets: usize,
    pub previous_secret_expires_at: Option<String>,
}

/// A delivery whose retries are spent, kept until it is replayed or the endpoint deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub event_id: String,
    pub time_ms: u64,
    pub attempts: u32,
    pub reason: String,
    pub dead_at_ms: u64,
}

/// One delivery's result, as the consumer reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    pub event_id: String,
    pub time_ms: u64,
    pub attempts: u32,
    /// Whether it was sent (else the circuit held it back).
    #[serde(default = "yes")]
    pub sent: bool,
    #[serde(flatten)]
    pub result: DeliveryResult,
}

fn yes() -> bool {
    true
}

/// What the edge asks the `Feeds` object (one for the whole programme).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FeedsRequest {
    /// Adds an endpoint (refused past [`ENDPOINTS_MAX`]).
    Add { endpoint: Endpoint },
    /// Every endpoint as the admin sees it.
    List { now_ms: u64 },
    /// A new secret (`whsec_…`) for an endpoint.
    Rotate {
        id: String,
        secret: String,
        now_ms: u64,
    },
    /// Removes an endpoint, its backlog and its dead letters.
    Delete { id: String },
    /// The endpoints that receive deliveries, with their secrets (for the consumer only).
    Active,
    /// Counts deliveries into an endpoint's backlog.
    Pending {
        endpoint: String,
        events: Vec<(String, u64)>,
    },
    /// How deliveries went: out of the backlog when delivered, dead or gone; a dead one is kept.
    Report {
        endpoint: String,
        results: Vec<Reported>,
        at_ms: u64,
    },
    /// An endpoint's dead letters, oldest first.
    DeadLetters { id: String, limit: u32 },
    /// Takes up to `limit` dead letters out, to be delivered again.
    TakeDead { id: String, limit: u32 },
}

/// What the `Feeds` object answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum FeedsAnswer {
    Done,
    Unknown,
    TooMany,
    Views {
        endpoints: Vec<EndpointView>,
    },
    Rotated {
        previous_expires_at: Option<String>,
    },
    Endpoints {
        endpoints: Vec<Endpoint>,
    },
    DeadLetters {
        dead: Vec<DeadLetter>,
        remaining: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_795_000_000_000;

    fn secret(b: u8) -> FeedSecret {
        FeedSecret::from_random([b; 32])
    }

    #[test]
    fn urls_are_https_or_loopback_http_and_nothing_odd() {
        for ok in [
            "https://tool.example/hooks/optin",
            "https://tool.example/in?key=abc",
            "http://127.0.0.1:9911/feed",
            "http://localhost:8080",
            "http://[::1]:80/x",
        ] {
            assert_eq!(parse_url(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "ftp://tool.example",
            "http://tool.example/feed",
            "https://",
            "https://user:pw@tool.example/",
            "https://tool.example/#x",
            "https://tool.example/a b",
            "https://tool.example/\n",
            "javascript:alert(1)",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert_eq!(err.status(), 422, "{bad}");
        }
        assert!(parse_url(&format!("https://t.example/{}", "a".repeat(URL_MAX))).is_err());
    }

    #[test]
    fn a_rotation_signs_with_both_for_a_day_then_the_new_one_alone() {
        let mut e = Endpoint::new("fe_1".into(), "https://t.example".into(), secret(1), T);
        assert_eq!(e.signing(T), vec![secret(1)]);
        e.rotate(secret(2), T + 10);
        assert_eq!(e.signing(T + 10), vec![secret(2), secret(1)]);
        let end = T + 10 + ROTATION_OVERLAP_MS;
        assert_eq!(e.signing(end - 1).len(), 2);
        assert_eq!(e.signing(end), vec![secret(2)]);
        let view = e.view(0, 0, T + 10);
        assert_eq!(view.signing_secrets, 2);
        assert_eq!(
            view.previous_secret_expires_at,
            Some(format_rfc3339(end)),
            "the admin is told when the old one stops"
        );
        e.rotate(secret(3), T + 20);
        assert_eq!(
            e.signing(T + 20),
            vec![secret(3), secret(2)],
            "a second rotation drops the oldest at once"
        );
    }

    fn report(result: DeliveryResult, sent: bool) -> Reported {
        Reported {
            event_id: "evt_1".into(),
            time_ms: T,
            attempts: 0,
            sent,
            result,
        }
    }

    fn failed(reason: &str) -> DeliveryResult {
        DeliveryResult::Failed {
            reason: reason.into(),
        }
    }

    #[test]
    fn outcomes_update_the_status_and_a_410_disables() {
        let mut e = Endpoint::new("fe_1".into(), "https://t.example".into(), secret(1), T);
        e.record(&report(DeliveryResult::Delivered, true), T + 1);
        e.record(&report(failed("HTTP 503"), true), T + 3);
        e.record(&report(failed("timeout"), true), T + 2);
        let v = e.view(4, 1, T);
        assert_eq!(v.status, "active");
        assert_eq!(v.delivered, 1);
        assert_eq!(
            v.last_failure.as_deref(),
            Some("HTTP 503"),
            "the latest wins"
        );
        assert_eq!((v.backlog, v.dead_letters), (4, 1));
        e.record(&report(DeliveryResult::Gone, true), T + 5);
        assert_eq!(e.view(0, 0, T).status, "disabled");
        assert_eq!(e.disabled_at_ms, Some(T + 5));
    }

    #[test]
    fn the_circuit_opens_on_sent_failures_only_and_the_admin_sees_it() {
        let mut e = Endpoint::new("fe_1".into(), "https://t.example".into(), secret(1), T);
        for i in 0..20 {
            e.record(&report(failed("not sent: receiver down"), false), T + i);
        }
        assert_eq!(e.circuit, Circuit::default(), "held back is not an attempt");
        for i in 0..5 {
            e.record(&report(failed("HTTP 503"), true), T + i);
        }
        let v = e.view(0, 0, T + 60_000);
        assert_eq!(v.circuit, "open");
        assert_eq!(v.failing_since, Some(format_rfc3339(T)));
        e.record(&report(DeliveryResult::Delivered, true), T + 60_001);
        let v = e.view(0, 0, T + 60_002);
        assert_eq!((v.circuit.as_str(), v.failing_since), ("closed", None));
    }

    #[test]
    fn a_report_without_sent_was_sent() {
        let r: Reported = serde_json::from_str(
            r#"{"event_id":"e","time_ms":1,"attempts":0,"result":"delivered"}"#,
        )
        .unwrap();
        assert!(r.sent);
    }

    #[test]
    fn a_stored_endpoint_keeps_its_secrets_but_never_prints_or_lists_them() {
        let e = Endpoint::new("fe_1".into(), "https://t.example".into(), secret(7), T);
        let stored = serde_json::to_string(&e).unwrap();
        assert!(stored.contains(&secret(7).expose()));
        assert_eq!(serde_json::from_str::<Endpoint>(&stored).unwrap(), e);
        let shown = format!("{e:?}");
        assert!(!shown.contains(&secret(7).expose()), "{shown}");
        let listed = serde_json::to_string(&e.view(0, 0, T)).unwrap();
        assert!(!listed.contains("whsec_"), "{listed}");
    }
}
