//! Reading a request body without ever holding more than the route's limit.

use futures_util::StreamExt;
use worker::Request;

use crate::error::Error;
use crate::routes;

/// The raw body bytes, exactly as received (signatures are checked over these).
///
/// # Errors
/// [`Error::PayloadTooLarge`] as soon as the stream passes the path's limit (a chunked body has
/// no `Content-Length` to check up front); [`Error::Internal`] if the stream breaks.
#[allow(dead_code)] // first used by the webhook routes
pub async fn read_limited(req: &mut Request) -> Result<Vec<u8>, Error> {
    let limit = routes::body_limit(&req.path());
    let mut stream = match req.stream() {
        Ok(stream) => stream,
        // No body at all.
        Err(_) => return Ok(Vec::new()),
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::internal(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(Error::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
