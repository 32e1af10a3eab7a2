//! Structured log lines: one JSON object per line, with a request id. They carry route names,
//! statuses, codes and causes, never a secret, a message body or a raw path.

use serde::Serialize;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// The access-log line written once per request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestLog<'a> {
    pub level: Level,
    pub msg: &'static str,
    pub request_id: &'a str,
    pub method: &'a str,
    /// The route's name (or `unmatched`), never the raw path.
    pub route: &'a str,
    pub status: u16,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'a str>,
    /// The cause of a server error or the missing setting's name; never a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl RequestLog<'_> {
    /// The line as JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"level":"error","msg":"log"}"#.into())
    }
}

/// A log line about background work (a reply send, a ledger write) tied to a request.
#[derive(Debug, Clone, Serialize)]
pub struct EventLog<'a> {
    pub level: Level,
    pub msg: &'a str,
    pub request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl EventLog<'_> {
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"level":"error","msg":"log"}"#.into())
    }
}

/// The request id: Cloudflare's `cf-ray` when it looks like one, else one made from `random()`
/// (called only then).
pub fn request_id(cf_ray: Option<&str>, random: impl FnOnce() -> u64) -> String {
    match cf_ray {
        Some(ray)
            if !ray.is_empty()
                && ray.len() <= 64
                && ray.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            ray.to_owned()
        }
        _ => format!("{:016x}", random()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_log_is_one_json_object_on_one_line() {
        let line = RequestLog {
            level: Level::Error,
            msg: "request",
            request_id: "abc",
            method: "GET",
            route: "admin_config",
            status: 500,
            duration_ms: 1.5,
            error_code: Some("config"),
            detail: Some("ADMIN_TOKEN: missing\nsecond line".into()),
        }
        .to_line();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["request_id"], "abc");
        assert_eq!(v["error_code"], "config");
    }

    #[test]
    fn absent_fields_are_left_out() {
        let line = RequestLog {
            level: Level::Info,
            msg: "request",
            request_id: "r",
            method: "GET",
            route: "healthz",
            status: 200,
            duration_ms: 0.0,
            error_code: None,
            detail: None,
        }
        .to_line();
        assert!(!line.contains("error_code") && !line.contains("detail"));
    }

    #[test]
    fn request_id_uses_cf_ray_only_when_it_is_plain() {
        assert_eq!(
            request_id(Some("8f1e2d3c4b5a6978-NRT"), || unreachable!(
                "a valid ray is the id"
            )),
            "8f1e2d3c4b5a6978-NRT"
        );
        assert_eq!(request_id(Some("x\"}{"), || 255), "00000000000000ff");
        assert_eq!(request_id(None, || 0xabc), "0000000000000abc");
    }
}
