//! Talking to members: the walk along a subject's chain of member numbers (see
//! [`crate::members`]), linking a new channel with a link code, and the member operations of the
//! card and admin routes. Every decision is the `Member` object's; this only routes the calls.

use worker::Env;

use crate::codes::LinkCode;
use crate::consent::{Action, Subject};
use crate::error::Error;
use crate::ids::MemberNumber;
use crate::ledger;
use crate::log::{EventLog, Level};
use crate::members::{
    AlsoApplied, Answer, Applied, Change, Request as Ask, SubjectRef, CHAIN_LENGTH,
};

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
/// only looks the subject up (`None`: no member). `aliases`: other ids the platform showed for
/// the same person (see [`unite`]).
pub async fn apply(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
    aliases: &[Subject],
    change: Option<Change>,
    link: Option<&LinkCode>,
    request_id: &str,
) -> Result<Option<Applied>, Error> {
    let sref = subject_ref(pseudonym_key, subject);
    if let (Some(code), Some(change)) = (link, &change) {
        if let Some(applied) =
            try_link(env, pseudonym_key, subject, &sref, code, change, request_id).await?
        {
            if !aliases.is_empty() {
                unite(env, pseudonym_key, subject, aliases, None, request_id).await?;
            }
            return Ok(Some(applied));
        }
    }
    let arefs: Vec<SubjectRef> = aliases
        .iter()
        .map(|a| subject_ref(pseudonym_key, a))
        .collect();
    match walk(env, pseudonym_key, subject, &sref, &arefs, change.clone()).await? {
        Walked::Applied(applied) => Ok(Some(applied)),
        Walked::Unknown => Ok(None),
        Walked::Unaliased => unite(env, pseudonym_key, subject, aliases, change, request_id).await,
    }
}

/// What a walk along a subject's chain came to.
enum Walked {
    Applied(Applied),
    Unknown,
    /// The subject's person does not yet know every alias given.
    Unaliased,
}

/// Walks the subject's chain: its own row, a pointer to its member, or a free slot.
async fn walk(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
    sref: &SubjectRef,
    aliases: &[SubjectRef],
    change: Option<Change>,
) -> Result<Walked, Error> {
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
                aliases: aliases.to_vec(),
            },
        )
        .await?;
        match answer {
            Answer::Applied(applied) => return Ok(Walked::Applied(applied)),
            Answer::Unknown => return Ok(Walked::Unknown),
            Answer::Unaliased { .. } => return Ok(Walked::Unaliased),
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
                                aliases: aliases.to_vec(),
                            },
                        )
                        .await?
                    }
                    None => look_up_linked(env, member, sref, aliases).await?,
                };
                match answer {
                    Answer::Applied(applied) => return Ok(Walked::Applied(applied)),
                    Answer::Unaliased { .. } => return Ok(Walked::Unaliased),
                    // The member was erased (or never took the link): the pointer is stale.
                    Answer::NotLinked if stale_pointers == 0 => {
                        stale_pointers += 1;
                        remove_pointer(env, number, sref, member).await?;
                    }
                    other => return Err(unexpected(&other)),
                }
            }
            other => return Err(unexpected(&other)),
        }
    }
    Err(Error::internal("member number chain exhausted"))
}

/// The member a subject belongs to, if any (a look-up: nothing changes).
async fn member_of(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
) -> Result<Option<MemberNumber>, Error> {
    let sref = subject_ref(pseudonym_key, subject);
    Ok(
        match walk(env, pseudonym_key, subject, &sref, &[], None).await? {
            Walked::Applied(applied) => Some(applied.member),
            _ => None,
        },
    )
}

