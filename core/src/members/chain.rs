//! The multi-object protocols of members, with no I/O: the walk along a subject's chain of
//! member numbers, linking a new channel with a link code, uniting the ids of one WhatsApp
//! person ([`unite`]) and a WhatsApp number change ([`renumber`]). Each is a [`Conversation`]
//! that says which slot to ask what ([`super::Request`]) and takes the answer; every decision
//! inside one object is [`super::Slot::handle`]'s. The edge asks the `Member` Durable Objects.

use std::cell::RefCell;

use super::{AlsoApplied, Answer, Applied, Change, Request, SubjectRef, CHAIN_LENGTH};
use crate::codes::LinkCode;
use crate::consent::ledger;
use crate::consent::{Action, Subject};
use crate::conversation::{Asker, Conversation};
use crate::error::Error;
use crate::ids::MemberNumber;

/// A question: the slot (member number) to ask, and what.
pub type Question = (MemberNumber, Request);

/// A member protocol, driven by the edge or a simulation.
pub type Protocol<'a, T> = Conversation<'a, Question, Answer, Finished<T>>;

/// Something worth a log line that does not stop the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub msg: &'static str,
    pub detail: String,
}

/// How a protocol ended, and what it noticed on the way.
#[derive(Debug)]
pub struct Finished<T> {
    pub result: Result<T, Error>,
    pub warnings: Vec<Warning>,
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
pub fn apply<'a>(
    pseudonym_key: &'a [u8],
    subject: &'a Subject,
    aliases: &'a [Subject],
    change: Option<Change>,
    link: Option<&'a LinkCode>,
) -> Protocol<'a, Option<Applied>> {
    Conversation::new(move |objects| async move {
        let chain = Chain::new(objects, pseudonym_key);
        let result = chain.apply(subject, aliases, change, link).await;
        chain.finish(result)
    })
}

/// Makes the subject and its aliases one person, then applies the change (the rare path: once
/// per person and id). Each id is looked up; the ids no member knows join the member of the
/// subject (else of the first alias that has one; else a member founded for the subject), each
/// with a pointer in its own chain. Ids already on *another* member are left there (two
/// members are never merged: their coupons and redemptions stay apart), and a second
/// business-scoped id is refused ([`Request::AddAlias`]): a recycled phone number. Whatever is
/// not united, a **withdrawal** still reaches every member any of the ids belongs to — when in
/// doubt, do not message — while a grant only reaches the subject's own. One reply: the
/// subject's.
pub fn unite<'a>(
    pseudonym_key: &'a [u8],
    subject: &'a Subject,
    aliases: &'a [Subject],
    change: Option<Change>,
) -> Protocol<'a, Option<Applied>> {
    Conversation::new(move |objects| async move {
        let chain = Chain::new(objects, pseudonym_key);
        let result = chain.unite(subject, aliases, change).await;
        chain.finish(result)
    })
}

/// A WhatsApp number change: the person the old ids name (the subject, else the first alias a
/// member knows) also goes by `new_ids`, the first becoming its contact id. The person is found
/// by its *old* ids only: a new number that another member already knows was that member's
/// before (a reassigned number), and stays theirs. Nobody known: nothing to do.
pub fn renumber<'a>(
    pseudonym_key: &'a [u8],
    old_ids: &'a [Subject],
    new_ids: &'a [Subject],
) -> Protocol<'a, ()> {
    Conversation::new(move |objects| async move {
        let chain = Chain::new(objects, pseudonym_key);
        let result = chain.renumber(old_ids, new_ids).await;
        chain.finish(result)
    })
}

/// What a walk along a subject's chain came to.
enum Walked {
    Applied(Applied),
    Unknown,
    /// The subject's person does not yet know every alias given.
    Unaliased,
}

/// How an id joins a person.
struct Attach<'a> {
    /// A pseudonym the member knows the person by.
    anchor: &'a str,
    member: MemberNumber,
    renumbered: bool,
    promote: bool,
}

struct Chain<'a> {
    objects: Asker<Question, Answer>,
    pseudonym_key: &'a [u8],
    warnings: RefCell<Vec<Warning>>,
}

fn unexpected(answer: &Answer) -> Error {
    Error::internal(format!("member object: unexpected answer {answer:?}"))
}

