//! An endpoint's circuit breaker. A receiver that fails now and then gets every event on its own
//! retry schedule and the others at once; only a receiver that has failed **every** attempt for
//! [`OPEN_AFTER_MS`] (and at least [`OPEN_AFTER_FAILURES`] in a row) is treated as down. While it
//! is down, each batch tries one delivery (the probe) and holds the rest back as failed
//! attempts that were not sent (they keep their own schedule, so a receiver down for a day still
//! gets everything, or the events become dead letters an admin can replay). The first success
//! closes the circuit, and the rest of that batch is tried at once.
//!
//! The rule follows what Svix and Hookdeck document: failures of single events never pause an
//! endpoint; only sustained failure does, and then it is probed rather than hammered.

use serde::{Deserialize, Serialize};

/// How long every attempt must have failed before the circuit opens.
pub const OPEN_AFTER_MS: u64 = 60_000;
/// How many failed attempts in a row, at least, open it.
pub const OPEN_AFTER_FAILURES: u32 = 5;

/// The run of failures an endpoint is in, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Circuit {
    /// The first failed attempt since the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since_ms: Option<u64>,
    /// Failed attempts since the last success.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failures: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Which deliveries of a batch are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Every one, concurrently.
    All,
    /// The first alone; the rest only if it is delivered.
    Probe,
}

impl Circuit {
    /// Whether the receiver counts as down at `now_ms`.
    pub fn is_open(&self, now_ms: u64) -> bool {
        self.failures >= OPEN_AFTER_FAILURES
            && self
                .failing_since_ms
                .is_some_and(|t| now_ms.saturating_sub(t) >= OPEN_AFTER_MS)
    }

    /// How a batch is sent at `now_ms`.
    pub fn plan(&self, now_ms: u64) -> Plan {
        if self.is_open(now_ms) {
            Plan::Probe
        } else {
            Plan::All
        }
    }

    /// An attempt was delivered (or answered 410): the run of failures ends.
    pub fn succeeded(&mut self) {
        *self = Circuit::default();
    }

    /// An attempt made at `at_ms` failed.
    pub fn failed(&mut self, at_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        self.failing_since_ms = Some(self.failing_since_ms.map_or(at_ms, |t| t.min(at_ms)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_795_000_000_000;

    #[test]
    fn occasional_failures_never_open_the_circuit() {
        let mut c = Circuit::default();
        for i in 0..100u64 {
            // One attempt in five fails, for a long time.
            if i % 5 == 0 {
                c.failed(T + i * 1000);
            } else {
                c.succeeded();
            }
            assert_eq!(c.plan(T + i * 1000 + 500), Plan::All, "attempt {i}");
        }
    }

    #[test]
    fn every_attempt_failing_for_a_minute_opens_it_and_a_success_closes_it() {
        let mut c = Circuit::default();
        for i in 0..10u64 {
            c.failed(T + i * 1000);
        }
        assert!(!c.is_open(T + 59_999), "ten failures, but not yet a minute");
        assert_eq!(c.plan(T + OPEN_AFTER_MS), Plan::Probe);
        c.succeeded();
        assert_eq!(c.plan(T + OPEN_AFTER_MS), Plan::All);
        assert_eq!(c, Circuit::default());
    }

    #[test]
    fn a_minute_of_few_failures_is_not_enough() {
        let mut c = Circuit::default();
        c.failed(T);
        c.failed(T + 90_000);
        assert!(
            !c.is_open(T + 120_000),
            "two failed attempts in two minutes"
        );
        for _ in 0..3 {
            c.failed(T + 100_000);
        }
        assert!(c.is_open(T + 120_000));
    }

    #[test]
    fn reports_out_of_order_keep_the_earliest_failure() {
        let mut c = Circuit::default();
        c.failed(T + 5000);
        c.failed(T);
        assert_eq!(c.failing_since_ms, Some(T));
    }

    #[test]
    fn a_closed_circuit_is_stored_as_nothing() {
        assert_eq!(serde_json::to_string(&Circuit::default()).unwrap(), "{}");
        assert_eq!(
            serde_json::from_str::<Circuit>("{}").unwrap(),
            Circuit::default()
        );
    }
}