/// Makes the subject and its aliases one person, then applies the change (the rare path: once
/// per person and id). Each id is looked up; the ids no member knows join the member of the
/// subject (else of the first alias that has one; else a member founded for the subject), each
/// with a pointer in its own chain. Ids already on *another* member are left there (two
/// members are never merged: their coupons and redemptions stay apart), and a second
/// business-scoped id is refused ([`Ask::AddAlias`]): a recycled phone number. Whatever is not
/// united, a **withdrawal** still reaches every member any of the ids belongs to — when in
/// doubt, do not message — while a grant only reaches the subject's own. One reply: the
/// subject's.
pub async fn unite(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
    aliases: &[Subject],
    change: Option<Change>,
    request_id: &str,
) -> Result<Option<Applied>, Error> {
    let ids: Vec<&Subject> = std::iter::once(subject).chain(aliases).collect();
    let mut known = Vec::with_capacity(ids.len());
    for id in &ids {
        known.push(member_of(env, pseudonym_key, id).await?);
    }
    let mut founded = None;
    let target = match known.iter().find_map(|m| *m) {
        Some(member) => member,
        None => {
            let Some(change) = change.clone() else {
                return Ok(None);
            };
            let applied = apply_alone(env, pseudonym_key, subject, change).await?;
            known[0] = Some(applied.member);
            let member = applied.member;
            founded = Some(applied);
            member
        }
    };
    let anchor = ids
        .iter()
        .zip(&known)
        .find(|(_, m)| **m == Some(target))
        .map(|(id, _)| subject_ref(pseudonym_key, id).pseudonym)
        .ok_or_else(|| Error::internal("no id of the person on its member"))?;
    let mut left_alone = 0;
    for (id, member) in ids.iter().zip(&known) {
        match member {
            Some(m) if *m == target => {}
            Some(_) => left_alone += 1,
            None => {
                let attach = Attach {
                    anchor: &anchor,
                    member: target,
                    renumbered: false,
                    promote: false,
                };
                if !attach.run(env, pseudonym_key, id, request_id).await? {
                    left_alone += 1;
                }
            }
        }
    }
    if left_alone > 0 {
        log_warn(
            request_id,
            "whatsapp ids of one person not united",
            format!("{left_alone} id(s) left on their own"),
        );
    }
    let Some(change) = change else {
        return Ok(None);
    };
    let mut applied = match founded {
        Some(applied) => applied,
        None => apply_alone(env, pseudonym_key, subject, change.clone()).await?,
    };
    if change.action == Action::Withdrawn {
        // Every other member any id is on now (looked up again: an attach may have been
        // refused, or raced), each reached through an id it knows, under its own event id.
        let mut reached = vec![applied.member];
        for id in &ids {
            let Some(member) = member_of(env, pseudonym_key, id).await? else {
                continue;
            };
            if reached.contains(&member) {
                continue;
            }
            reached.push(member);
            let mut own = change.clone();
            own.event_id = format!("{}.{member}", change.event_id);
            let also = apply_alone(env, pseudonym_key, id, own.clone()).await?;
            applied.also.push(AlsoApplied {
                member: also.member,
                user_id: id.user_id.clone(),
                event_id: own.event_id,
                pseudonyms: also.pseudonyms,
                duplicate: also.duplicate,
                purpose: also.purpose,
            });
        }
    }
    Ok(Some(applied))
}

/// Applies a change to the member of this id alone (no aliases given).
async fn apply_alone(
    env: &Env,
    pseudonym_key: &[u8],
    id: &Subject,
    change: Change,
) -> Result<Applied, Error> {
    let sref = subject_ref(pseudonym_key, id);
    match walk(env, pseudonym_key, id, &sref, &[], Some(change)).await? {
        Walked::Applied(applied) => Ok(applied),
        _ => Err(Error::internal("a change found no member")),
    }
}

/// A WhatsApp number change: the person the old ids name (the subject, else the first alias a
/// member knows) also goes by `new_ids`, the first becoming its contact id. The person is found
/// by its *old* ids only: a new number that another member already knows was that member's
/// before (a reassigned number), and stays theirs. Nobody known: nothing to do.
pub async fn renumber(
    env: &Env,
    pseudonym_key: &[u8],
    old_ids: &[Subject],
    new_ids: &[Subject],
    request_id: &str,
) -> Result<(), Error> {
    let mut person = None;
    let mut unknown_old = Vec::new();
    for id in old_ids {
        match (member_of(env, pseudonym_key, id).await?, person.as_ref()) {
            (Some(member), None) => {
                person = Some((member, subject_ref(pseudonym_key, id).pseudonym));
            }
            (None, _) => unknown_old.push(id),
            (Some(_), Some(_)) => {}
        }
    }
    let Some((member, anchor)) = person else {
        return Ok(());
    };
    for id in unknown_old {
        let attach = Attach {
            anchor: &anchor,
            member,
            renumbered: true,
            promote: false,
        };
        attach.run(env, pseudonym_key, id, request_id).await?;
    }
    for (i, id) in new_ids.iter().enumerate() {
        let attach = Attach {
            anchor: &anchor,
            member,
            renumbered: true,
            promote: i == 0,
        };
        match member_of(env, pseudonym_key, id).await? {
            None => {
                attach.run(env, pseudonym_key, id, request_id).await?;
            }
            // Already the person's: only the contact id may change (`home` is then unused).
            Some(m) if m == member => {
                if attach.promote {
                    let add = Ask::AddAlias {
                        anchor: anchor.clone(),
                        alias: subject_ref(pseudonym_key, id),
                        home: m,
                        renumbered: true,
                        promote: true,
                    };
                    ask(env, member, &add).await?;
                }
            }
            Some(_) => log_warn(
                request_id,
                "a new whatsapp id already belongs to another member",
                "left there".into(),
            ),
        }
    }
    Ok(())
}