impl<'a> Chain<'a> {
    fn new(objects: Asker<Question, Answer>, pseudonym_key: &'a [u8]) -> Self {
        Chain {
            objects,
            pseudonym_key,
            warnings: RefCell::new(Vec::new()),
        }
    }

    fn finish<T>(self, result: Result<T, Error>) -> Finished<T> {
        Finished {
            result,
            warnings: self.warnings.into_inner(),
        }
    }

    async fn ask(&self, number: MemberNumber, request: Request) -> Answer {
        self.objects.ask((number, request)).await
    }

    fn warn(&self, msg: &'static str, detail: String) {
        self.warnings.borrow_mut().push(Warning { msg, detail });
    }

    fn sref(&self, subject: &Subject) -> SubjectRef {
        subject_ref(self.pseudonym_key, subject)
    }

    fn number(&self, subject: &Subject, attempt: u32) -> MemberNumber {
        ledger::member_number_for(self.pseudonym_key, subject, attempt)
    }

    async fn apply(
        &self,
        subject: &Subject,
        aliases: &[Subject],
        change: Option<Change>,
        link: Option<&LinkCode>,
    ) -> Result<Option<Applied>, Error> {
        let sref = self.sref(subject);
        if let (Some(code), Some(change)) = (link, &change) {
            if let Some(applied) = self.try_link(subject, &sref, code, change).await? {
                if !aliases.is_empty() {
                    self.unite(subject, aliases, None).await?;
                }
                return Ok(Some(applied));
            }
        }
        let arefs: Vec<SubjectRef> = aliases.iter().map(|a| self.sref(a)).collect();
        match self.walk(subject, &sref, &arefs, change.clone()).await? {
            Walked::Applied(applied) => Ok(Some(applied)),
            Walked::Unknown => Ok(None),
            Walked::Unaliased => self.unite(subject, aliases, change).await,
        }
    }

