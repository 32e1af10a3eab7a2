//! Drives an erasure's steps ([`optin_core::evidence::erasure`]) inside the erased member's object:
//! as many as one invocation's KV budget allows (or a smaller share of it, for the request that
//! answers the admin), saving the progress after each.

use worker::Env;

use crate::edge::ledger_store;
use crate::edge::members;
use crate::edge::runtime::kv::{put_json, Kv};
use optin_core::error::Error;
use optin_core::evidence::erasure::{Erasure, Step};
use optin_core::members::{Answer, Request as Ask};

/// Entries one redaction step rewrites at most: a step costs at most `1 + 2 × PAGE` operations.
pub const PAGE: u32 = 200;
/// The smallest redaction step worth an invocation's last operations.
const SMALLEST_STEP: u32 = 10;

/// Runs steps of `job` until it is complete or the KV operations left (of the budget, and of
/// `ops_cap`) would not cover another step; `save` keeps the progress after each step.
pub async fn advance(
    env: &Env,
    kv: &Kv,
    job: &mut Erasure,
    ops_cap: u32,
    save: impl Fn(&Erasure) -> Result<(), Error>,
) -> Result<(), Error> {
    let left = || kv.left().min(ops_cap.saturating_sub(kv.used()));
    loop {
        match job.next() {
            Step::Done => return Ok(()),
            Step::Redact {
                index,
                pseudonym,
                cursor,
            } => {
                // One for the list, two per entry, one kept for the record.
                let entries = (left().saturating_sub(2) / 2).min(PAGE);
                if entries < SMALLEST_STEP {
                    return Ok(());
                }
                let resumed = cursor.is_some();
                match ledger_store::redact_step(
                    kv,
                    &pseudonym,
                    cursor,
                    entries,
                    job.member,
                    job.erased_at_ms,
                )
                .await
                {
                    Ok(step) => job.redacted(index, step.rewritten, step.cursor),
                    // A saved list cursor the store refuses: the subject starts over (what
                    // was rewritten is skipped, for a read each); the error stands, so the next
                    // pass comes after the retry delay.
                    Err(e)
                        if resumed && e.log_detail().is_some_and(|d| d.starts_with("kv list")) =>
                    {
                        job.restart(index);
                        save(job)?;
                        log_restart(&e);
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            Step::RemovePointer {
                index,
                pseudonym,
                home,
            } => {
                let remove = Ask::RemovePointer {
                    pseudonym,
                    member: job.member,
                };
                match members::ask(env, home, &remove).await? {
                    Answer::Removed => job.pointer_removed(index),
                    other => {
                        return Err(Error::internal(format!(
                            "pointer removal answered {other:?}"
                        )))
                    }
                }
            }
            Step::Record => {
                if left() < 1 {
                    return Ok(());
                }
                // The record says complete: write it first, then mark it written.
                let mut done = job.clone();
                done.mark_recorded();
                let key = optin_core::consent::ledger::erasure_key(job.member, job.erased_at_ms);
                put_json(kv, &key, &done.record()).await?;
                job.mark_recorded();
            }
        }
        save(job)?;
    }
}

fn log_restart(e: &Error) {
    let line = optin_core::log::EventLog {
        level: optin_core::log::Level::Warn,
        msg: "erasure: a saved list cursor was refused; the subject starts over",
        request_id: "-",
        detail: e.log_detail(),
    }
    .to_line();
    worker::console_warn!("{line}");
}
