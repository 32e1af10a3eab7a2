//! What a delivery's answer means, and when a failed delivery is tried again: at least once,
//! each event on its own schedule, with the retries spread over more than 24 hours so that a
//! receiver down for a day still gets everything (any 2xx is success, 410 disables the
//! endpoint, a redirect is a failure). One event's failure never holds another back; only
//! sustained failure of every attempt does ([`super::circuit`]).

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

/// What becomes of a delivery after one attempt, or after being held back unsent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    /// 410: the endpoint is disabled.
    Gone,
    /// Sent again after `delay_secs`, with `attempts` failed attempts behind it.
    Retry {
        attempts: u32,
        delay_secs: u32,
        reason: String,
    },
    /// The schedule is spent after `attempts` failed attempts: a dead letter.
    Dead {
        attempts: u32,
        reason: String,
    },
}

/// The fate of a delivery with `attempts_before` failed attempts, whose attempt now answered
/// `status` (`None`: no answer, or not sent) for `reason`, on `schedule`.
pub fn fate(status: Option<u16>, reason: String, attempts_before: u32, schedule: &[u32]) -> Fate {
    match verdict(status) {
        Verdict::Delivered => Fate::Delivered,
        Verdict::Disable => Fate::Gone,
        Verdict::Retry => {
            let attempts = attempts_before.saturating_add(1);
            match next_delay_in(schedule, attempts) {
                Some(delay_secs) => Fate::Retry {
                    attempts,
                    delay_secs,
                    reason,
                },
                None => Fate::Dead { attempts, reason },
            }
        }
    }
}

/// Why a status is a failure, as the endpoint's status shows it: a redirect is not followed
/// (the signed event with the shopper's ids must not reach an address nobody registered).
pub fn reason(status: u16) -> String {
    if (300..400).contains(&status) {
        format!("HTTP {status}: redirects are not followed")
    } else {
        format!("HTTP {status}")
    }
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
    fn each_delivery_keeps_its_own_schedule_until_it_is_spent() {
        let schedule = [1, 5];
        let retry = |attempts, delay_secs| Fate::Retry {
            attempts,
            delay_secs,
            reason: "HTTP 503".into(),
        };
        assert_eq!(
            fate(Some(204), "HTTP 204".into(), 1, &schedule),
            Fate::Delivered
        );
        assert_eq!(fate(Some(410), "HTTP 410".into(), 0, &schedule), Fate::Gone);
        assert_eq!(
            fate(Some(503), "HTTP 503".into(), 0, &schedule),
            retry(1, 1)
        );
        assert_eq!(
            fate(Some(503), "HTTP 503".into(), 1, &schedule),
            retry(2, 5)
        );
        assert_eq!(
            fate(None, "timeout".into(), 2, &schedule),
            Fate::Dead {
                attempts: 3,
                reason: "timeout".into()
            }
        );
    }

    #[test]
    fn a_redirect_is_a_failure_that_says_it_was_not_followed() {
        for s in [301, 302, 303, 307, 308] {
            assert_eq!(verdict(Some(s)), Verdict::Retry, "{s}");
            assert!(reason(s).ends_with("redirects are not followed"), "{s}");
        }
        assert_eq!(reason(503), "HTTP 503");
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
