//! The events feed to the retailer's marketing-automation tool (docs/feed.md). The
//! core: what an event says ([`events`]), how a delivery is signed ([`signature`]),
//! when a failed one is tried again ([`retry`]), when a receiver counts as down
//! ([`circuit`]), the endpoints and their status ([`endpoints`]),
//! the log the export reads ([`log`]), the queue's messages ([`queue`]) and each endpoint's own
//! deliveries ([`delivery`]). The edge enqueues (the member's object), fans out (the queue
//! consumer), delivers (each endpoint's `Courier` object) and keeps (the `Feeds` and `FeedLog`
//! objects).

pub mod circuit;
pub mod delivery;
pub mod endpoints;
pub mod events;
pub mod log;
pub mod queue;
pub mod replay;
pub mod retry;
pub mod signature;
