//! The events feed at the edge: the queue's producer (`queue`) and consumer (`consumer`), the
//! `Feeds` object (endpoints, status, dead letters), one `Courier` object per endpoint (its
//! deliveries and retries) and one `FeedLog` object per month (`log_object`). The decisions are
//! [`optin_core::feed`]'s.

pub(crate) mod consumer;
pub(crate) mod courier_object;
pub(crate) mod feeds_object;
pub(crate) mod log_object;
pub(crate) mod queue;
