//! One endpoint's deliveries, as its `Courier` object keeps them: a job per event waiting to go
//! there, due at a time, and what each attempt (or being held back by the circuit) makes of it.
//! The queue consumer only hands deliveries over; the courier sends them, retries each on its
//! own schedule ([`super::retry`]) and reports to the `Feeds` object. So no receiver, however
//! slow, holds up the queue or another endpoint: each has its own courier and its own timer.

use serde::{Deserialize, Serialize};

use super::circuit::{Circuit, Plan};
use super::endpoints::{DeliveryResult, Reported};
use super::queue::Delivery;
use super::retry::{fate, verdict, Fate, Verdict};
use crate::conversation::{Asker, Conversation};

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

/// A round's question: POST these jobs (indexes into the round's jobs) and answer each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send(pub Vec<usize>);

/// The answers to a [`Send`], and when the last one came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub answers: Vec<(usize, Answer)>,
    pub done_ms: u64,
}

/// What a round comes to: a report per job, each job's next step, and whether the endpoint is
/// gone (a 410: every job left in the courier goes too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub reports: Vec<Reported>,
    pub next: Vec<(usize, Next)>,
    pub gone: bool,
}

/// One round of a courier over its due `jobs` (at most [`ROUND_MAX`], each with its body at
/// hand): every job at once while the receiver's circuit is closed; while it is open, the first
/// alone as a probe, and the rest only if the probe is delivered — else they are held back
/// unsent, on their own schedule. The edge answers each [`Send`] by POSTing.
pub fn round<'a>(
    jobs: &'a [Job],
    circuit: Circuit,
    now_ms: u64,
    schedule: &'a [u32],
) -> Conversation<'a, Send, Sent, Settled> {
    Conversation::new(move |sender: Asker<Send, Sent>| async move {
        let mut to_send: Vec<usize> = (0..jobs.len()).collect();
        let mut answers: Vec<(usize, Answer, bool)> = Vec::new();
        let mut done_ms = now_ms;
        if circuit.plan(now_ms) == Plan::Probe && !to_send.is_empty() {
            let rest = to_send.split_off(1);
            let probe = sender.ask(Send(to_send)).await;
            done_ms = probe.done_ms;
            let up = probe
                .answers
                .iter()
                .any(|(_, (status, _))| verdict(*status) == Verdict::Delivered);
            answers.extend(probe.answers.into_iter().map(|(i, a)| (i, a, true)));
            if up {
                to_send = rest;
            } else {
                let since = circuit
                    .failing_since_ms
                    .map(crate::time::format_rfc3339)
                    .unwrap_or_default();
                let held = format!("not sent: receiver down since {since}");
                answers.extend(rest.into_iter().map(|i| (i, (None, held.clone()), false)));
                to_send = Vec::new();
            }
        }
        if !to_send.is_empty() {
            let sent = sender.ask(Send(to_send)).await;
            done_ms = sent.done_ms;
            answers.extend(sent.answers.into_iter().map(|(i, a)| (i, a, true)));
        }
        let mut settled = Settled {
            reports: Vec::with_capacity(answers.len()),
            next: Vec::with_capacity(answers.len()),
            gone: false,
        };
        for (i, answer, sent) in answers {
            let (report, next) = settle(&jobs[i], answer, sent, done_ms, schedule);
            settled.gone |= report.result == DeliveryResult::Gone;
            settled.reports.push(report);
            settled.next.push((i, next));
        }
        settled
    })
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

    fn jobs(n: usize) -> Vec<Job> {
        (0..n)
            .map(|i| Job {
                event_id: format!("evt_{i}"),
                ..job(0)
            })
            .collect()
    }

    fn open_circuit() -> Circuit {
        Circuit {
            failing_since_ms: Some(T - 120_000),
            failures: 9,
        }
    }

    /// Runs a round against a receiver answering `status` to every POST; the batches sent.
    fn run(jobs: &[Job], circuit: Circuit, status: u16) -> (Vec<Vec<usize>>, Settled) {
        let mut batches = Vec::new();
        let settled = round(jobs, circuit, T, &[10]).run(|Send(batch)| {
            batches.push(batch.clone());
            Sent {
                answers: batch
                    .into_iter()
                    .map(|i| (i, (Some(status), format!("HTTP {status}"))))
                    .collect(),
                done_ms: T + 5,
            }
        });
        (batches, settled)
    }

    #[test]
    fn a_round_with_a_closed_circuit_sends_every_job_at_once() {
        let (batches, settled) = run(&jobs(3), Circuit::default(), 204);
        assert_eq!(batches, [vec![0, 1, 2]]);
        assert!(settled.next.iter().all(|(_, n)| *n == Next::Done));
        assert!(settled
            .reports
            .iter()
            .all(|r| r.sent && r.result == DeliveryResult::Delivered));
        assert!(!settled.gone);
    }

    #[test]
    fn a_round_with_an_open_circuit_probes_with_one_then_sends_the_rest_once_it_is_up() {
        let (batches, settled) = run(&jobs(3), open_circuit(), 200);
        assert_eq!(batches, [vec![0], vec![1, 2]]);
        assert_eq!(settled.reports.len(), 3);
        assert!(settled.reports.iter().all(|r| r.sent));
    }

    #[test]
    fn a_failed_probe_holds_the_rest_back_unsent_on_their_own_schedule() {
        let (batches, settled) = run(&jobs(3), open_circuit(), 503);
        assert_eq!(
            batches,
            [vec![0]],
            "nothing but the probe reaches a receiver down"
        );
        let unsent: Vec<&Reported> = settled.reports.iter().filter(|r| !r.sent).collect();
        assert_eq!(unsent.len(), 2);
        assert!(matches!(
            &unsent[0].result,
            DeliveryResult::Failed { reason } if reason.starts_with("not sent: receiver down since ")
        ));
        for (_, next) in &settled.next {
            assert!(
                matches!(next, Next::Again(j) if j.due_ms == T + 5 + 10_000 && j.attempts == 1)
            );
        }
    }

    #[test]
    fn a_410_in_a_round_says_the_endpoint_is_gone() {
        let (_, settled) = run(&jobs(2), Circuit::default(), 410);
        assert!(settled.gone);
        assert!(settled.next.iter().all(|(_, n)| *n == Next::Done));
    }

    #[test]
    fn an_empty_round_sends_nothing() {
        let (batches, settled) = run(&[], open_circuit(), 200);
        assert!(batches.is_empty() && settled.reports.is_empty());
    }
}
