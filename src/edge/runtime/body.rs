//! Reading a request body without ever holding more than the route's limit.

use futures_util::StreamExt;

use crate::edge::runtime::incoming::Incoming;
use optin_core::error::Error;
use optin_core::routes;

/// How much of an oversized chunked body is read and dropped before answering 413: leaving a
/// chunked body half-read breaks the connection it came on (seen with wrangler's proxy: the
/// next request on it fails with 503), so a moderately oversized body is drained; past this,
/// the connection is given up.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// The raw body bytes, exactly as received (signatures are checked over these).
///
/// # Errors
/// [`Error::PayloadTooLarge`] once the stream passes the path's limit (a chunked body has no
/// `Content-Length` to check up front; nothing past the limit is kept); [`Error::Internal`] if
/// the stream breaks.
pub async fn read_limited(req: &mut Incoming) -> Result<Vec<u8>, Error> {
    let limit = routes::body_limit(req.path());
    // A declared length within the limit (a larger one was refused before routing) is the
    // body's exact length, as HTTP framing guarantees: read it in one piece, one crossing
    // instead of a reader and a crossing per chunk. Chunked bodies are streamed and counted.
    if req.declared_length().is_some_and(|n| n <= limit as u64) {
        return req.bytes().await;
    }
    let Some(mut stream) = req.stream() else {
        // No body at all.
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::internal(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            let mut drained = body.len() + chunk.len();
            drop(body);
            while drained <= DRAIN_LIMIT {
                match stream.next().await {
                    Some(Ok(more)) => drained += more.len(),
                    _ => break,
                }
            }
            return Err(Error::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
