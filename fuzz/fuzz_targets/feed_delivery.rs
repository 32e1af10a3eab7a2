//! The feed's answer handling: arbitrary sequences of receiver answers (any status, none, or a
//! delivery held back) for one job, through `delivery::settle`, the circuit and the endpoint's
//! status. Never a panic; a job ends exactly on a 2xx, a 410 or a spent schedule; its attempts
//! only grow and it is never due before now; held-back deliveries never move the circuit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optin_core::feed::circuit::Circuit;
use optin_core::feed::delivery::{settle, Job, Next};
use optin_core::feed::endpoints::{DeliveryResult, Endpoint};
use optin_core::feed::retry::{reason, RETRY_DELAYS_SECS};
use optin_core::feed::signature::FeedSecret;

fuzz_target!(|data: &[u8]| {
    let t0: u64 = 1_795_000_000_000;
    let mut job = Job {
        event_id: "evt_fuzz".into(),
        time_ms: t0,
        attempts: 0,
        due_ms: t0,
    };
    let mut endpoint = Endpoint::new(
        "fe_fuzz".into(),
        "https://t.example".into(),
        FeedSecret::from_random([7; 32]),
        t0,
    );
    let mut now = t0;
    for chunk in data.chunks(3) {
        let (kind, hi, lo) = (chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0));
        now += u64::from(hi) * 1000;
        let status = u16::from_be_bytes([hi, lo]);
        let (answer, sent) = match kind % 3 {
            0 => ((Some(status), reason(status)), true),
            1 => ((None, "timeout".to_owned()), true),
            _ => ((None, "not sent: receiver down".to_owned()), false),
        };
        let circuit_before = endpoint.circuit;
        let (report, next) = settle(&job, answer.clone(), sent, now, &RETRY_DELAYS_SECS);
        endpoint.record(&report, now);
        if !sent {
            assert_eq!(endpoint.circuit, circuit_before, "held back never moves the circuit");
        }
        let ended = matches!(answer.0, Some(200..=299) | Some(410));
        match next {
            Next::Done => {
                let spent = matches!(report.result, DeliveryResult::Dead { .. });
                assert!(ended || spent, "a job ends on a 2xx, a 410 or a spent schedule");
                return;
            }
            Next::Again(again) => {
                assert!(!ended, "a 2xx or a 410 ends the job");
                assert_eq!(again.attempts, job.attempts + 1);
                assert!(again.due_ms >= now);
                job = again;
            }
        }
        let _ = Circuit::plan(&endpoint.circuit, now);
    }
});
