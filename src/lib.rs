//! The Worker: edge functions for retail opt-in and membership cards on Cloudflare Workers. The
//! decisions are the core's (`optin-core`, in `core/`, which has no runtime dependency); this
//! crate is the thin edge around it, compiled for wasm32 only (see `edge`).
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod edge;
