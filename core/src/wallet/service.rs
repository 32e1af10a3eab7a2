//! Apple's PassKit web service (`{webServiceURL}/v1/…`), as Wallet calls it: which call a path
//! is, its `Authorization: ApplePass {token}`, the bodies it sends. Source: Apple's "Wallet
//! Passes Web Service" reference (read 2026-12-03): register 201 new / 200 known, unregister
//! 200, serial numbers 200 `{serialNumbers, lastUpdated}` (a string) or 204, the latest pass
//! 200 or 304 for `If-Modified-Since`, 401 for a wrong token; the log takes `{"logs": [...]}`.

use serde::Deserialize;

/// A web service call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `POST` / `DELETE /v1/devices/{device}/registrations/{passTypeId}/{serial}`
    Registration {
        register: bool,
        device: String,
        pass_type_id: String,
        serial: String,
    },
    /// `GET /v1/devices/{device}/registrations/{passTypeId}?passesUpdatedSince=`
    Serials {
        device: String,
        pass_type_id: String,
    },
    /// `GET /v1/passes/{passTypeId}/{serial}`
    Pass {
        pass_type_id: String,
        serial: String,
    },
    /// `POST /v1/log`
    Log,
}

/// The longest device library id, pass type id or serial accepted (Apple's are far shorter).
const MAX_SEGMENT: usize = 128;

fn segment(s: &str) -> Option<String> {
    (!s.is_empty()
        && s.len() <= MAX_SEGMENT
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
    .then(|| s.to_owned())
}

impl Call {
    /// The call `method` and `path` (below `/wallet`) make; `None`: no such call (404).
    pub fn parse(method: &str, path: &str) -> Option<Call> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, parts.as_slice()) {
            ("POST" | "DELETE", ["v1", "devices", device, "registrations", pass_type, serial]) => {
                Some(Call::Registration {
                    register: method == "POST",
                    device: segment(device)?,
                    pass_type_id: segment(pass_type)?,
                    serial: segment(serial)?,
                })
            }
            ("GET", ["v1", "devices", device, "registrations", pass_type]) => Some(Call::Serials {
                device: segment(device)?,
                pass_type_id: segment(pass_type)?,
            }),
            ("GET", ["v1", "passes", pass_type, serial]) => Some(Call::Pass {
                pass_type_id: segment(pass_type)?,
                serial: segment(serial)?,
            }),
            ("POST", ["v1", "log"]) => Some(Call::Log),
            _ => None,
        }
    }
}

/// The token of an `Authorization: ApplePass {token}` header.
pub fn apple_pass_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    (scheme == "ApplePass" && !token.trim().is_empty()).then(|| token.trim())
}

/// The register call's body.
#[derive(Debug, Deserialize)]
pub struct RegisterBody {
    #[serde(rename = "pushToken")]
    pub push_token: String,
}

impl RegisterBody {
    /// A push token is hex (64 characters today); anything else is refused.
    pub fn parse(body: &[u8]) -> Option<RegisterBody> {
        let body: RegisterBody = serde_json::from_slice(body).ok()?;
        let t = &body.push_token;
        (!t.is_empty() && t.len() <= 200 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(body)
    }
}

/// How many log lines one call may leave, and how long each may be.
pub const MAX_LOG_LINES: usize = 10;
pub const MAX_LOG_CHARS: usize = 300;

/// The log call's lines, bounded and stripped of control characters.
pub fn log_lines(body: &[u8]) -> Vec<String> {
    #[derive(Deserialize)]
    struct Logs {
        #[serde(default)]
        logs: Vec<serde_json::Value>,
    }
    let Ok(logs) = serde_json::from_slice::<Logs>(body) else {
        return Vec::new();
    };
    logs.logs
        .iter()
        .filter_map(serde_json::Value::as_str)
        .take(MAX_LOG_LINES)
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_control())
                .take(MAX_LOG_CHARS)
                .collect()
        })
        .collect()
}

/// `passesUpdatedSince`: the tag a device got last (our `lastUpdated`, milliseconds).
pub fn since_tag(query: Option<&str>) -> u64 {
    query.and_then(|q| q.trim().parse().ok()).unwrap_or(0)
}
