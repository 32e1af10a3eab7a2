//! Edge functions for retail opt-in and membership cards.
//!
//! Everything outside [`edge`] is the pure core: plain synchronous Rust with no `worker` types,
//! no clock, no random source and no I/O. It builds and tests natively. The edge (wasm32 only)
//! reads requests, asks the core, talks to KV, Durable Objects and the platforms, and answers.
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod error;
pub mod lang;
pub mod log;
pub mod pages;
pub mod routes;

#[cfg(target_arch = "wasm32")]
mod edge;
