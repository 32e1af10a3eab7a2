//! What a delivery's answer means, and when a failed delivery is tried again: at least once,
//! with the retries spread over more than 24 hours so that a receiver down for a day still gets
//! everything (`../shared/API.md`: any 2xx is success, 410 disables the endpoint).

/// Waits before retries 1, 2, 3…, in seconds (Cloudflare Queues accept delays up to 12 hours).
/// Together they span 31 h 52 min; after the last, the message goes to the dead-letter path.
pub const RETRY_DELAYS_SECS: [u32; 13] = [
    10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 21_600, 21_600, 21_600, 21_600,
];

/// What a delivery attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Any 2xx.
    Delivered,
    /// 410 Gone: the receiver asks us to stop; the endpoint is disabled.
    Disable,
    /// Anything else (a timeout or network error included): try again later.
    Retry,
}

/// The verdict of an HTTP status (`None`: no answer at all).
pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Disable,
        _ => Verdict::Retry,
    }
}

/// The wait before the retry that follows `attempts` failed attempts, or `None` when the
/// schedule is spent (the message is dead-lettered, kept for the admin to see and replay).
pub fn next_delay(attempts: u32) -> Option<u32> {
    next_delay_in(&RETRY_DELAYS_SECS, attempts)
}

/// [`next_delay`] on another schedule (`FEED_RETRY_DELAYS`).
pub fn next_delay_in(schedule: &[u32], attempts: u32) -> Option<u32> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    schedule.get(index).copied()
}

/// Whether a failure says the receiver is down (no answer, 5xx, 429), rather than refusing
/// one event: then the rest of a batch for it waits for the next retry instead of trying now.
pub fn receiver_down(status: Option<u16>) -> bool {
    matches!(status, None | Some(429 | 500..=599))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_2xx_delivers_410_disables_and_the_rest_retries() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(verdict(Some(s)), Verdict::Delivered, "{s}");
        }
        assert_eq!(verdict(Some(410)), Verdict::Disable);
        for s in [
            None,
            Some(301),
            Some(400),
            Some(404),
            Some(429),
            Some(500),
            Some(503),
        ] {
            assert_eq!(verdict(s), Verdict::Retry, "{s:?}");
        }
    }

    #[test]
    fn retries_grow_and_span_more_than_a_day_then_stop() {
        assert_eq!(next_delay(0), None, "no failure, no retry");
        assert_eq!(next_delay(1), Some(10));
        let total: u32 = (1..).map_while(next_delay).sum();
        assert!(total > 24 * 3600, "{total} s");
        assert!(RETRY_DELAYS_SECS.windows(2).all(|w| w[0] <= w[1]));
        assert!(RETRY_DELAYS_SECS.iter().all(|d| *d <= 12 * 3600));
        assert_eq!(next_delay(RETRY_DELAYS_SECS.len() as u32 + 1), None);
    }
}
