//! Edge functions for retail opt-in and membership cards.
//!
//! Everything outside [`edge`] is the pure core: plain synchronous Rust with no `worker` types,
//! no clock, no random source and no I/O. It builds and tests natively. The edge (wasm32 only)
//! reads requests, asks the core, talks to KV, Durable Objects and the platforms, and answers.
#![forbid(unsafe_code)]

pub mod auth;
pub mod base_url;
pub mod budget;
pub mod channels;
pub mod codes;
pub mod config;
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
pub mod ledger;
pub mod links;
pub mod log;
pub mod members;
pub mod pages;
pub mod replies;
pub mod routes;
pub mod secrets;
pub mod signing;
pub mod stores;
pub mod till;
pub mod time;
pub mod time_zones;

#[cfg(target_arch = "wasm32")]
mod edge;
