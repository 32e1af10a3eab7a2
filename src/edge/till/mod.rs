//! The till at the edge: its page (`page`), the cashier API (`pos`) and the `Till` object of
//! each store (`object`), which holds a transaction for one member while that member's object
//! decides.

pub(crate) mod object;
pub(crate) mod page;
pub(crate) mod pos;
