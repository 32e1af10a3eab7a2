//! Talking to members: the walk along a subject's chain of member numbers (see
//! [`crate::members`]), linking a new channel with a link code, and the member operations of the
//! card and admin routes. Every decision is the `Member` object's; this only routes the calls.

use worker::Env;

use crate::codes::LinkCode;
use crate::consent::Subject;
use crate::error::Error;
use crate::ids::MemberNumber;
use crate::ledger;
use crate::log::{EventLog, Level};
use crate::members::{Answer, Applied, Change, Request as Ask, SubjectRef, CHAIN_LENGTH};

/// Asks the object of member number `number`.
pub async fn ask(env: &Env, number: MemberNumber, request: &Ask) -> Result<Answer, Error> {
    super::objects::call(env, "MEMBERS", &number.to_string(), request).await
}

fn unexpected(answer: &Answer) -> Error {
    Error::internal(format!("member object: unexpected answer {answer:?}"))
}

/// The subject as the objects see it.
pub fn subject_ref(pseudonym_key: &[u8], subject: &Subject) -> SubjectRef {
    SubjectRef {
        pseudonym: ledger::subject_pseudonym(pseudonym_key, subject),
        channel: subject.channel,
        user_id: subject.user_id.clone(),
    }
}

/// Applies a change to the subject's member, founding one for a subject seen for the first
/// time; with a valid link code, a new subject joins the code's member instead. With no change,
/// only looks the subject up (`None`: no member).
pub async fn apply(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
    change: Option<Change>,
    link: Option<&LinkCode>,
    request_id: &str,
) -> Result<Option<Applied>, Error> {
    let sref = subject_ref(pseudonym_key, subject);
    if let (Some(code), Some(change)) = (link, &change) {
        if let Some(applied) =
            try_link(env, pseudonym_key, subject, &sref, code, change, request_id).await?
        {
            return Ok(Some(applied));
        }
    }
    let mut attempt = 0;
    let mut stale_pointers = 0;
    while attempt < CHAIN_LENGTH {
        let number = ledger::member_number_for(pseudonym_key, subject, attempt);
        let answer = ask(
            env,
            number,
            &Ask::Resolve {
                slot: number,
                subject: sref.clone(),
                change: change.clone(),
            },
        )
        .await?;
        match answer {
            Answer::Applied(applied) => return Ok(Some(applied)),
            Answer::Unknown => return Ok(None),
            Answer::Next => attempt += 1,
            Answer::Elsewhere { member } => {
                let answer = match &change {
                    Some(change) => {
                        ask(
                            env,
                            member,
                            &Ask::ApplyLinked {
                                subject: sref.clone(),
                                change: change.clone(),
                            },
                        )
                        .await?
                    }
                    None => look_up_linked(env, member, &sref).await?,
                };
                match answer {
                    Answer::Applied(applied) => return Ok(Some(applied)),
                    // The member was erased (or never took the link): the pointer is stale.
                    Answer::NotLinked if stale_pointers == 0 => {
                        stale_pointers += 1;
                        let remove = Ask::RemovePointer {
                            pseudonym: sref.pseudonym.clone(),
                            member,
                        };
                        ask(env, number, &remove).await?;
                    }
                    other => return Err(unexpected(&other)),
                }
            }
            other => return Err(unexpected(&other)),
        }
    }
    Err(Error::internal("member number chain exhausted"))
}

/// A look-up through a pointer: the member's record, reduced to this subject's state.
async fn look_up_linked(
    env: &Env,
    member: MemberNumber,
    sref: &SubjectRef,
) -> Result<Answer, Error> {
    match ask(env, member, &Ask::Get).await? {
        Answer::Member { member: record } => {
            if record
                .subjects
                .iter()
                .any(|s| s.pseudonym == sref.pseudonym)
            {
                Ok(Answer::Applied(crate::members::unchanged(
                    &record,
                    &sref.pseudonym,
                )))
            } else {
                Ok(Answer::NotLinked)
            }
        }
        Answer::NoMember => Ok(Answer::NotLinked),
        other => Err(unexpected(&other)),
    }
}

/// Places the subject's pointer in the first free slot of its chain, then asks the code's member
/// to take the subject. `None`: the subject is already known, or the member refused (the change
/// then applies to the subject's own member, as any `JOIN`).
async fn try_link(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
    sref: &SubjectRef,
    code: &LinkCode,
    change: &Change,
    request_id: &str,
) -> Result<Option<Applied>, Error> {
    for attempt in 0..CHAIN_LENGTH {
        let home = ledger::member_number_for(pseudonym_key, subject, attempt);
        let place = Ask::PlacePointer {
            subject: sref.clone(),
            member: code.member,
        };
        match ask(env, home, &place).await? {
            Answer::Next => continue,
            Answer::AlreadyKnown => return Ok(None),
            Answer::Placed => {
                let link = Ask::Link {
                    subject: sref.clone(),
                    home,
                    code: code.clone(),
                    change: change.clone(),
                };
                return match ask(env, code.member, &link).await? {
                    Answer::Applied(applied) => Ok(Some(applied)),
                    Answer::LinkRefused { reason } => {
                        let line = EventLog {
                            level: Level::Warn,
                            msg: "link code refused; the account gets its own card",
                            request_id,
                            detail: Some(format!("{reason:?}")),
                        }
                        .to_line();
                        worker::console_log!("{line}");
                        let remove = Ask::RemovePointer {
                            pseudonym: sref.pseudonym.clone(),
                            member: code.member,
                        };
                        ask(env, home, &remove).await?;
                        Ok(None)
                    }
                    other => Err(unexpected(&other)),
                };
            }
            other => return Err(unexpected(&other)),
        }
    }
    Err(Error::internal("member number chain exhausted"))
}
