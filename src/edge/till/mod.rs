//! The till at the edge: the cashier API (`pos`) and the `Till` object of each store
//! (`object`), which holds a transaction for one member while that member's object decides.

pub(crate) mod object;
pub(crate) mod pos;
