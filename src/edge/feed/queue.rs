//! Sending to the feed's queue. Messages go as plain JSON objects, built in JavaScript from
//! serde_json's text (`glue.js`'s `sendJson`: one crossing per batch): serde-wasm-bindgen would
//! turn the events' maps into JS `Map`s, which the consumer's `JSON.stringify` reads back as `{}`.

use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::edge::runtime::{glue, objects::describe};
use optin_core::error::Error;
use optin_core::feed::queue::FeedMessage;

/// The feed's queue binding.
pub const FEED_QUEUE: &str = "FEED";
/// Queue `sendBatch` takes at most 100 messages.
const SEND_BATCH_MAX: usize = 100;

/// Sends messages at once, 100 at a time.
///
/// # Errors
/// [`Error::Storage`] when the queue refuses them.
pub async fn enqueue(env: &Env, messages: Vec<FeedMessage>) -> Result<(), Error> {
    let fail = |e: wasm_bindgen::JsValue| Error::Storage {
        cause: format!("feed queue: {}", describe(&e)),
    };
    for chunk in messages.chunks(SEND_BATCH_MAX) {
        // One message's JSON per line: serde_json escapes every line break inside a string.
        let mut lines = Vec::new();
        for (i, message) in chunk.iter().enumerate() {
            if i > 0 {
                lines.push(b'\n');
            }
            serde_json::to_writer(&mut lines, message).map_err(Error::internal)?;
        }
        let lines = String::from_utf8(lines).map_err(Error::internal)?;
        let sent = glue::send_json(env, FEED_QUEUE, &lines).map_err(fail)?;
        JsFuture::from(sent).await.map_err(fail)?;
    }
    Ok(())
}