    /// Walks the subject's chain: its own row, a pointer to its member, or a free slot.
    async fn walk(
        &self,
        subject: &Subject,
        sref: &SubjectRef,
        aliases: &[SubjectRef],
        change: Option<Change>,
    ) -> Result<Walked, Error> {
        let mut attempt = 0;
        let mut stale_pointers = 0;
        while attempt < CHAIN_LENGTH {
            let number = self.number(subject, attempt);
            let resolve = Request::Resolve {
                slot: number,
                subject: sref.clone(),
                change: change.clone(),
                aliases: aliases.to_vec(),
            };
            match self.ask(number, resolve).await {
                Answer::Applied(applied) => return Ok(Walked::Applied(applied)),
                Answer::Unknown => return Ok(Walked::Unknown),
                Answer::Unaliased { .. } => return Ok(Walked::Unaliased),
                Answer::Next => attempt += 1,
                Answer::Elsewhere { member } => {
                    let answer = match &change {
                        Some(change) => {
                            let apply = Request::ApplyLinked {
                                subject: sref.clone(),
                                change: change.clone(),
                                aliases: aliases.to_vec(),
                            };
                            self.ask(member, apply).await
                        }
                        None => self.look_up_linked(member, sref, aliases).await?,
                    };
                    match answer {
                        Answer::Applied(applied) => return Ok(Walked::Applied(applied)),
                        Answer::Unaliased { .. } => return Ok(Walked::Unaliased),
                        // The member was erased (or never took the link): the pointer is stale.
                        Answer::NotLinked if stale_pointers == 0 => {
                            stale_pointers += 1;
                            self.remove_pointer(number, sref, member).await;
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
    async fn member_of(&self, subject: &Subject) -> Result<Option<MemberNumber>, Error> {
        let sref = self.sref(subject);
        Ok(match self.walk(subject, &sref, &[], None).await? {
            Walked::Applied(applied) => Some(applied.member),
            _ => None,
        })
    }

    async fn unite(
        &self,
        subject: &Subject,
        aliases: &[Subject],
        change: Option<Change>,
    ) -> Result<Option<Applied>, Error> {
        let ids: Vec<&Subject> = std::iter::once(subject).chain(aliases).collect();
        let mut known = Vec::with_capacity(ids.len());
        for id in &ids {
            known.push(self.member_of(id).await?);
        }
        let mut founded = None;
        let target = match known.iter().find_map(|m| *m) {
            Some(member) => member,
            None => {
                let Some(change) = change.clone() else {
                    return Ok(None);
                };
                let applied = self.apply_alone(subject, change).await?;
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
            .map(|(id, _)| self.sref(id).pseudonym)
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
                    if !self.attach(&attach, id).await? {
                        left_alone += 1;
                    }
                }
            }
        }
        if left_alone > 0 {
            self.warn(
                "whatsapp ids of one person not united",
                format!("{left_alone} id(s) left on their own"),
            );
        }
        let Some(change) = change else {
            return Ok(None);
        };
        let mut applied = match founded {
            Some(applied) => applied,
            None => self.apply_alone(subject, change.clone()).await?,
        };
        if change.action == Action::Withdrawn {
            // Every other member any id is on (looked up again: an attach may have been
            // refused, or raced), each reached through an id it knows, under its own event id.
            let mut reached = vec![applied.member];
            for id in &ids {
                let Some(member) = self.member_of(id).await? else {
                    continue;
                };
                if reached.contains(&member) {
                    continue;
                }
                reached.push(member);
                let mut own = change.clone();
                own.event_id = format!("{}.{member}", change.event_id);
                let also = self.apply_alone(id, own.clone()).await?;
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
    async fn apply_alone(&self, id: &Subject, change: Change) -> Result<Applied, Error> {
        let sref = self.sref(id);
        match self.walk(id, &sref, &[], Some(change)).await? {
            Walked::Applied(applied) => Ok(applied),
            _ => Err(Error::internal("a change found no member")),
        }
    }

    async fn renumber(&self, old_ids: &[Subject], new_ids: &[Subject]) -> Result<(), Error> {
        let mut person = None;
        let mut unknown_old = Vec::new();
        for id in old_ids {
            match (self.member_of(id).await?, person.as_ref()) {
                (Some(member), None) => person = Some((member, self.sref(id).pseudonym)),
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
            self.attach(&attach, id).await?;
        }
        for (i, id) in new_ids.iter().enumerate() {
            let attach = Attach {
                anchor: &anchor,
                member,
                renumbered: true,
                promote: i == 0,
            };
            match self.member_of(id).await? {
                None => {
                    self.attach(&attach, id).await?;
                }
                // Already the person's: only the contact id may change (`home` is then unused).
                Some(m) if m == member => {
                    if attach.promote {
                        let add = Request::AddAlias {
                            anchor: anchor.clone(),
                            alias: self.sref(id),
                            home: m,
                            renumbered: true,
                            promote: true,
                        };
                        self.ask(member, add).await;
                    }
                }
                Some(_) => self.warn(
                    "a new whatsapp id already belongs to another member",
                    "left there".into(),
                ),
            }
        }
        Ok(())
    }

    /// Places the id's pointer to the member in the first free slot of its chain, then records
    /// it as an alias of the person; `false` when either step is refused (the pointer is then
    /// removed).
    async fn attach(&self, how: &Attach<'_>, id: &Subject) -> Result<bool, Error> {
        let sref = self.sref(id);
        let Some(home) = self.place_pointer(id, &sref, how.member).await? else {
            return Ok(false);
        };
        let add = Request::AddAlias {
            anchor: how.anchor.to_owned(),
            alias: sref.clone(),
            home,
            renumbered: how.renumbered,
            promote: how.promote,
        };
        match self.ask(how.member, add).await {
            Answer::Aliased => Ok(true),
            other => {
                self.warn("alias refused", format!("{other:?}"));
                self.remove_pointer(home, &sref, how.member).await;
                Ok(false)
            }
        }
    }

    /// Places the subject's pointer to `member` in the first free slot of its chain: the slot's
    /// member number, or `None` when the chain already knows the subject.
    async fn place_pointer(
        &self,
        subject: &Subject,
        sref: &SubjectRef,
        member: MemberNumber,
    ) -> Result<Option<MemberNumber>, Error> {
        for attempt in 0..CHAIN_LENGTH {
            let home = self.number(subject, attempt);
            let place = Request::PlacePointer {
                subject: sref.clone(),
                member,
            };
            match self.ask(home, place).await {
                Answer::Next => continue,
                Answer::AlreadyKnown => return Ok(None),
                Answer::Placed => return Ok(Some(home)),
                other => return Err(unexpected(&other)),
            }
        }
        Err(Error::internal("member number chain exhausted"))
    }

    /// Removes the subject's pointer to `member` from the slot `home`.
    async fn remove_pointer(&self, home: MemberNumber, sref: &SubjectRef, member: MemberNumber) {
        let remove = Request::RemovePointer {
            pseudonym: sref.pseudonym.clone(),
            member,
        };
        self.ask(home, remove).await;
    }

    /// A look-up through a pointer: the member's record, reduced to this subject's state.
    async fn look_up_linked(
        &self,
        member: MemberNumber,
        sref: &SubjectRef,
        aliases: &[SubjectRef],
    ) -> Result<Answer, Error> {
        match self.ask(member, Request::Get).await {
            Answer::Member { member: record } => Ok(match record.subject(&sref.pseudonym) {
                Some(s) if !aliases.iter().all(|a| s.knows(&a.pseudonym)) => Answer::Unaliased {
                    member: Some(record.number),
                },
                Some(_) => Answer::Applied(super::unchanged(&record, &sref.pseudonym)),
                None => Answer::NotLinked,
            }),
            Answer::NoMember => Ok(Answer::NotLinked),
            other => Err(unexpected(&other)),
        }
    }

    /// Places the subject's pointer in the first free slot of its chain, then asks the code's
    /// member to take the subject. `None`: the subject is already known, or the member refused
    /// (the change then applies to the subject's own member, as any `JOIN`).
    async fn try_link(
        &self,
        subject: &Subject,
        sref: &SubjectRef,
        code: &LinkCode,
        change: &Change,
    ) -> Result<Option<Applied>, Error> {
        let Some(home) = self.place_pointer(subject, sref, code.member).await? else {
            return Ok(None);
        };
        let link = Request::Link {
            subject: sref.clone(),
            home,
            code: code.clone(),
            change: change.clone(),
        };
        match self.ask(code.member, link).await {
            Answer::Applied(applied) => Ok(Some(applied)),
            Answer::LinkRefused { reason } => {
                self.warn(
                    "link code refused; the account gets its own card",
                    format!("{reason:?}"),
                );
                self.remove_pointer(home, sref, code.member).await;
                Ok(None)
            }
            other => Err(unexpected(&other)),
        }
    }
}

/// The protocols against a simulation of the objects: the real [`super::Slot::handle`] behind
/// a map of member numbers, as each `Member` object would answer.
#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::consent::{Channel, ConsentState, Source};
    use crate::members::{MemberRecord, Slot};

    const KEY: &[u8] = b"simulation-pseudonym-key-0123456789";
    const NOW: u64 = 1_795_000_000_000;

    /// Every object, by member number; `asked` counts the calls.
    #[derive(Default)]
    struct Objects {
        slots: BTreeMap<MemberNumber, Slot>,
        asked: usize,
    }

    impl Objects {
        fn run<T>(&mut self, protocol: Protocol<'_, T>) -> Finished<T> {
            protocol.run(|(number, request)| {
                self.asked += 1;
                self.slots.entry(number).or_default().handle(request, NOW)
            })
        }

        fn apply(&mut self, subject: &Subject, aliases: &[Subject], change: Change) -> Applied {
            let finished = self.run(apply(KEY, subject, aliases, Some(change), None));
            finished
                .result
                .unwrap()
                .expect("a change always reaches a member")
        }

        fn member_of(&mut self, subject: &Subject) -> Option<MemberNumber> {
            let finished = self.run(apply(KEY, subject, &[], None, None));
            finished.result.unwrap().map(|a| a.member)
        }

        fn record(&self, member: MemberNumber) -> &MemberRecord {
            self.slots[&member].member.as_ref().expect("a member")
        }

        fn state(&self, member: MemberNumber, subject: &Subject) -> ConsentState {
            let pseudonym = subject_ref(KEY, subject).pseudonym;
            self.record(member)
                .subject(&pseudonym)
                .map_or(ConsentState::Unknown, |s| s.state())
        }

        fn members(&self) -> usize {
            self.slots.values().filter(|s| s.member.is_some()).count()
        }

        fn pointer_to(&self, subject: &Subject) -> Option<MemberNumber> {
            let pseudonym = subject_ref(KEY, subject).pseudonym;
            self.slots
                .values()
                .find_map(|s| s.pointers.get(&pseudonym).copied())
        }
    }

    fn line(id: &str) -> Subject {
        Subject::new(Channel::Line, id)
    }

    fn whatsapp(id: &str) -> Subject {
        Subject::new(Channel::Whatsapp, id)
    }

    fn change(id: &str, action: Action, source: Source) -> Change {
        crate::members::tests::change(id, NOW - 1_000, action, source)
    }

    fn grant(id: &str) -> Change {
        change(id, Action::Granted, Source::JoinCode)
    }

    fn stop(id: &str) -> Change {
        change(id, Action::Withdrawn, Source::Keyword)
    }

    fn link_code(member: MemberNumber, channel: Channel) -> LinkCode {
        LinkCode {
            member,
            channel,
            issued_at: NOW / 1000 - 60,
        }
    }

    #[test]
    fn a_first_grant_founds_one_member_in_one_call_and_a_redelivery_changes_nothing() {
        let mut objects = Objects::default();
        let shopper = line("U1");
        let first = objects.apply(&shopper, &[], grant("e1"));
        assert!(first.new_member && !first.duplicate);
        assert_eq!(first.member, ledger::member_number_for(KEY, &shopper, 0));
        assert_eq!(objects.asked, 1);
        let again = objects.apply(&shopper, &[], grant("e1"));
        assert_eq!(again.member, first.member);
        assert!(again.duplicate && !again.new_member && again.reply.is_none());
        assert_eq!(objects.members(), 1);
    }

    #[test]
    fn a_look_up_of_an_unknown_subject_founds_nothing() {
        let mut objects = Objects::default();
        assert_eq!(objects.member_of(&line("U-nobody")), None);
        assert_eq!(objects.members(), 0);
    }

    #[test]
    fn a_slot_taken_by_another_member_sends_the_walk_to_the_next_number() {
        let mut objects = Objects::default();
        let other = objects.apply(&line("U-other"), &[], grant("e0")).member;
        let shopper = line("U2");
        let first = ledger::member_number_for(KEY, &shopper, 0);
        let taken = objects.slots[&other].clone();
        objects.slots.insert(first, taken);
        let applied = objects.apply(&shopper, &[], grant("e1"));
        assert_eq!(applied.member, ledger::member_number_for(KEY, &shopper, 1));
        assert_eq!(objects.member_of(&shopper), Some(applied.member));
    }

    #[test]
    fn a_link_code_brings_a_second_app_to_the_member_and_its_next_change_reaches_it() {
        let mut objects = Objects::default();
        let member = objects.apply(&line("U3"), &[], grant("e1")).member;
        let phone = whatsapp("819000000003");
        let code = link_code(member, Channel::Whatsapp);
        let finished = objects.run(apply(KEY, &phone, &[], Some(grant("e2")), Some(&code)));
        assert_eq!(finished.result.unwrap().unwrap().member, member);
        assert!(finished.warnings.is_empty());
        assert_eq!(objects.pointer_to(&phone), Some(member));
        let stopped = objects.apply(&phone, &[], stop("e3"));
        assert_eq!(stopped.member, member);
        assert_eq!(objects.state(member, &phone), ConsentState::Withdrawn);
        assert_eq!(objects.state(member, &line("U3")), ConsentState::Granted);
        assert_eq!(objects.members(), 1);
    }

    #[test]
    fn a_link_code_used_twice_leaves_no_pointer_and_the_second_account_gets_its_own_card() {
        let mut objects = Objects::default();
        let member = objects.apply(&line("U4"), &[], grant("e1")).member;
        let code = link_code(member, Channel::Whatsapp);
        let first = whatsapp("819000000041");
        objects.run(apply(KEY, &first, &[], Some(grant("e2")), Some(&code)));
        let second = whatsapp("819000000042");
        let finished = objects.run(apply(KEY, &second, &[], Some(grant("e3")), Some(&code)));
        let own = finished.result.unwrap().unwrap();
        assert_ne!(own.member, member);
        assert!(own.new_member);
        assert_eq!(
            finished.warnings[0].msg,
            "link code refused; the account gets its own card"
        );
        assert_eq!(
            objects.pointer_to(&second),
            None,
            "the refused pointer is removed"
        );
        assert_eq!(objects.members(), 2);
    }

    #[test]
    fn a_pointer_to_an_erased_member_is_removed_and_the_account_starts_afresh() {
        let mut objects = Objects::default();
        let member = objects.apply(&line("U5"), &[], grant("e1")).member;
        let phone = whatsapp("819000000005");
        let code = link_code(member, Channel::Whatsapp);
        objects.run(apply(KEY, &phone, &[], Some(grant("e2")), Some(&code)));
        let slot = objects.slots.get_mut(&member).unwrap();
        assert!(matches!(
            slot.handle(Request::Erase { number: None }, NOW),
            Answer::Erased { .. }
        ));
        assert_eq!(
            objects.member_of(&phone),
            None,
            "an erased member is nobody"
        );
        let fresh = objects.apply(&phone, &[], grant("e3"));
        assert!(fresh.new_member);
        assert_ne!(
            fresh.member, member,
            "an erased number is never given again"
        );
        assert_eq!(objects.pointer_to(&phone), None);
    }

    #[test]
    fn a_stop_under_the_business_id_alone_withdraws_the_person_a_text_showed_with_both_ids() {
        let mut objects = Objects::default();
        let phone = whatsapp("819000000006");
        let business = whatsapp("JP.1349000006");
        let member = objects.apply(&phone, &[], grant("e1")).member;
        // A text showing both ids (no consent change) makes them one person.
        let finished = objects.run(apply(
            KEY,
            &phone,
            std::slice::from_ref(&business),
            None,
            None,
        ));
        assert!(finished.result.is_ok() && finished.warnings.is_empty());
        assert_eq!(objects.pointer_to(&business), Some(member));
        let stopped = objects.apply(&business, &[], stop("e2"));
        assert_eq!(stopped.member, member);
        assert_eq!(stopped.pseudonyms.len(), 2, "recorded under both ids");
        assert_eq!(objects.state(member, &phone), ConsentState::Withdrawn);
        assert_eq!(objects.members(), 1);
    }

    #[test]
    fn a_stop_with_an_unknown_alias_unites_the_ids_then_withdraws_once() {
        let mut objects = Objects::default();
        let phone = whatsapp("819000000007");
        let business = whatsapp("JP.1349000007");
        let member = objects.apply(&phone, &[], grant("e1")).member;
        let stopped = objects.apply(&business, std::slice::from_ref(&phone), stop("e2"));
        assert_eq!(stopped.member, member);
        assert!(stopped.also.is_empty());
        assert_eq!(objects.member_of(&business), Some(member));
        assert_eq!(objects.state(member, &phone), ConsentState::Withdrawn);
        assert_eq!(objects.members(), 1);
    }

    #[test]
    fn ids_of_one_webhook_on_two_members_stay_apart_but_a_withdrawal_reaches_both() {
        let mut objects = Objects::default();
        let phone = whatsapp("819000000008");
        let business = whatsapp("JP.1349000008");
        let by_phone = objects.apply(&phone, &[], grant("e1")).member;
        let by_business = objects.apply(&business, &[], grant("e2")).member;
        assert_ne!(by_phone, by_business);
        let finished = objects.run(apply(
            KEY,
            &business,
            std::slice::from_ref(&phone),
            Some(stop("e3")),
            None,
        ));
        let stopped = finished.result.unwrap().unwrap();
        assert_eq!(stopped.member, by_business);
        assert_eq!(stopped.also.len(), 1);
        assert_eq!(stopped.also[0].member, by_phone);
        assert_eq!(stopped.also[0].event_id, format!("e3.{by_phone}"));
        assert_eq!(
            finished.warnings[0].msg,
            "whatsapp ids of one person not united"
        );
        assert_eq!(objects.state(by_phone, &phone), ConsentState::Withdrawn);
        assert_eq!(
            objects.state(by_business, &business),
            ConsentState::Withdrawn
        );
        assert_eq!(objects.members(), 2, "never merged");
    }

    #[test]
    fn a_grant_with_ids_on_two_members_reaches_only_the_subjects_own() {
        let mut objects = Objects::default();
        let phone = whatsapp("819000000009");
        let business = whatsapp("JP.1349000009");
        let by_phone = objects.apply(&phone, &[], stop("e1")).member;
        let by_business = objects.apply(&business, &[], stop("e2")).member;
        let later = Change {
            occurred_at_ms: NOW - 500,
            ..grant("e3")
        };
        let granted = objects.apply(&business, std::slice::from_ref(&phone), later);
        assert_eq!(granted.member, by_business);
        assert!(granted.also.is_empty());
        assert_eq!(objects.state(by_phone, &phone), ConsentState::Withdrawn);
        assert_eq!(objects.state(by_business, &business), ConsentState::Granted);
    }

    #[test]
    fn a_number_seen_with_a_second_business_id_was_reassigned_and_its_new_user_gets_a_card() {
        let mut objects = Objects::default();
        let phone = whatsapp("819000000010");
        let first_user = whatsapp("JP.1349000010");
        let member = objects
            .apply(&first_user, std::slice::from_ref(&phone), grant("e1"))
            .member;
        assert_eq!(objects.member_of(&phone), Some(member));
        let next_user = whatsapp("JP.2468000010");
        let finished = objects.run(apply(
            KEY,
            &next_user,
            std::slice::from_ref(&phone),
            Some(grant("e2")),
            None,
        ));
        let own = finished.result.unwrap().unwrap();
        assert_ne!(own.member, member);
        let warned: Vec<&str> = finished.warnings.iter().map(|w| w.msg).collect();
        assert!(warned.contains(&"alias refused"), "{warned:?}");
        assert_eq!(
            objects.member_of(&phone),
            Some(member),
            "the number stays its own"
        );
        assert_eq!(objects.pointer_to(&next_user), None);
    }

    #[test]
    fn a_number_change_gives_the_person_its_new_ids_and_the_newest_becomes_the_contact() {
        let mut objects = Objects::default();
        let old_phone = whatsapp("819000000011");
        let old_user = whatsapp("JP.1349000011");
        let member = objects
            .apply(&old_user, std::slice::from_ref(&old_phone), grant("e1"))
            .member;
        let new_user = whatsapp("JP.9999000011");
        let new_phone = whatsapp("819000000111");
        let old = [old_user.clone(), old_phone.clone()];
        let new = [new_user.clone(), new_phone.clone()];
        let finished = objects.run(renumber(KEY, &old, &new));
        assert!(finished.result.is_ok() && finished.warnings.is_empty());
        assert_eq!(objects.member_of(&new_user), Some(member));
        assert_eq!(objects.member_of(&new_phone), Some(member));
        let record = objects.record(member);
        assert_eq!(record.subjects.len(), 1, "one person");
        assert_eq!(
            record.subjects[0].user_id, new_user.user_id,
            "the newest id is the contact"
        );
        let stopped = objects.apply(&new_phone, &[], stop("e2"));
        assert_eq!(stopped.member, member);
        assert_eq!(objects.state(member, &old_user), ConsentState::Withdrawn);
    }

    #[test]
    fn a_new_number_another_member_knows_stays_theirs_after_a_number_change() {
        let mut objects = Objects::default();
        let old_user = whatsapp("JP.1349000012");
        let member = objects.apply(&old_user, &[], grant("e1")).member;
        let taken = whatsapp("819000000112");
        let other = objects.apply(&taken, &[], grant("e2")).member;
        let finished = objects.run(renumber(
            KEY,
            std::slice::from_ref(&old_user),
            std::slice::from_ref(&taken),
        ));
        assert!(finished.result.is_ok());
        assert_eq!(
            finished.warnings[0].msg,
            "a new whatsapp id already belongs to another member"
        );
        assert_eq!(objects.member_of(&taken), Some(other));
        assert_ne!(other, member);
    }

    #[test]
    fn a_number_change_of_nobody_known_changes_nothing() {
        let mut objects = Objects::default();
        let finished = objects.run(renumber(
            KEY,
            &[whatsapp("JP.1349000013")],
            &[whatsapp("JP.9999000013")],
        ));
        assert!(finished.result.is_ok());
        assert_eq!(objects.members(), 0);
        assert!(objects.slots.values().all(|s| s.pointers.is_empty()));
    }
}
