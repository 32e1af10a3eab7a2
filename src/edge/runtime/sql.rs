//! Values bound to Durable Object SQL statements.

use worker::SqlStorageValue;

/// A text value.
pub fn text(s: &str) -> SqlStorageValue {
    SqlStorageValue::String(s.to_owned())
}

/// An integer value (SQLite's are signed 64-bit; larger saturates).
pub fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}
