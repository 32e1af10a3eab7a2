//! Turning core results into `worker::Response`s: JSON bodies, HTML pages, the error mapping.

use worker::{Headers, Response, ResponseBody};

use super::glue;

use crate::error::Error;
use crate::lang::Lang;
use crate::pages;
use crate::routes::Audience;

/// A JSON response with the given status; `no-store` unless the caller sets otherwise. A typed
/// body is written straight to text (through a `serde_json::Value` it would be built, sorted
/// and dropped first). Serializing fails only for maps with non-string keys, which no answer
/// has: that would be a 500.
pub fn json(status: u16, body: &impl serde::Serialize) -> Response {
    match serde_json::to_string(body) {
        Ok(text_body) => text(status, "application/json; charset=utf-8", text_body),
        Err(_) => fallback(),
    }
}

/// An HTML response with the given status.
pub fn html(status: u16, body: String) -> Response {
    text(status, "text/html; charset=utf-8", body)
}

/// A response with a body, a content type and the headers every answer carries, made in one
/// crossing into JavaScript ([`glue::answer_headers`]; each `Headers::set` would cross once).
pub fn text(status: u16, content_type: &str, body: String) -> Response {
    text_with(status, content_type, body, &[])
}

/// [`text`] with more headers (set over the usual ones), in the same crossing.
pub fn text_with(
    status: u16,
    content_type: &str,
    body: String,
    extra: &[(&str, &str)],
) -> Response {
    bytes_with(status, content_type, body.into_bytes(), extra)
}

/// [`text_with`] for a body of bytes (an image).
pub fn bytes_with(
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) -> Response {
    let Ok(response) = Response::from_body(ResponseBody::Body(body)) else {
        return fallback();
    };
    response
        .with_headers(Headers(glue::answer_headers(content_type, &lines(extra))))
        .with_status(status)
}

/// Sets several headers in one crossing.
pub fn set_headers(response: &mut Response, pairs: &[(&str, &str)]) {
    glue::set_headers(&response.headers().0, &lines(pairs));
}

/// Headers as `name\nvalue\n…` (names and values never contain a line break).
fn lines(pairs: &[(&str, &str)]) -> String {
    let mut lines = String::new();
    for (name, value) in pairs {
        lines.push_str(name);
        lines.push('\n');
        lines.push_str(value);
        lines.push('\n');
    }
    lines
}

/// `204 No Content`: no body at all (a zero-length body on a 204 is flagged by the runtime).
pub fn no_content() -> Response {
    let Ok(mut response) = Response::empty() else {
        return fallback();
    };
    let _ = response.headers_mut().set("cache-control", "no-store");
    response.with_status(204)
}

/// `303 See Other` to a path of this origin (after a form post).
pub fn redirect(location: &str) -> Response {
    text_with(
        303,
        "text/plain; charset=utf-8",
        String::new(),
        &[("location", location)],
    )
}

/// The error as the audience expects it: JSON for APIs, an HTML page for shoppers.
pub fn error(error: &Error, audience: Audience, lang: Lang) -> Response {
    let mut response = match audience {
        Audience::Api => text(
            error.status(),
            "application/json; charset=utf-8",
            error.to_json(),
        ),
        Audience::Shopper => html(error.status(), pages::error_page(lang, error)),
    };
    if let Error::MethodNotAllowed { allow } = error {
        let _ = response.headers_mut().set("allow", allow);
    }
    response
}

/// The last resort when even building a response failed.
pub fn fallback() -> Response {
    // Building an empty response fails only if the runtime cannot allocate one at all.
    Response::empty()
        .expect("the runtime can build an empty response")
        .with_status(500)
}
