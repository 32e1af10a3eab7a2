//! Server-rendered HTML for shoppers and cashiers. Every page is a `maud` template, so every
//! interpolated value is escaped by construction; pages take plain data and a language.

mod error_page;
mod layout;

pub use error_page::error_page;
