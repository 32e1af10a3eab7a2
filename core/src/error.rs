//! The one error type of the service and its HTTP mapping: status, stable snake_case code, the
//! sentence a client may read, and the detail that only the log may read.

use std::fmt;

/// Everything that can go wrong while answering a request.
///
/// Client errors carry a stable `code` (part of the API contract) and a sentence that is safe to
/// show. Server errors (`Config`, `Internal`, `Storage`, `Upstream`) show the client only an opaque
/// sentence; their cause goes to the log through [`Error::log_detail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// 400: the request is malformed (bad JSON, a missing field, a bad query parameter).
    BadRequest { code: &'static str, message: String },
    /// 401: missing or wrong credentials (bearer token, webhook signature).
    Unauthorized { code: &'static str },
    /// 403: the credentials are valid but do not allow this (e.g. a failed subscription handshake).
    Forbidden { code: &'static str },
    /// 404: no such route or resource.
    NotFound,
    /// 404: a thing the request names does not exist (`unknown_member`, `unknown_coupon`).
    Unknown { code: &'static str, message: String },
    /// 405: the path exists, the method does not.
    MethodNotAllowed { allow: &'static str },
    /// 409: the request conflicts with the current state.
    Conflict { code: &'static str, message: String },
    /// 413: the body is larger than the route accepts; answered before any parsing.
    PayloadTooLarge { limit: usize },
    /// 415: the body is not of the media type the route reads.
    UnsupportedMediaType { expected: &'static str },
    /// 422: well-formed but not acceptable (an invalid code, an expired coupon).
    Unprocessable { code: &'static str, message: String },
    /// 429: this key or card asked too often; `Retry-After` says when to try again.
    TooManyRequests { retry_after_secs: u32 },
    /// 500: a setting the route needs is missing or invalid. Names the setting, never its value.
    Config {
        setting: &'static str,
        problem: &'static str,
    },
    /// 500: storage (KV, Durable Object) failed.
    Storage { cause: String },
    /// 502: a platform API we depend on failed.
    Upstream { cause: String },
    /// 500: a bug or an unexpected runtime failure.
    Internal { cause: String },
}

impl Error {
    /// Shorthand for a 400 with a code and a sentence.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Error::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for a 422 with a code and a sentence.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Error::Unprocessable {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for an internal error with its cause (logged, never shown).
    pub fn internal(cause: impl fmt::Display) -> Self {
        Error::Internal {
            cause: cause.to_string(),
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest { .. } => 400,
            Error::Unauthorized { .. } => 401,
            Error::Forbidden { .. } => 403,
            Error::NotFound | Error::Unknown { .. } => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::Conflict { .. } => 409,
            Error::PayloadTooLarge { .. } => 413,
            Error::UnsupportedMediaType { .. } => 415,
            Error::Unprocessable { .. } => 422,
            Error::TooManyRequests { .. } => 429,
            Error::Config { .. } | Error::Storage { .. } | Error::Internal { .. } => 500,
            Error::Upstream { .. } => 502,
        }
    }

    /// The stable machine-readable code of the JSON error body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest { code, .. }
            | Error::Unauthorized { code }
            | Error::Forbidden { code }
            | Error::Conflict { code, .. }
            | Error::Unknown { code, .. }
            | Error::Unprocessable { code, .. } => code,
            Error::NotFound => "not_found",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::TooManyRequests { .. } => "rate_limited",
            Error::UnsupportedMediaType { .. } => "unsupported_media_type",
            Error::Config { .. } => "config",
            Error::Storage { .. } => "storage",
            Error::Upstream { .. } => "upstream",
            Error::Internal { .. } => "internal",
        }
    }

    /// The sentence a client may read. Server errors are deliberately opaque.
    pub fn public_message(&self) -> String {
        match self {
            Error::BadRequest { message, .. }
            | Error::Conflict { message, .. }
            | Error::Unknown { message, .. }
            | Error::Unprocessable { message, .. } => message.clone(),
            Error::Unauthorized { .. } => "Missing or invalid credentials.".into(),
            Error::Forbidden { .. } => "Not allowed.".into(),
            Error::NotFound => "No such resource.".into(),
            Error::MethodNotAllowed { allow } => format!("Method not allowed; use {allow}."),
            Error::PayloadTooLarge { limit } => {
                format!("The request body is larger than {limit} bytes.")
            }
            Error::UnsupportedMediaType { expected } => format!("The body must be {expected}."),
            Error::TooManyRequests { retry_after_secs } => {
                format!("Too many requests: try again in {retry_after_secs} seconds.")
            }
            Error::Config { .. } => "This service is not fully configured.".into(),
            Error::Storage { .. } | Error::Internal { .. } => {
                "Something went wrong on our side.".into()
            }
            Error::Upstream { .. } => "A platform we depend on did not answer.".into(),
        }
    }

    /// What the log line says beyond the code: the missing setting or the cause of a server error.
    /// Never contains a secret value (the variants that carry a cause are built from our own
    /// messages and runtime errors, never from configuration values).
    pub fn log_detail(&self) -> Option<String> {
        match self {
            Error::Config { setting, problem } => Some(format!("{setting}: {problem}")),
            Error::Storage { cause } | Error::Upstream { cause } | Error::Internal { cause } => {
                Some(cause.clone())
            }
            _ => None,
        }
    }

    /// Whether this is the server's fault (logged at error level).
    pub fn is_server_error(&self) -> bool {
        self.status() >= 500
    }

    /// The JSON body of the contract: `{"error": {"code": ..., "message": ...}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "error": { "code": self.code(), "message": self.public_message() }
        })
        .to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.public_message(), self.code())
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    /// Not JSON at all: 400 `invalid_json`; JSON of the wrong shape: 400 `invalid_body`.
    fn from(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => Error::bad_request(
                "invalid_body",
                format!("The body has the wrong shape: {e}."),
            ),
            _ => Error::bad_request("invalid_json", format!("The body is not valid JSON: {e}.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_variants() -> Vec<Error> {
        vec![
            Error::bad_request("invalid_json", "x"),
            Error::Unauthorized {
                code: "unauthorized",
            },
            Error::Forbidden { code: "forbidden" },
            Error::NotFound,
            Error::Unknown {
                code: "unknown_member",
                message: "x".into(),
            },
            Error::MethodNotAllowed { allow: "GET" },
            Error::Conflict {
                code: "already_redeemed",
                message: "x".into(),
            },
            Error::PayloadTooLarge { limit: 10 },
            Error::TooManyRequests {
                retry_after_secs: 60,
            },
            Error::UnsupportedMediaType {
                expected: "application/json",
            },
            Error::unprocessable("invalid_code", "x"),
            Error::Config {
                setting: "ADMIN_TOKEN",
                problem: "missing",
            },
            Error::Storage { cause: "kv".into() },
            Error::Upstream { cause: "x".into() },
            Error::internal("boom"),
        ]
    }

    #[test]
    fn every_code_is_snake_case() {
        for e in all_variants() {
            let code = e.code();
            assert!(
                !code.is_empty()
                    && code
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                "{code}"
            );
        }
    }

    #[test]
    fn json_body_has_the_contract_shape() {
        let body: serde_json::Value =
            serde_json::from_str(&Error::PayloadTooLarge { limit: 65536 }.to_json()).unwrap();
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert!(body["error"]["message"].as_str().unwrap().contains("65536"));
        assert_eq!(body.as_object().unwrap().len(), 1);
    }

    #[test]
    fn server_errors_are_opaque_to_the_client_but_logged() {
        let e = Error::internal("kv get failed: secret-ish detail");
        assert_eq!(e.status(), 500);
        assert!(!e.to_json().contains("secret-ish"));
        assert_eq!(
            e.log_detail().as_deref(),
            Some("kv get failed: secret-ish detail")
        );
    }

    #[test]
    fn config_error_names_the_setting_only_in_the_log() {
        let e = Error::Config {
            setting: "ADMIN_TOKEN",
            problem: "missing",
        };
        assert_eq!((e.status(), e.code()), (500, "config"));
        assert!(!e.to_json().contains("ADMIN_TOKEN"));
        assert!(e.log_detail().unwrap().contains("ADMIN_TOKEN"));
    }

    #[test]
    fn statuses_match_the_contract() {
        let statuses: Vec<u16> = all_variants().iter().map(Error::status).collect();
        assert_eq!(
            statuses,
            [400, 401, 403, 404, 404, 405, 409, 413, 429, 415, 422, 500, 500, 502, 500]
        );
    }

    #[test]
    fn json_of_the_wrong_shape_maps_to_400_invalid_body() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            name: String,
        }
        let e: Error = serde_json::from_str::<Shape>(r#"{"name": 1}"#)
            .unwrap_err()
            .into();
        assert_eq!((e.status(), e.code()), (400, "invalid_body"));
    }

    #[test]
    fn malformed_json_maps_to_400_invalid_json() {
        let e: Error = serde_json::from_str::<serde_json::Value>("{")
            .unwrap_err()
            .into();
        assert_eq!((e.status(), e.code()), (400, "invalid_json"));
    }
}
