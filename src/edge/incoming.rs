//! The request being served, read straight from the runtime's `Request`. `worker::Request::from`
//! also materialises `request.cf` (an object workerd builds on first access: ~5% of a /healthz
//! in a CPU profile), which nothing here reads; and each `url()` there parses the URL again.
//! Here the method, URL, `cf-ray` and `Content-Length` come over in one crossing, the path and
//! query are cut from the URL without parsing it, and the headers object is fetched from
//! JavaScript at most once, for any other header.

use std::cell::OnceCell;

use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;
use worker::ByteStream;

use super::glue;
use crate::error::Error;

pub struct Incoming {
    raw: web_sys::Request,
    method: String,
    url: String,
    /// Where the path ends in `url`, and where the query starts and ends (`None`: no query).
    path: std::ops::Range<usize>,
    query: Option<std::ops::Range<usize>>,
    cf_ray: Option<String>,
    content_length: Option<String>,
    headers: OnceCell<web_sys::Headers>,
}

impl Incoming {
    /// Reads the request's head in one crossing ([`glue::request_head`]).
    pub fn new(raw: web_sys::Request) -> Self {
        let head = glue::request_head(&raw);
        let mut lines = head.splitn(4, '\n');
        let mut next = || lines.next().unwrap_or_default().to_owned();
        let (method, url, cf_ray, content_length) = (next(), next(), next(), next());
        let (path, query) = split_url(&url);
        let present = |v: String| (!v.is_empty()).then_some(v);
        Self {
            raw,
            method,
            path,
            query,
            url,
            cf_ray: present(cf_ray),
            content_length: present(content_length),
            headers: OnceCell::new(),
        }
    }

    /// The method as received (`QUERY`, `PROPFIND`… included, for a 405).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        match &self.url[self.path.clone()] {
            "" => "/",
            path => path,
        }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        match name {
            "cf-ray" => return self.cf_ray.clone(),
            "content-length" => return self.content_length.clone(),
            _ => {}
        }
        self.headers
            .get_or_init(|| self.raw.headers())
            .get(name)
            .ok()
            .flatten()
    }

    /// The declared `Content-Length`, if it is a number.
    pub fn declared_length(&self) -> Option<u64> {
        self.content_length
            .as_deref()
            .and_then(|v| v.trim().parse().ok())
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The query's parameters, decoded as `application/x-www-form-urlencoded` (as
    /// `Url::query_pairs` does).
    pub fn query_pairs(&self) -> form_urlencoded::Parse<'_> {
        let query = self.query.clone().map_or("", |q| &self.url[q]);
        form_urlencoded::parse(query.as_bytes())
    }

    /// The body in one piece (the caller has checked its declared length).
    pub async fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        let fail = |e: wasm_bindgen::JsValue| Error::internal(format!("reading the body: {e:?}"));
        let buffer = JsFuture::from(self.raw.array_buffer().map_err(fail)?)
            .await
            .map_err(fail)?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }

    /// The body as a stream of chunks; `None` when the request has no body.
    pub fn stream(&mut self) -> Option<ByteStream> {
        self.raw.body().map(ByteStream::from)
    }
}

/// The path (`/` when empty) and query (`""` when none) of a serialized URL, as
/// [`split_url`] cuts them.
pub fn path_and_query(url: &str) -> (&str, &str) {
    let (path, query) = split_url(url);
    let path = match &url[path] {
        "" => "/",
        path => path,
    };
    (path, query.map_or("", |q| &url[q]))
}

/// The path and query of a serialized WHATWG URL (what `Request.url` gives), without parsing
/// it: the first `/` after the host starts the path, in which `?` and `#` only appear as
/// delimiters. No `/` at all gives an empty path (read as `/`; a serialized http(s) URL always
/// has one).
fn split_url(url: &str) -> (std::ops::Range<usize>, Option<std::ops::Range<usize>>) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let Some(start) = url[after_scheme..].find('/').map(|i| after_scheme + i) else {
        return (0..0, None);
    };
    let rest = &url[start..];
    let path_end = start + rest.find(['?', '#']).unwrap_or(rest.len());
    let query = url[path_end..].strip_prefix('?').map(|q| {
        let begin = path_end + 1;
        begin..begin + q.find('#').unwrap_or(q.len())
    });
    (start..path_end, query)
}
