//! The deployment's settings: one table of every setting that drives the typed configuration
//! and its report (`config`), secrets and signing keys whose `Debug` never prints them
//! (`secrets`), and the rule for base URLs (`base_url`: https, or http to a loopback host).

pub mod base_url;
pub mod config;
pub mod secrets;
