//! The till, in the core: what a scan shows (`scan`), redeeming a coupon exactly once per
//! member (`redemptions`), which member a till transaction belongs to (`transactions`), and
//! the POS keys that authenticate tills (`pos_keys`), and redemptions a till queued while
//! offline, with the conflicts they may come to (`offline`). The edge's half is `src/edge/till/`.

pub mod offline;
pub mod pos_keys;
pub mod redemptions;
pub mod scan;
pub mod transactions;
