//! How long read-mostly configuration (stores, coupons, notices) is trusted from an isolate's
//! memory, and how often a miss may send a request on to storage. Workers KV itself lags up to
//! 60 s; these bounds add little to that, and they keep anyone from turning unauthenticated
//! requests for unknown ids into KV reads at the request rate (KV reads are billed).

/// A cached read is served this long.
pub const CACHE_TTL_MS: u64 = 30_000;
/// After a miss (an id the cached copy lacks), storage is read again at most this often.
pub const MISS_REREAD_MS: u64 = 5_000;

/// Whether a copy read at `read_at_ms` may still be served at `now_ms`.
pub fn is_fresh(read_at_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(read_at_ms) < CACHE_TTL_MS
}

/// Whether a miss at `now_ms` may re-read storage, the copy having been read at `read_at_ms`
/// (a thing created moments ago elsewhere shows within [`MISS_REREAD_MS`]; admin writes in this
/// isolate clear the copy at once).
pub fn may_reread_on_miss(read_at_ms: u64, now_ms: u64) -> bool {
    now_ms.saturating_sub(read_at_ms) >= MISS_REREAD_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ids_reach_storage_at_most_once_per_five_seconds() {
        // Misses (`GET /s/{unused id}`) re-read the stores from KV at most once per 5 s.
        let read_at = 1_000_000;
        let misses_per_second_for_a_minute = (0..60_000).step_by(1).filter(|ms| ms % 1000 == 0);
        let mut last = read_at;
        let mut rereads = 0;
        for offset in misses_per_second_for_a_minute {
            let now = read_at + offset;
            if may_reread_on_miss(last, now) {
                rereads += 1;
                last = now;
            }
        }
        assert_eq!(
            rereads, 11,
            "60 s of misses, one re-read per 5 s after the first read"
        );
        assert!(is_fresh(read_at, read_at + CACHE_TTL_MS - 1));
        assert!(!is_fresh(read_at, read_at + CACHE_TTL_MS));
        assert!(!may_reread_on_miss(read_at, read_at + 4_999));
    }
}
