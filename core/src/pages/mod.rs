//! Server-rendered HTML for shoppers and cashiers. Every page is a `maud` template, so every
//! interpolated value is escaped by construction; pages take plain data and a language.

mod card;
mod data;
mod error_page;
mod landing;
mod layout;
mod pos;
mod privacy;
mod texts;

pub use card::{card_page, stopped_page, CardCoupon, CardView, Wallets};
pub use data::{data_page, AppHistory, DataView};
pub use error_page::error_page;
pub use landing::{landing_page, Landing};
pub use pos::till_page;
pub use privacy::privacy_page;
