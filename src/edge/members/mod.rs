//! Carries the member protocols' questions ([`optin_core::members::chain`]) to the `Member` Durable
//! Objects, and asks one member's object directly for the card, till and admin routes. Every
//! decision is the core's; this only routes the calls and logs what the protocols noticed.

pub(crate) mod card;
pub(crate) mod erasure;
pub(crate) mod evidence;
pub(crate) mod object;

use worker::Env;

use optin_core::codes::LinkCode;
use optin_core::consent::Subject;
use optin_core::conversation::Step;
use optin_core::error::Error;
use optin_core::ids::MemberNumber;
use optin_core::log::{EventLog, Level};
use optin_core::members::chain::{self, Protocol};
use optin_core::members::{Answer, Applied, Change, Request as Ask};

/// Asks the object of member number `number`.
pub async fn ask(env: &Env, number: MemberNumber, request: &Ask) -> Result<Answer, Error> {
    crate::edge::runtime::objects::call(env, "MEMBERS", &number.to_string(), request).await
}

/// Applies a change to the subject's member ([`chain::apply`]).
pub async fn apply(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
    aliases: &[Subject],
    change: Option<Change>,
    link: Option<&LinkCode>,
    request_id: &str,
) -> Result<Option<Applied>, Error> {
    let protocol = chain::apply(pseudonym_key, subject, aliases, change, link);
    drive(env, protocol, request_id).await
}

/// A WhatsApp number change ([`chain::renumber`]).
pub async fn renumber(
    env: &Env,
    pseudonym_key: &[u8],
    old_ids: &[Subject],
    new_ids: &[Subject],
    request_id: &str,
) -> Result<(), Error> {
    drive(
        env,
        chain::renumber(pseudonym_key, old_ids, new_ids),
        request_id,
    )
    .await
}

/// Asks the objects each question of `protocol` in turn; a failed call ends it.
async fn drive<T>(env: &Env, mut protocol: Protocol<'_, T>, request_id: &str) -> Result<T, Error> {
    let mut answer = None;
    loop {
        match protocol.step(answer.take()) {
            Step::Ask((number, request)) => answer = Some(ask(env, number, &request).await?),
            Step::Done(finished) => {
                for warning in finished.warnings {
                    let line = EventLog {
                        level: Level::Warn,
                        msg: warning.msg,
                        request_id,
                        detail: Some(warning.detail),
                    }
                    .to_line();
                    worker::console_log!("{line}");
                }
                return finished.result;
            }
        }
    }
}
