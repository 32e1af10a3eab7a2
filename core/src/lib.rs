//! The pure core of the opt-in and membership-card Worker: plain synchronous Rust with no
//! `worker` types, no clock, no random source and no I/O — this crate does not depend on the
//! runtime at all. It verifies, parses, decides and renders; it builds and tests natively. The
//! Worker crate (the repository's root, `src/edge/`) reads requests, asks it, talks to KV,
//! Durable Objects and the platforms, and answers.
#![forbid(unsafe_code)]

pub mod auth;
pub mod budget;
pub mod channels;
pub mod codes;
pub mod consent;
pub mod conversation;
pub mod coupons;
pub mod encoding;
pub mod error;
pub mod evidence;
pub mod feed;
pub mod freshness;
pub mod funnel;
pub mod ids;
pub mod images;
pub mod lang;
pub mod log;
pub mod members;
pub mod pages;
pub mod routes;
pub mod settings;
pub mod signing;
pub mod stores;
pub mod till;
pub mod time;
pub mod time_zones;
pub mod wallet;
