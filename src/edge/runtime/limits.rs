//! Rate limits, with the Workers Rate Limiting binding: per POS key id on `/api/pos/*`
//! ([`POS`]) and per card on the card's POST routes ([`CARD`]), each over the limit and period
//! set in `wrangler.toml` (`[[ratelimits]]`). Past it: 429 `rate_limited` with `Retry-After`.
//! The binding counts per Cloudflare location and forgets after the period: it bounds what one
//! leaked key or one card can cost, it is not an exact quota.
//!
//! Where the binding is not configured (the benchmark's plain workerd) nothing is limited; if
//! the limiter itself fails, the request goes on (a till must not stop for a counter) and the
//! failure is logged.

use worker::Env;

use optin_core::error::Error;
use optin_core::log::{EventLog, Level};

/// The POS keys' limiter: the period of its `simple` rule in `wrangler.toml`.
pub const POS: (&str, u32) = ("POS_LIMITER", 60);
/// The cards' limiter (stop, favourite store).
pub const CARD: (&str, u32) = ("CARD_LIMITER", 60);

/// Counts one request of `key` against `limiter`.
///
/// # Errors
/// [`Error::TooManyRequests`] past the limit, with the period as the wait (a fixed window ends
/// within it).
pub async fn check(env: &Env, (binding, period_secs): (&str, u32), key: &str) -> Result<(), Error> {
    let Ok(limiter) = env.rate_limiter(binding) else {
        return Ok(());
    };
    match limiter.limit(key.to_owned()).await {
        Ok(outcome) if !outcome.success => Err(Error::TooManyRequests {
            retry_after_secs: period_secs,
        }),
        Ok(_) => Ok(()),
        Err(e) => {
            let line = EventLog {
                level: Level::Error,
                msg: "rate limiter failed; request let through",
                request_id: "-",
                detail: Some(format!("{binding}: {e}")),
            }
            .to_line();
            worker::console_error!("{line}");
            Ok(())
        }
    }
}
