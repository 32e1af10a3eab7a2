//! The events feed to the retailer's marketing-automation tool (`../shared/API.md`, Events
//! feed): what an event says ([`events`]), how a delivery is signed ([`signature`]) and how long
//! a failed one is retried ([`retry`]). Pure; the edge enqueues, delivers and records.
//!
//! Status: the core only. The queue, the admin routes, the export and the tests against a
//! reference receiver come next (issue 9).

pub mod events;
pub mod retry;
pub mod signature;
