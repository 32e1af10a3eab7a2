//! The request being served, read straight from the runtime's `Request`. `worker::Request::from`
//! also materialises `request.cf` (an object workerd builds on first access: ~5% of a /healthz
//! in a CPU profile), which nothing here reads; and each `url()` there parses the URL again.
//! Here the path is cut from the URL once, the URL is parsed at most once, and the headers
//! object is fetched from JavaScript once.

use std::cell::OnceCell;

use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;
use worker::{ByteStream, Url};

use crate::error::Error;

pub struct Incoming {
    raw: web_sys::Request,
    path: String,
    url: OnceCell<Option<Url>>,
    headers: OnceCell<web_sys::Headers>,
}

impl Incoming {
    pub fn new(raw: web_sys::Request) -> Self {
        let path = path_of(&raw.url());
        Self {
            raw,
            path,
            url: OnceCell::new(),
            headers: OnceCell::new(),
        }
    }

    /// The method as received (`QUERY`, `PROPFIND`… included, for a 405).
    pub fn method(&self) -> String {
        self.raw.method()
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get_or_init(|| self.raw.headers())
            .get(name)
            .ok()
            .flatten()
    }

    /// The declared `Content-Length`, if it is a number.
    pub fn declared_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        self.url()?
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The whole URL, parsed on first use.
    pub fn url(&self) -> Option<&Url> {
        self.url
            .get_or_init(|| Url::parse(&self.raw.url()).ok())
            .as_ref()
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

/// The path of a serialized WHATWG URL (what `Request.url` gives), without parsing it: the
/// first `/` after the host starts the path, in which `?` and `#` only appear as delimiters.
fn path_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => {
            let path = &url[after_scheme + i..];
            path[..path.find(['?', '#']).unwrap_or(path.len())].to_owned()
        }
        None => "/".to_owned(),
    }
}
