//! Sending to the feed's queue. Messages go as plain JSON objects (`JSON.parse` of serde_json's
//! text): serde-wasm-bindgen would turn the events' maps into JS `Map`s, which the consumer's
//! `JSON.stringify` reads back as `{}`.

use worker::{Env, QueueContentType, RawMessageBuilder, SendMessage};

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
    let fail = |e: worker::Error| Error::Storage {
        cause: format!("feed queue: {e}"),
    };
    let queue = env.queue(FEED_QUEUE).map_err(fail)?;
    for chunk in messages.chunks(SEND_BATCH_MAX) {
        let mut raw: Vec<SendMessage<wasm_bindgen::JsValue>> = Vec::with_capacity(chunk.len());
        for message in chunk {
            let text = serde_json::to_string(message).map_err(Error::internal)?;
            let value = js_sys::JSON::parse(&text)
                .map_err(|_| Error::internal("feed message: JSON.parse failed"))?;
            raw.push(RawMessageBuilder::new(value).build_with_content_type(QueueContentType::Json));
        }
        queue.send_raw_batch(raw).await.map_err(fail)?;
    }
    Ok(())
}
