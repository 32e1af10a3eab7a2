//! One endpoint's deliveries, as its `Courier` object keeps them: a job per event waiting to go
//! there, due at a time, and what each attempt (or being held back by the circuit) makes of it.
//! The queue consumer only hands deliveries over; the courier sends them, retries each on its
//! own schedule ([`super::retry`]) and reports to the `Feeds` object. So no receiver, however
//! slow, holds up the queue or another endpoint: each has its own courier and its own timer.

use serde::{Deserialize, Serialize};

use super::endpoints::{DeliveryResult, Reported};
use super::queue::Delivery;
use super::retry::{fate, Fate};

/// The most deliveries one round of a courier sends: a round is one invocation, and each
/// delivery is a subrequest.
pub const ROUND_MAX: usize = 50;

/// A delivery waiting in an endpoint's courier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub event_id: String,
    /// The event's time: it names the log month that holds the body.
    pub time_ms: u64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When it is sent next.
    pub due_ms: u64,
}

impl Job {
    /// A delivery handed over at `now_ms`: due at once.
    pub fn of(d: &Delivery, now_ms: u64) -> Job {
        Job {
            event_id: d.event_id.clone(),
            time_ms: d.time_ms,
            attempts: d.attempts,
            due_ms: now_ms,
        }
    }
}

/// How an attempt went: the status, or none and why.
pub type Answer = (Option<u16>, String);

/// What becomes of a job after a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Delivered, dead or gone: out of the courier.
    Done,
    /// Sent again at `job.due_ms`.
    Again(Job),
}

/// The report and the next step of `job` after `answer` at `now_ms`. `sent` is false for a job
/// the circuit held back (it counts against the job's schedule, not against the receiver).
pub fn settle(
    job: &Job,
    answer: Answer,
    sent: bool,
    now_ms: u64,
    schedule: &[u32],
) -> (Reported, Next) {
    let report = |attempts, result| Reported {
        event_id: job.event_id.clone(),
        time_ms: job.time_ms,
        attempts,
        sent,
        result,
    };
    let (status, reason) = answer;
    match fate(status, reason, job.attempts, schedule) {
        Fate::Delivered => (report(job.attempts, DeliveryResult::Delivered), Next::Done),
        Fate::Gone => (report(job.attempts, DeliveryResult::Gone), Next::Done),
        Fate::Dead { attempts, reason } => (
            report(attempts, DeliveryResult::Dead { reason }),
            Next::Done,
        ),
        Fate::Retry {
            attempts,
            delay_secs,
            reason,
        } => (
            report(job.attempts, DeliveryResult::Failed { reason }),
            Next::Again(Job {
                attempts,
                due_ms: now_ms + u64::from(delay_secs) * 1000,
                ..job.clone()
            }),
        ),
    }
}

/// The report of a job whose event is no longer in the log (its month was deleted under it):
/// dead, without an attempt.
pub fn missing(job: &Job) -> Reported {
    Reported {
        event_id: job.event_id.clone(),
        time_ms: job.time_ms,
        attempts: job.attempts,
        sent: false,
        result: DeliveryResult::Dead {
            reason: "event missing from the log".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_795_000_000_000;

    fn job(attempts: u32) -> Job {
        Job {
            event_id: "evt_1".into(),
            time_ms: T - 5,
            attempts,
            due_ms: T,
        }
    }

    #[test]
    fn a_failed_attempt_is_due_again_after_its_own_delay() {
        let (report, next) = settle(&job(0), (Some(503), "HTTP 503".into()), true, T, &[10, 30]);
        assert_eq!(
            report.result,
            DeliveryResult::Failed {
                reason: "HTTP 503".into()
            }
        );
        assert!(report.sent);
        assert_eq!(
            next,
            Next::Again(Job {
                attempts: 1,
                due_ms: T + 10_000,
                ..job(0)
            })
        );
        let (_, next) = settle(&job(1), (None, "timeout".into()), true, T, &[10, 30]);
        assert!(
            matches!(next, Next::Again(Job { attempts: 2, due_ms, .. }) if due_ms == T + 30_000)
        );
    }

    #[test]
    fn delivered_gone_and_spent_jobs_leave_the_courier() {
        let delivered = settle(&job(3), (Some(204), "HTTP 204".into()), true, T, &[1]);
        assert_eq!(
            (delivered.0.result, delivered.1),
            (DeliveryResult::Delivered, Next::Done)
        );
        let gone = settle(&job(0), (Some(410), "HTTP 410".into()), true, T, &[1]);
        assert_eq!((gone.0.result, gone.1), (DeliveryResult::Gone, Next::Done));
        let (dead, next) = settle(&job(1), (Some(500), "HTTP 500".into()), true, T, &[1]);
        assert_eq!(next, Next::Done);
        assert_eq!(
            dead.attempts, 2,
            "a dead letter says how many attempts failed"
        );
    }

    #[test]
    fn a_held_back_job_keeps_its_schedule_and_is_reported_unsent() {
        let (report, next) = settle(
            &job(0),
            (None, "not sent: receiver down".into()),
            false,
            T,
            &[5],
        );
        assert!(!report.sent);
        assert!(matches!(next, Next::Again(Job { attempts: 1, .. })));
        assert!(
            !missing(&job(0)).sent,
            "a missing event is no attempt either"
        );
    }
}