/// How an id joins a person.
struct Attach<'a> {
    /// A pseudonym the member knows the person by.
    anchor: &'a str,
    member: MemberNumber,
    renumbered: bool,
    promote: bool,
}

impl Attach<'_> {
    /// Places the id's pointer to the member in the first free slot of its chain, then records
    /// it as an alias of the person; `false` when either step is refused (the pointer is then
    /// removed).
    async fn run(
        &self,
        env: &Env,
        pseudonym_key: &[u8],
        id: &Subject,
        request_id: &str,
    ) -> Result<bool, Error> {
        let sref = subject_ref(pseudonym_key, id);
        let Some(home) = place_pointer(env, pseudonym_key, id, &sref, self.member).await? else {
            return Ok(false);
        };
        let add = Ask::AddAlias {
            anchor: self.anchor.to_owned(),
            alias: sref.clone(),
            home,
            renumbered: self.renumbered,
            promote: self.promote,
        };
        match ask(env, self.member, &add).await? {
            Answer::Aliased => Ok(true),
            other => {
                log_warn(request_id, "alias refused", format!("{other:?}"));
                remove_pointer(env, home, &sref, self.member).await?;
                Ok(false)
            }
        }
    }
}

/// Places the subject's pointer to `member` in the first free slot of its chain: the slot's
/// member number, or `None` when the chain already knows the subject.
async fn place_pointer(
    env: &Env,
    pseudonym_key: &[u8],
    subject: &Subject,
    sref: &SubjectRef,
    member: MemberNumber,
) -> Result<Option<MemberNumber>, Error> {
    for attempt in 0..CHAIN_LENGTH {
        let home = ledger::member_number_for(pseudonym_key, subject, attempt);
        let place = Ask::PlacePointer {
            subject: sref.clone(),
            member,
        };
        match ask(env, home, &place).await? {
            Answer::Next => continue,
            Answer::AlreadyKnown => return Ok(None),
            Answer::Placed => return Ok(Some(home)),
            other => return Err(unexpected(&other)),
        }
    }
    Err(Error::internal("member number chain exhausted"))
}

/// Removes the subject's pointer to `member` from the slot `home`.
async fn remove_pointer(
    env: &Env,
    home: MemberNumber,
    sref: &SubjectRef,
    member: MemberNumber,
) -> Result<(), Error> {
    let remove = Ask::RemovePointer {
        pseudonym: sref.pseudonym.clone(),
        member,
    };
    ask(env, home, &remove).await.map(drop)
}

fn log_warn(request_id: &str, msg: &'static str, detail: String) {
    let line = EventLog {
        level: Level::Warn,
        msg,
        request_id,
        detail: Some(detail),
    }
    .to_line();
    worker::console_log!("{line}");
}

/// A look-up through a pointer: the member's record, reduced to this subject's state.
async fn look_up_linked(
    env: &Env,
    member: MemberNumber,
    sref: &SubjectRef,
    aliases: &[SubjectRef],
) -> Result<Answer, Error> {
    match ask(env, member, &Ask::Get).await? {
        Answer::Member { member: record } => match record.subject(&sref.pseudonym) {
            Some(s) if !aliases.iter().all(|a| s.knows(&a.pseudonym)) => Ok(Answer::Unaliased {
                member: Some(record.number),
            }),
            Some(_) => Ok(Answer::Applied(crate::members::unchanged(
                &record,
                &sref.pseudonym,
            ))),
            None => Ok(Answer::NotLinked),
        },
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
    let Some(home) = place_pointer(env, pseudonym_key, subject, sref, code.member).await? else {
        return Ok(None);
    };
    let link = Ask::Link {
        subject: sref.clone(),
        home,
        code: code.clone(),
        change: change.clone(),
    };
    match ask(env, code.member, &link).await? {
        Answer::Applied(applied) => Ok(Some(applied)),
        Answer::LinkRefused { reason } => {
            log_warn(
                request_id,
                "link code refused; the account gets its own card",
                format!("{reason:?}"),
            );
            remove_pointer(env, home, sref, code.member).await?;
            Ok(None)
        }
        other => Err(unexpected(&other)),
    }
}
