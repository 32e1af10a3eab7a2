//! The runtime's glue, fenced in one place: the request as the runtime hands it over
//! (`incoming`, `body`), answers (`respond`), the JavaScript around the wasm (`entry.js`,
//! `glue.js`, `glue`), Durable Object calls (`objects`, `sql`), Workers KV behind its budget
//! (`kv`), the env as the core's settings (`env`), the isolate's cache, clock, randomness and
//! rate limits. Nothing here decides anything.

pub(crate) mod body;
pub(crate) mod cache;
pub(crate) mod clock;
pub(crate) mod env;
pub(crate) mod glue;
pub(crate) mod incoming;
pub(crate) mod kv;
pub(crate) mod limits;
pub(crate) mod objects;
pub(crate) mod random;
pub(crate) mod respond;
pub(crate) mod sql;
