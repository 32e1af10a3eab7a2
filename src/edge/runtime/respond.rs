//! What handlers return ([`Outgoing`]: status, headers and body, all in Rust memory), the
//! error mapping, and the one crossing into JavaScript that makes it the runtime's `Response`.
//!
//! Handlers never build a `worker::Response` for a body in memory: its `Headers::new()`, each
//! `set` and the body's conversion each cross into JavaScript, and for a small route those
//! crossings cost more than the route's own work (a CPU profile shows it).
//! [`Outgoing::into_raw`] builds the headers as one plain object and the `Response` in a single
//! call ([`glue::answer`]).

use futures_util::TryStream;
use worker::worker_sys::web_sys;
use worker::ResponseBody;

use crate::edge::runtime::glue;

use optin_core::error::Error;
use optin_core::lang::Lang;
use optin_core::pages;
use optin_core::routes::Audience;

/// A response not yet handed to the runtime.
pub struct Outgoing {
    status: u16,
    /// The content type, with `cache-control: no-store` and `x-content-type-options: nosniff`;
    /// empty for a response without these (a 204, the last resort).
    content_type: &'static str,
    /// Headers set over the usual ones, as `name\nvalue\n…` (names are lower case; names and
    /// values never contain a line break).
    extra: String,
    body: Body,
}

enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// A streamed answer (the export).
    Stream(web_sys::ReadableStream),
}

impl Outgoing {
    fn new(status: u16, content_type: &'static str, body: Body) -> Outgoing {
        Outgoing {
            status,
            content_type,
            extra: String::new(),
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Sets a header over the usual ones (`name` in lower case).
    pub fn set_header(&mut self, name: &str, value: &str) {
        debug_assert!(!name.contains('\n') && !value.contains('\n'));
        self.extra.push_str(name);
        self.extra.push('\n');
        self.extra.push_str(value);
        self.extra.push('\n');
    }

    /// [`Outgoing::set_header`] for several.
    pub fn with_headers(mut self, pairs: &[(&str, &str)]) -> Outgoing {
        for (name, value) in pairs {
            self.set_header(name, value);
        }
        self
    }

    /// The runtime's `Response`, stamped with the request id, in one crossing.
    pub fn into_raw(self, request_id: &str) -> web_sys::Response {
        let Outgoing {
            status,
            content_type,
            extra,
            body,
        } = self;
        let bytes = match body {
            Body::Empty => None,
            Body::Bytes(bytes) => Some(bytes),
            Body::Stream(stream) => {
                return glue::answer_stream(&stream, status, content_type, &extra, request_id)
            }
        };
        glue::answer(bytes.as_deref(), status, content_type, &extra, request_id)
    }
}

/// A JSON answer with the given status. A typed body is written straight to text (through a
/// `serde_json::Value` it would be built, sorted and dropped first). Serializing fails only
/// for maps with non-string keys, which no answer has: that would be a 500.
pub fn json(status: u16, body: &impl serde::Serialize) -> Outgoing {
    match serde_json::to_vec(body) {
        Ok(bytes) => bytes_with(status, JSON, bytes, &[]),
        Err(_) => fallback(),
    }
}

/// The content type of JSON answers.
pub const JSON: &str = "application/json; charset=utf-8";

/// An HTML answer with the given status.
pub fn html(status: u16, body: String) -> Outgoing {
    text(status, "text/html; charset=utf-8", body)
}

/// An answer with a body, a content type and the headers every answer carries.
pub fn text(status: u16, content_type: &'static str, body: String) -> Outgoing {
    text_with(status, content_type, body, &[])
}

/// [`text`] with more headers, set over the usual ones.
pub fn text_with(
    status: u16,
    content_type: &'static str,
    body: String,
    extra: &[(&str, &str)],
) -> Outgoing {
    bytes_with(status, content_type, body.into_bytes(), extra)
}

/// [`text_with`] for a body of bytes (an image).
pub fn bytes_with(
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> Outgoing {
    Outgoing::new(status, content_type, Body::Bytes(body)).with_headers(extra)
}

/// A 200 whose body is streamed chunk by chunk (`worker` turns the Rust stream into the
/// runtime's), with the headers every answer carries.
///
/// # Errors
/// [`Error::Internal`] if `worker` gives no stream back (it always does).
pub fn stream<S>(content_type: &'static str, chunks: S) -> Result<Outgoing, Error>
where
    S: TryStream + 'static,
    S::Ok: Into<Vec<u8>>,
    S::Error: Into<worker::Error>,
{
    let response = worker::Response::from_stream(chunks).map_err(Error::internal)?;
    match response.body() {
        ResponseBody::Stream(stream) => Ok(Outgoing::new(
            200,
            content_type,
            Body::Stream(stream.clone()),
        )),
        _ => Err(Error::internal(
            "worker::Response::from_stream gave no stream",
        )),
    }
}

/// `204 No Content`: no body at all (a zero-length body on a 204 is flagged by the runtime).
pub fn no_content() -> Outgoing {
    Outgoing::new(204, "", Body::Empty).with_headers(&[("cache-control", "no-store")])
}

/// A status with no body at all (304), with `extra` headers.
pub fn empty(status: u16, extra: &[(&str, &str)]) -> Outgoing {
    Outgoing::new(status, "", Body::Empty)
        .with_headers(&[("cache-control", "no-store")])
        .with_headers(extra)
}

/// `303 See Other` to a path of this origin (after a form post).
pub fn redirect(location: &str) -> Outgoing {
    text_with(
        303,
        "text/plain; charset=utf-8",
        String::new(),
        &[("location", location)],
    )
}

/// The error as the audience expects it: JSON for APIs, an HTML page for shoppers.
pub fn error(error: &Error, audience: Audience, lang: Lang) -> Outgoing {
    let mut outgoing = match audience {
        Audience::Api => text(error.status(), JSON, error.to_json()),
        Audience::Shopper => html(error.status(), pages::error_page(lang, error)),
    };
    match error {
        Error::MethodNotAllowed { allow } => outgoing.set_header("allow", allow),
        Error::TooManyRequests { retry_after_secs } => {
            outgoing.set_header("retry-after", &retry_after_secs.to_string());
        }
        _ => {}
    }
    outgoing
}

/// The last resort when even serializing an outgoing response failed: a bare 500.
pub fn fallback() -> Outgoing {
    Outgoing::new(500, "", Body::Empty)
}
