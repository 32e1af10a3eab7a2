//! The request being served, read straight from the runtime's `Request`. `worker::Request::from`
//! also materialises `request.cf` (an object workerd builds on first access: ~5% of a /healthz
//! in a CPU profile), which nothing here reads; and each `url()` there parses the URL again.
//! Here the method, URL, `cf-ray` and `Content-Length` (and a POST's webhook signature headers)
//! come over in one crossing, the path and query are cut from the URL without parsing it, and
//! the headers object is fetched from JavaScript at most once, for any other header.

use std::cell::OnceCell;

use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;
use worker::ByteStream;

use crate::edge::runtime::glue;
use optin_core::channels::{line, meta};
use optin_core::error::Error;

pub struct Incoming {
    raw: web_sys::Request,
    method: String,
    url: String,
    cf_ray: Option<String>,
    content_length: Option<String>,
    /// The webhook signature headers, read with the head of a POST (`None` otherwise: any other
    /// request asks the headers object).
    signatures: Option<[Option<String>; 2]>,
    headers: OnceCell<web_sys::Headers>,
    /// The body, when `entry.js` read it before the request reached Rust.
    read: Option<Vec<u8>>,
}

impl Incoming {
    /// Reads the request's head in one crossing ([`glue::request_head`]).
    pub fn new(raw: web_sys::Request) -> Self {
        let head = glue::request_head(&raw);
        let mut lines = head.splitn(6, '\n');
        let mut next = || lines.next().map(str::to_owned);
        let (method, url, cf_ray, content_length) = (next(), next(), next(), next());
        let signatures = next().map(|line| [Some(line), next()]);
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        Self {
            raw,
            method: method.unwrap_or_default(),
            url: url.unwrap_or_default(),
            cf_ray: present(cf_ray),
            content_length: present(content_length),
            signatures: signatures.map(|pair| pair.map(present)),
            headers: OnceCell::new(),
            read: None,
        }
    }

    /// [`Incoming::new`] with the body already read.
    pub fn with_body(raw: web_sys::Request, body: Vec<u8>) -> Self {
        Self {
            read: Some(body),
            ..Self::new(raw)
        }
    }

    /// The method as received (`QUERY`, `PROPFIND`… included, for a 405).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        path_and_query(&self.url).0
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        match (name, &self.signatures) {
            ("cf-ray", _) => return self.cf_ray.clone(),
            ("content-length", _) => return self.content_length.clone(),
            (line::SIGNATURE_HEADER, Some([line, _])) => return line.clone(),
            (meta::SIGNATURE_HEADER, Some([_, meta])) => return meta.clone(),
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
        form_urlencoded::parse(path_and_query(&self.url).1.as_bytes())
    }

    /// The body in one piece (the caller has checked its declared length).
    pub async fn bytes(&mut self) -> Result<Vec<u8>, Error> {
        if let Some(body) = self.read.take() {
            return Ok(body);
        }
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

/// The path and query of a serialized WHATWG URL (what `Request.url` gives), cut without
/// parsing it: the first `/` after the host starts the path, in which `?` and `#` only appear
/// as delimiters. No `/` at all is the path `/` (a serialized http(s) URL always has one); no
/// `?` is the query `""`.
pub fn path_and_query(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let Some(start) = url[after_scheme..].find('/').map(|i| after_scheme + i) else {
        return ("/", "");
    };
    let rest = &url[start..];
    let (path, after) = rest.split_at(rest.find(['?', '#']).unwrap_or(rest.len()));
    let query = after.strip_prefix('?').unwrap_or_default();
    (path, &query[..query.find('#').unwrap_or(query.len())])
}
