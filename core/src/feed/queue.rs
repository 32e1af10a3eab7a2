//! What travels through the `FEED` queue. One queue carries three kinds of message:
//!
//! - [`FeedMessage::Record`]: an event a member's object caused. The consumer keeps it in the
//!   log, then fans it out: one [`Delivery`] per active endpoint.
//! - [`FeedMessage::Deliver`]: one event to one endpoint. The consumer hands it to the
//!   endpoint's courier ([`super::delivery`]), which keeps it until it is delivered, dead or the
//!   endpoint gone, retrying on the schedule of [`super::retry`]. It names the event; the body
//!   is read from the log at each attempt (so an erasure's scrub reaches it).
//! - [`FeedMessage::Replay`]: one page of a replay of a time range to one endpoint; it sends the
//!   page's deliveries and the next page, so a replay of a year never runs in one invocation.

use serde::{Deserialize, Serialize};

use super::events::{EventType, FeedEvent};
use super::log::Cursor;

/// A message of the feed's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeedMessage {
    Record { event: FeedEvent },
    Deliver(Delivery),
    Replay(ReplayPage),
}

/// One event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub endpoint: String,
    pub event_id: String,
    /// The event's time: it names the log month that holds the body.
    pub time_ms: u64,
    /// Failed attempts so far.
    #[serde(default)]
    pub attempts: u32,
}

/// A page of a replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayPage {
    pub endpoint: String,
    pub from_ms: u64,
    pub to_ms: u64,
    #[serde(default)]
    pub types: Vec<EventType>,
    #[serde(default)]
    pub after: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json() {
        let m = FeedMessage::Deliver(Delivery {
            endpoint: "fe_1".into(),
            event_id: "evt_1".into(),
            time_ms: 5,
            attempts: 2,
        });
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"deliver","endpoint":"fe_1","event_id":"evt_1","time_ms":5,"attempts":2}"#
        );
        assert_eq!(serde_json::from_str::<FeedMessage>(&text).unwrap(), m);
    }
}
