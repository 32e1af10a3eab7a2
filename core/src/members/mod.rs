//! Members, exactly: what the `Member` Durable Object named by a member number holds, and every
//! decision it takes — pure, so the object only loads, asks, and saves.
//!
//! **Slots and chains.** Each member number names one object, a *slot*. A channel subject's
//! candidate numbers form a chain derived from its pseudonym ([`crate::consent::ledger::member_number_for`]
//! with attempt 0, 1, 2…). A subject's row lives in the first slot of its chain that either holds
//! its row or is free (no member, never erased). So every decision about "who is this subject"
//! is taken in one object, atomically: two first grants racing at two edge locations meet in
//! the same slot, and the second finds the member the first founded. A member's own slot holds
//! its founder; a subject linked to another member (a second channel) holds a *pointer* row in
//! its own slot. Erasure leaves a tombstone, so the number is never given to anyone else and a
//! later opt-in of the same person walks on to a new member.
//!
//! **One person, several ids.** WhatsApp moves from phone-number ids (`wa_id`) to business-scoped
//! ids (`user_id`), and regenerates the latter when a user changes number; a webhook that shows
//! two ids of one user makes them *aliases* of one linked subject: one state, one history, one
//! reply (see [`LinkedSubject::aliases`]; [`chain`] places a pointer for each alias in its own
//! chain, so a later event under either id reaches the same person).
//!
//! **Across objects.** The walk along a chain, linking, uniting and renumbering ask several
//! slots in turn: [`chain`] holds those protocols, with no I/O; the edge only carries their
//! questions to the objects.
//!
//! **Consent.** Each subject's state is the last event in platform time (a withdrawal wins a
//! tie); an event id is applied once. Applying an event answers whether the state changed and
//! which reply that earns, so each change earns exactly one reply.

pub mod chain;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::channels::reach;
use crate::codes::LinkCode;
use crate::consent::{derive_state, Action, Channel, ConsentState, Purpose, Source};
use crate::ids::{CampaignId, MemberNumber, StoreId};
use crate::till::redemptions::Redemption;
use crate::till::redemptions::{decide, Attempt, Outcome};
use crate::wallet::{Registration, Wallet};

/// How many applied event ids a member keeps, newest last. Platforms redeliver within hours (Meta
/// retries WhatsApp webhooks for up to 7 days); a member has a handful of consent changes a
/// year, so this covers every redelivery while keeping the member's row small for ever.
pub const APPLIED_KEPT: usize = 256;

/// How many numbers of a subject's chain are tried (each step follows a 1-in-10^11 collision).
pub const CHAIN_LENGTH: u32 = 8;

/// A channel subject as a slot sees it: its pseudonym names it; the user id is kept in the
/// member's own slot only (to message the shopper and for access requests) until erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRef {
    pub pseudonym: String,
    pub channel: Channel,
    pub user_id: String,
}

/// A consent change to apply, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub event_id: String,
    pub occurred_at_ms: u64,
    pub action: Action,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreId>,
    /// `ja`, `en` or `fr`, from the join code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The campaign and consent-notice version of the join code: the member does not keep
    /// them, the events feed reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<CampaignId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<String>,
    /// What a grant is for (the edge decided it from the store's country); a withdrawal ends
    /// the subject's grant, whatever it says here.
    #[serde(default)]
    pub purpose: Purpose,
}

/// The reply a change earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// One welcome message with the card link.
    Welcome,
    /// One confirmation of the withdrawal, with no marketing in it.
    WithdrawalConfirmation,
}

/// A subject linked to a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedSubject {
    pub pseudonym: String,
    pub channel: Channel,
    pub user_id: String,
    /// The slot holding this subject's row: the member's own number for the founder, else the
    /// slot with the pointer.
    pub home: MemberNumber,
    pub linked_at_ms: u64,
    /// The last event in platform time: `(occurred_at_ms, action)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<(u64, Action)>,
    /// Other ids of the same person on this channel (a WhatsApp `wa_id` beside its `user_id`,
    /// a business-scoped id from before a number change): their events are this subject's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Alias>,
    /// What its latest grant is for (`None`: granted before purposes were told apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
}

/// Another id of a linked subject's person, on the same channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub pseudonym: String,
    pub user_id: String,
    /// The slot holding the alias's pointer.
    pub home: MemberNumber,
    pub linked_at_ms: u64,
}

impl LinkedSubject {
    pub fn state(&self) -> ConsentState {
        derive_state(self.latest)
    }

    /// Whether a marketing message can reach this account (whatever its consent state, which
    /// the feed says beside it): its grant was for marketing and none of its ids is a WhatsApp
    /// +1 one (a grant from before purposes were told apart counts only where every country
    /// gets marketing, never to over-promise).
    pub fn marketing_deliverable(&self) -> bool {
        let ids = std::iter::once(&self.user_id)
            .chain(self.aliases.iter().map(|a| &a.user_id))
            .map(String::as_str);
        match self.purpose {
            Some(purpose) => {
                purpose == Purpose::Marketing && reach::ids_reachable(self.channel, ids)
            }
            None => reach::account_marketing_deliverable(self.channel, None, ids),
        }
    }

    /// Whether `pseudonym` names this person (its own id or an alias).
    pub fn knows(&self, pseudonym: &str) -> bool {
        self.pseudonym == pseudonym || self.aliases.iter().any(|a| a.pseudonym == pseudonym)
    }

    /// Every pseudonym of this person, its own first: the ledger records its events under each.
    pub fn pseudonyms(&self) -> Vec<String> {
        std::iter::once(&self.pseudonym)
            .chain(self.aliases.iter().map(|a| &a.pseudonym))
            .cloned()
            .collect()
    }

    /// Makes the alias `pseudonym` this subject's own id (its contact id), the own id an alias.
    fn promote(&mut self, pseudonym: &str) {
        let Some(alias) = self.aliases.iter_mut().find(|a| a.pseudonym == pseudonym) else {
            return;
        };
        std::mem::swap(&mut self.pseudonym, &mut alias.pseudonym);
        std::mem::swap(&mut self.user_id, &mut alias.user_id);
        std::mem::swap(&mut self.home, &mut alias.home);
    }

    /// Every user id of this person, its own first.
    pub fn user_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.user_id.as_str())
            .chain(self.aliases.iter().map(|a| a.user_id.as_str()))
    }
}

/// A member: founded in its own slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub number: MemberNumber,
    pub created_at_ms: u64,
    /// When the first grant made the card (the welcome carries its link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_issued_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favourite_store: Option<StoreId>,
    /// The language of the last join code (`ja`, `en`, `fr`): replies and the card speak it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    pub subjects: Vec<LinkedSubject>,
    /// Ledger event ids already applied, oldest first, the last [`APPLIED_KEPT`] (a redelivery
    /// changes nothing). Older rows, written as a sorted set, read the same.
    #[serde(default)]
    pub applied: Vec<String>,
    /// Link codes already used: `(channel, issued_at)`.
    #[serde(default)]
    pub used_links: Vec<(Channel, u64)>,
    /// Coupons redeemed, in order: each links the member to a purchase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redemptions: Vec<Redemption>,
}

impl MemberRecord {
    /// Marketing consent granted on at least one channel: consent-gated coupons are for these
    /// members. A grant for the card only (purpose `card`) is no consent to marketing.
    pub fn consent_granted(&self) -> bool {
        self.subjects
            .iter()
            .any(|s| s.state() == ConsentState::Granted && s.purpose != Some(Purpose::Card))
    }

    /// Marketing consent as of `at_ms`, for a redemption a till made offline then: granted now,
    /// or, on an account linked by then, withdrawn only after `at_ms`. The object keeps each
    /// account's latest event only, so this reads "in force" from a later withdrawal; a grant
    /// and a withdrawal both after `at_ms` on an account linked before would read as in force
    /// too (the shopper's favour; docs/till.md).
    pub fn consent_granted_as_of(&self, at_ms: u64) -> bool {
        self.consent_granted()
            || self.subjects.iter().any(|s| {
                s.purpose != Some(Purpose::Card)
                    && s.linked_at_ms <= at_ms
                    && matches!(s.latest, Some((t, Action::Withdrawn)) if t > at_ms)
            })
    }

    fn subject_mut(&mut self, pseudonym: &str) -> Option<&mut LinkedSubject> {
        self.subjects.iter_mut().find(|s| s.knows(pseudonym))
    }

    /// Records `alias` as another id of the person `anchor` names (see [`Request::AddAlias`]).
    fn add_alias(
        &mut self,
        anchor: &str,
        alias: SubjectRef,
        home: MemberNumber,
        renumbered: bool,
        promote: bool,
        now_ms: u64,
    ) -> Answer {
        if let Some(s) = self.subject(&alias.pseudonym) {
            if !s.knows(anchor) {
                return Answer::AlreadyKnown;
            }
        } else {
            let Some(s) = self.subject_mut(anchor) else {
                return Answer::NotLinked;
            };
            if s.channel != alias.channel {
                return Answer::NotLinked;
            }
            if !renumbered
                && is_business_scoped(&alias.user_id)
                && s.user_ids().any(is_business_scoped)
            {
                return Answer::LinkRefused {
                    reason: LinkRefusal::Mismatch,
                };
            }
            s.aliases.push(Alias {
                pseudonym: alias.pseudonym.clone(),
                user_id: alias.user_id,
                home,
                linked_at_ms: now_ms,
            });
        }
        if promote {
            if let Some(s) = self.subject_mut(&alias.pseudonym) {
                s.promote(&alias.pseudonym);
            }
        }
        Answer::Aliased
    }

    /// The linked subject `pseudonym` names (its own id or an alias).
    pub fn subject(&self, pseudonym: &str) -> Option<&LinkedSubject> {
        self.subjects.iter().find(|s| s.knows(pseudonym))
    }
}

/// Everything one slot holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberRecord>,
    /// Set when the member of this slot was erased: the number is never reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at_ms: Option<u64>,
    /// After erasure: the erased member's subjects without their user ids (pseudonym, channel,
    /// home), so that a repeated erasure can finish redacting the ledger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub erased_subjects: Vec<LinkedSubject>,
    /// After erasure: the erased member's number (for the erasure's record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_number: Option<MemberNumber>,
    /// Subjects placed here that belong to another member: pseudonym → member number.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pointers: BTreeMap<String, MemberNumber>,
    /// The member's wallet pass: its devices, what it showed, what is due ([`crate::wallet`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub wallet: Wallet,
}

fn is_default(wallet: &Wallet) -> bool {
    *wallet == Wallet::default()
}

/// What the edge asks about the member's wallet pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "wallet", rename_all = "snake_case")]
pub enum WalletOp {
    /// The pass as it is (no change).
    Get,
    /// The pass shows `shown` now ([`Wallet::sync`]); `google`: the member is saving it to
    /// Google Wallet, which is patched from now on.
    Sync {
        shown: String,
        #[serde(default)]
        google: bool,
    },
    /// A device registers for the pass's updates.
    Register { device: String, push_token: String },
    /// A device unregisters.
    Unregister { device: String },
}

/// What the edge asks a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Finds the subject here; applies `change` to it (founding a member in a free slot when
    /// `change` is given).
    Resolve {
        /// The number this slot answers to (the founder's member number).
        slot: MemberNumber,
        subject: SubjectRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<Change>,
        /// Other ids the platform showed for the same person: the change applies only once
        /// they are all known as this subject's ([`Answer::Unaliased`] otherwise).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aliases: Vec<SubjectRef>,
    },
    /// Applies a change to a subject already linked to this member (reached by a pointer).
    ApplyLinked {
        subject: SubjectRef,
        change: Change,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aliases: Vec<SubjectRef>,
    },
    /// Records `alias` as another id of the person `anchor` names. A second business-scoped id
    /// is refused unless `renumbered` (a number change): Meta gives one user one such id per
    /// business, so a phone number seen with another one has been given to someone else.
    AddAlias {
        anchor: String,
        alias: SubjectRef,
        home: MemberNumber,
        #[serde(default)]
        renumbered: bool,
        /// The alias becomes the subject's contact id (its `user_id`: replies and the feed
        /// use it): the newest id after a number change.
        #[serde(default)]
        promote: bool,
    },
    /// Places a pointer for a new subject that a link code brings to `member`.
    PlacePointer {
        subject: SubjectRef,
        member: MemberNumber,
    },
    /// Removes a pointer (after erasure, or a refused link).
    RemovePointer {
        pseudonym: String,
        member: MemberNumber,
    },
    /// Links a subject to this member with a link code and applies its change.
    Link {
        subject: SubjectRef,
        home: MemberNumber,
        code: LinkCode,
        change: Change,
    },
    /// The card's one-tap stop: withdraws every granted subject.
    StopAll {
        at_ms: u64,
        /// The language of the card page the stop came from (`ja`, `en`, `fr`), for the ledger.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lang: Option<String>,
    },
    /// Sets the favourite store (the card's choice).
    SetFavourite { store: StoreId },
    /// The member, for the card and access requests.
    Get,
    /// Erasure. `number`: the member's, for the erasure's record when the slot does not hold
    /// `erased_number`.
    Erase {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<MemberNumber>,
    },
    /// A till redeems a coupon ([`crate::till::redemptions`]).
    Redeem { attempt: Attempt },
    /// The wallet pass ([`WalletOp`]).
    Wallet { ask: WalletOp },
}

/// What a slot answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    /// The change was applied (or was a duplicate) to the subject of `member`.
    Applied(Applied),
    /// The subject belongs to another member.
    Elsewhere { member: MemberNumber },
    /// The subject is not here, and this slot is taken: try the next number of the chain.
    Next,
    /// Some of the ids given as aliases are not yet known as the subject's: nothing was
    /// applied. `member`: the subject's member, if it has one.
    Unaliased { member: Option<MemberNumber> },
    /// The alias is recorded (or already was).
    Aliased,
    /// The subject is unknown (a look-up without a change reached a free slot).
    Unknown,
    /// The pointer is in place (or was already, for the same member).
    Placed,
    /// The subject already has its own row here: it cannot be linked.
    AlreadyKnown,
    /// The pointer is gone.
    Removed,
    /// The member has no such subject (a stale pointer), or no member lives here.
    NotLinked,
    /// A link was refused.
    LinkRefused { reason: LinkRefusal },
    /// The subjects the stop withdrew (they each earn a confirmation).
    Stopped { withdrawn: Vec<Withdrawn> },
    /// The member as it is now.
    Member { member: Box<MemberRecord> },
    /// The member is erased; these subjects' ledger entries are to be redacted (user ids are
    /// already gone). The member's object adds how far that work got.
    Erased {
        subjects: Vec<LinkedSubject>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        erasure: Option<Box<crate::evidence::erasure::Erasure>>,
    },
    /// No member here (never founded, or erased).
    NoMember,
    /// What a redemption attempt came to.
    Redemption { result: Outcome },
    /// The wallet pass; `member` is `None` once erased (the pass is void).
    Wallet {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member: Option<Box<MemberRecord>>,
        wallet: Box<Wallet>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        registration: Option<Registration>,
    },
}

/// What applying a change did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub member: MemberNumber,
    pub new_member: bool,
    pub duplicate: bool,
    pub before: ConsentState,
    pub after: ConsentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplyKind>,
    /// The member's language, for the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The store the change counts for in the funnel: the change's own, else the favourite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreId>,
    /// This change issued the member's card (its first grant).
    #[serde(default)]
    pub card_issued: bool,
    /// Every pseudonym of the person (the subject's own first, then its aliases): the ledger
    /// records the change under each, so each id's history and state are the person's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pseudonyms: Vec<String>,
    /// What the recorded change is for: a grant's own purpose, or that of the grant a
    /// withdrawal ends.
    #[serde(default)]
    pub purpose: Purpose,
    /// Other members the same withdrawal reached (ids of one webhook on several members): the
    /// edge records it for each, under that member's number. Never crosses the object boundary.
    #[serde(skip)]
    pub also: Vec<AlsoApplied>,
}

/// A withdrawal applied to another member than the subject's (see [`Applied::also`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlsoApplied {
    pub member: MemberNumber,
    /// The id through which that member was reached (it was in the webhook).
    pub user_id: String,
    /// That member's ledger event id for it (its own, so its feed event is its own too).
    pub event_id: String,
    pub pseudonyms: Vec<String>,
    pub duplicate: bool,
    /// What the grant it ends on that member was for.
    pub purpose: Purpose,
}

/// A subject the card's stop withdrew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawn {
    pub pseudonym: String,
    pub channel: Channel,
    pub user_id: String,
    /// Every pseudonym of the person, as [`Applied::pseudonyms`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pseudonyms: Vec<String>,
    /// What the grant it ends was for.
    #[serde(default)]
    pub purpose: Purpose,
}

/// Why a link code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkRefusal {
    /// The code names another member or another channel than the subject's.
    Mismatch,
    /// The member was erased or never existed.
    NoMember,
    /// This code was already used by another account.
    AlreadyUsed,
    /// The member already has an account on this channel.
    ChannelTaken,
}

impl Slot {
    /// Answers a request at `now_ms`; the caller saves the slot when it changed.
    pub fn handle(&mut self, request: Request, now_ms: u64) -> Answer {
        match request {
            Request::Resolve {
                slot,
                subject,
                change,
                aliases,
            } => self.resolve(slot, subject, change, &aliases, now_ms),
            Request::ApplyLinked {
                subject,
                change,
                aliases,
            } => match self.member.as_mut() {
                Some(m) => match m.subject(&subject.pseudonym) {
                    Some(s) if !aliases.iter().all(|a| s.knows(&a.pseudonym)) => {
                        Answer::Unaliased {
                            member: Some(m.number),
                        }
                    }
                    Some(_) => Answer::Applied(apply(m, &subject.pseudonym, &change, false)),
                    None => Answer::NotLinked,
                },
                None => Answer::NotLinked,
            },
            Request::AddAlias {
                anchor,
                alias,
                home,
                renumbered,
                promote,
            } => match self.member.as_mut() {
                Some(m) => m.add_alias(&anchor, alias, home, renumbered, promote, now_ms),
                None => Answer::NotLinked,
            },
            Request::PlacePointer { subject, member } => self.place_pointer(&subject, member),
            Request::RemovePointer { pseudonym, member } => {
                if self.pointers.get(&pseudonym) == Some(&member) {
                    self.pointers.remove(&pseudonym);
                }
                Answer::Removed
            }
            Request::Link {
                subject,
                home,
                code,
                change,
            } => self.link(subject, home, &code, &change, now_ms),
            Request::StopAll { at_ms, .. } => self.stop_all(at_ms),
            Request::SetFavourite { store } => match self.member.as_mut() {
                Some(m) => {
                    m.favourite_store = Some(store);
                    Answer::Member {
                        member: Box::new(m.clone()),
                    }
                }
                None => Answer::NoMember,
            },
            Request::Get => match &self.member {
                Some(m) => Answer::Member {
                    member: Box::new(m.clone()),
                },
                None => Answer::NoMember,
            },
            Request::Erase { .. } => self.erase(now_ms),
            Request::Wallet { ask } => self.wallet_op(ask, now_ms),
            Request::Redeem { attempt } => match self.member.as_mut() {
                Some(m) => {
                    let granted = match attempt.offline_at_ms {
                        Some(at) => m.consent_granted_as_of(at),
                        None => m.consent_granted(),
                    };
                    let outcome = decide(m.number, &m.redemptions, granted, &attempt, now_ms);
                    if let Outcome::Redeemed { redemption } = &outcome {
                        m.redemptions.push(redemption.clone());
                    }
                    Answer::Redemption { result: outcome }
                }
                None => Answer::NoMember,
            },
        }
    }

    fn is_free(&self) -> bool {
        self.member.is_none() && self.erased_at_ms.is_none()
    }

    fn resolve(
        &mut self,
        slot: MemberNumber,
        subject: SubjectRef,
        change: Option<Change>,
        aliases: &[SubjectRef],
        now_ms: u64,
    ) -> Answer {
        if let Some(m) = self.member.as_mut() {
            if let Some(s) = m.subject(&subject.pseudonym) {
                if !aliases.iter().all(|a| s.knows(&a.pseudonym)) {
                    return Answer::Unaliased {
                        member: Some(m.number),
                    };
                }
                return match change {
                    Some(c) => Answer::Applied(apply(m, &subject.pseudonym, &c, false)),
                    None => Answer::Applied(unchanged(m, &subject.pseudonym)),
                };
            }
        }
        if let Some(member) = self.pointers.get(&subject.pseudonym) {
            return Answer::Elsewhere { member: *member };
        }
        if !self.is_free() {
            return Answer::Next;
        }
        if !aliases.is_empty() {
            // The person may already be a member under one of its other ids.
            return Answer::Unaliased { member: None };
        }
        let Some(change) = change else {
            return Answer::Unknown;
        };
        // A free slot and a subject seen for the first time: its member is founded here.
        let pseudonym = subject.pseudonym.clone();
        let m = self.member.insert(MemberRecord {
            number: slot,
            created_at_ms: now_ms,
            card_issued_at_ms: None,
            favourite_store: None,
            lang: None,
            subjects: vec![LinkedSubject {
                pseudonym: subject.pseudonym,
                channel: subject.channel,
                user_id: subject.user_id,
                home: slot,
                linked_at_ms: now_ms,
                latest: None,
                aliases: Vec::new(),
                purpose: None,
            }],
            applied: Vec::new(),
            used_links: Vec::new(),
            redemptions: Vec::new(),
        });
        Answer::Applied(apply(m, &pseudonym, &change, true))
    }

    fn place_pointer(&mut self, subject: &SubjectRef, member: MemberNumber) -> Answer {
        if let Some(m) = &self.member {
            if m.subject(&subject.pseudonym).is_some() {
                return Answer::AlreadyKnown;
            }
        }
        match self.pointers.get(&subject.pseudonym) {
            Some(existing) if *existing == member => Answer::Placed,
            Some(_) => Answer::AlreadyKnown,
            None if self.is_free() => {
                self.pointers.insert(subject.pseudonym.clone(), member);
                Answer::Placed
            }
            None => Answer::Next,
        }
    }

    fn link(
        &mut self,
        subject: SubjectRef,
        home: MemberNumber,
        code: &LinkCode,
        change: &Change,
        now_ms: u64,
    ) -> Answer {
        let Some(m) = self.member.as_mut() else {
            return Answer::LinkRefused {
                reason: LinkRefusal::NoMember,
            };
        };
        if code.member != m.number || code.channel != subject.channel {
            return Answer::LinkRefused {
                reason: LinkRefusal::Mismatch,
            };
        }
        if m.subject_mut(&subject.pseudonym).is_some() {
            // The same account again (a second JOIN with the code): nothing new to link.
            return Answer::Applied(apply(m, &subject.pseudonym, change, false));
        }
        if m.used_links.contains(&(code.channel, code.issued_at)) {
            return Answer::LinkRefused {
                reason: LinkRefusal::AlreadyUsed,
            };
        }
        if m.subjects.iter().any(|s| s.channel == subject.channel) {
            return Answer::LinkRefused {
                reason: LinkRefusal::ChannelTaken,
            };
        }
        let horizon = (now_ms / 1000).saturating_sub(crate::codes::LINK_CODE_TTL_SECS * 2);
        m.used_links.retain(|(_, at)| *at >= horizon);
        m.used_links.push((code.channel, code.issued_at));
        let pseudonym = subject.pseudonym.clone();
        m.subjects.push(LinkedSubject {
            pseudonym: subject.pseudonym,
            channel: subject.channel,
            user_id: subject.user_id,
            home,
            linked_at_ms: now_ms,
            latest: None,
            aliases: Vec::new(),
            purpose: None,
        });
        Answer::Applied(apply(m, &pseudonym, change, false))
    }

    fn stop_all(&mut self, at_ms: u64) -> Answer {
        let Some(m) = self.member.as_mut() else {
            return Answer::NoMember;
        };
        let mut withdrawn = Vec::new();
        for s in &mut m.subjects {
            if s.state() == ConsentState::Granted {
                // At least the last event's time: the stop comes after what it stops.
                let at = at_ms.max(s.latest.map_or(0, |(t, _)| t));
                s.latest = Some((at, Action::Withdrawn));
                withdrawn.push(Withdrawn {
                    pseudonym: s.pseudonym.clone(),
                    channel: s.channel,
                    user_id: s.user_id.clone(),
                    pseudonyms: s.pseudonyms(),
                    purpose: s.purpose.unwrap_or_default(),
                });
            }
        }
        Answer::Stopped { withdrawn }
    }

    fn wallet_op(&mut self, op: WalletOp, now_ms: u64) -> Answer {
        if self.member.is_none() && self.erased_at_ms.is_none() {
            return Answer::NoMember;
        }
        let live = self.member.is_some();
        let mut registration = None;
        match op {
            WalletOp::Get => {}
            WalletOp::Sync { shown, google } if live => {
                self.wallet.sync(&shown, now_ms);
                if google && self.wallet.google_since_ms.is_none() {
                    self.wallet.google_since_ms = Some(now_ms);
                }
            }
            WalletOp::Register { device, push_token } if live => {
                registration = Some(self.wallet.register(&device, &push_token, now_ms));
            }
            WalletOp::Unregister { device } => {
                self.wallet.unregister(&device);
            }
            WalletOp::Sync { .. } | WalletOp::Register { .. } => {}
        }
        Answer::Wallet {
            member: self.member.clone().map(Box::new),
            wallet: Box::new(self.wallet.clone()),
            registration,
        }
    }

    fn erase(&mut self, now_ms: u64) -> Answer {
        let Some(m) = self.member.take() else {
            return match self.erased_at_ms {
                // Erased before: the same answer, so an interrupted erasure can be finished.
                Some(_) => Answer::Erased {
                    subjects: self.erased_subjects.clone(),
                    erasure: None,
                },
                None => Answer::NoMember,
            };
        };
        self.erased_at_ms = Some(now_ms);
        self.erased_number = Some(m.number);
        self.wallet.void(now_ms);
        // Aliases become subjects of their own here: each has a pointer to remove and ledger
        // entries to redact.
        self.erased_subjects = m
            .subjects
            .into_iter()
            .flat_map(|s| {
                let aliases = s.aliases.iter().map(|a| LinkedSubject {
                    pseudonym: a.pseudonym.clone(),
                    channel: s.channel,
                    user_id: String::new(),
                    home: a.home,
                    linked_at_ms: a.linked_at_ms,
                    latest: None,
                    aliases: Vec::new(),
                    purpose: None,
                });
                let own = LinkedSubject {
                    user_id: String::new(),
                    latest: None,
                    aliases: Vec::new(),
                    ..s.clone()
                };
                std::iter::once(own).chain(aliases.collect::<Vec<_>>())
            })
            .collect();
        Answer::Erased {
            subjects: self.erased_subjects.clone(),
            erasure: None,
        }
    }
}

/// Whether a WhatsApp user id is business-scoped (`US.1349…`: a country code and a period,
/// Meta's "Business-scoped user IDs") rather than a phone number (digits only).
pub fn is_business_scoped(user_id: &str) -> bool {
    user_id.contains('.')
}

/// The answer for a look-up without a change.
pub fn unchanged(m: &MemberRecord, pseudonym: &str) -> Applied {
    let subject = m.subject(pseudonym);
    let state = subject.map_or(ConsentState::Unknown, LinkedSubject::state);
    Applied {
        member: m.number,
        new_member: false,
        duplicate: true,
        before: state,
        after: state,
        reply: None,
        lang: m.lang.clone(),
        store: m.favourite_store.clone(),
        card_issued: false,
        pseudonyms: subject.map(LinkedSubject::pseudonyms).unwrap_or_default(),
        purpose: subject.and_then(|s| s.purpose).unwrap_or_default(),
        also: Vec::new(),
    }
}

/// Applies a change to one of the member's subjects.
fn apply(m: &mut MemberRecord, pseudonym: &str, change: &Change, new_member: bool) -> Applied {
    let number = m.number;
    let duplicate = m.applied.contains(&change.event_id);
    if !duplicate {
        if m.applied.len() >= APPLIED_KEPT {
            m.applied.remove(0);
        }
        m.applied.push(change.event_id.clone());
    }
    let subject = m
        .subject_mut(pseudonym)
        .expect("apply is called for a subject of this member");
    let before = subject.state();
    let pseudonyms = subject.pseudonyms();
    if duplicate {
        let purpose = recorded_purpose(subject, change);
        return Applied {
            member: number,
            new_member,
            duplicate,
            before,
            after: before,
            reply: None,
            lang: m.lang.clone(),
            store: None,
            card_issued: false,
            pseudonyms,
            purpose,
            also: Vec::new(),
        };
    }
    let incoming = (change.occurred_at_ms, change.action);
    let latest = match subject.latest {
        Some(current) if later(current, incoming) => current,
        _ => incoming,
    };
    subject.latest = Some(latest);
    if latest == incoming && change.action == Action::Granted {
        subject.purpose = Some(change.purpose);
    }
    let purpose = recorded_purpose(subject, change);
    let after = subject.state();
    let reply = reply_for(change, before, after);
    if let (Some(store), Source::JoinCode | Source::Optin) = (&change.store, change.source) {
        m.favourite_store = Some(store.clone());
    }
    if change.lang.is_some() {
        m.lang.clone_from(&change.lang);
    }
    let card_issued = after == ConsentState::Granted && m.card_issued_at_ms.is_none();
    if card_issued {
        m.card_issued_at_ms = Some(change.occurred_at_ms);
    }
    Applied {
        member: number,
        new_member,
        duplicate,
        before,
        after,
        reply,
        lang: m.lang.clone(),
        store: change.store.clone().or_else(|| m.favourite_store.clone()),
        card_issued,
        pseudonyms,
        purpose,
        also: Vec::new(),
    }
}

/// The purpose a change records: a grant's own, a withdrawal the one of the grant it ends (a
/// grant from before purposes were told apart was recorded as `marketing`).
pub fn recorded_purpose(subject: &LinkedSubject, change: &Change) -> Purpose {
    match change.action {
        Action::Granted => change.purpose,
        Action::Withdrawn => subject.purpose.unwrap_or_default(),
    }
}

/// Whether `a` stays the last event when `b` arrives: later in platform time, or the same
/// millisecond and a withdrawal (when in doubt, do not message).
fn later(a: (u64, Action), b: (u64, Action)) -> bool {
    (a.0, a.1 == Action::Withdrawn) >= (b.0, b.1 == Action::Withdrawn)
}

/// The reply a new change earns. Replies follow the state in platform time: a grant that arrives
/// after a later withdrawal earns no welcome. A `JOIN` code always earns the welcome (the
/// shopper asked for the card); a LINE unfollow earns nothing (the shopper blocked the account).
pub fn reply_for(change: &Change, before: ConsentState, after: ConsentState) -> Option<ReplyKind> {
    match (change.action, after) {
        (Action::Granted, ConsentState::Granted)
            if before != ConsentState::Granted || change.source == Source::JoinCode =>
        {
            Some(ReplyKind::Welcome)
        }
        (Action::Withdrawn, ConsentState::Withdrawn) if change.source != Source::Unfollow => {
            Some(ReplyKind::WithdrawalConfirmation)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_000_000_000;

    fn n(body: u64) -> MemberNumber {
        MemberNumber::from_body(body)
    }

    fn subject(p: &str, channel: Channel) -> SubjectRef {
        SubjectRef {
            pseudonym: p.into(),
            channel,
            user_id: format!("user-{p}"),
        }
    }

    /// A marketing change with no store, campaign or notice (also [`super::chain`]'s tests').
    pub(super) fn change(id: &str, at: u64, action: Action, source: Source) -> Change {
        Change {
            event_id: id.into(),
            occurred_at_ms: at,
            action,
            source,
            store: None,
            lang: None,
            campaign: None,
            notice_version: None,
            purpose: Purpose::Marketing,
        }
    }

    fn grant(id: &str, at: u64) -> Change {
        change(id, at, Action::Granted, Source::Follow)
    }

    fn resolve(slot: &mut Slot, number: MemberNumber, s: &SubjectRef, c: Option<Change>) -> Answer {
        slot.handle(
            Request::Resolve {
                slot: number,
                subject: s.clone(),
                change: c,
                aliases: Vec::new(),
            },
            NOW,
        )
    }

    fn applied(answer: Answer) -> Applied {
        match answer {
            Answer::Applied(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_first_grant_founds_the_member_and_earns_one_welcome() {
        let mut slot = Slot::default();
        let s = subject("p1", Channel::Line);
        let a = applied(resolve(&mut slot, n(1), &s, Some(grant("e1", 10))));
        assert_eq!(
            (a.member, a.new_member, a.duplicate, a.reply),
            (n(1), true, false, Some(ReplyKind::Welcome))
        );
        let again = applied(resolve(&mut slot, n(1), &s, Some(grant("e1", 10))));
        assert_eq!(
            (again.new_member, again.duplicate, again.reply),
            (false, true, None)
        );
        let repeat = applied(resolve(&mut slot, n(1), &s, Some(grant("e2", 20))));
        assert_eq!(repeat.reply, None, "a repeat follow is no state change");
        let m = slot.member.as_ref().unwrap();
        assert_eq!(m.card_issued_at_ms, Some(10));
        assert!(m.consent_granted());
    }

    #[test]
    fn another_subject_walks_past_a_taken_slot_and_a_look_up_stops_at_a_free_one() {
        let mut slot = Slot::default();
        resolve(
            &mut slot,
            n(1),
            &subject("p1", Channel::Line),
            Some(grant("e1", 1)),
        );
        let other = subject("p2", Channel::Line);
        assert_eq!(
            resolve(&mut slot, n(1), &other, Some(grant("e2", 2))),
            Answer::Next
        );
        assert_eq!(
            resolve(&mut Slot::default(), n(2), &other, None),
            Answer::Unknown
        );
    }

    #[test]
    fn state_follows_platform_time_and_a_late_grant_earns_nothing() {
        let mut slot = Slot::default();
        let s = subject("p1", Channel::Whatsapp);
        let w = applied(resolve(
            &mut slot,
            n(1),
            &s,
            Some(change("w", 20, Action::Withdrawn, Source::Keyword)),
        ));
        assert_eq!(
            (w.after, w.reply),
            (
                ConsentState::Withdrawn,
                Some(ReplyKind::WithdrawalConfirmation)
            )
        );
        let g = applied(resolve(
            &mut slot,
            n(1),
            &s,
            Some(change("g", 10, Action::Granted, Source::JoinCode)),
        ));
        assert_eq!((g.after, g.reply), (ConsentState::Withdrawn, None));
        let tie = applied(resolve(&mut slot, n(1), &s, Some(grant("t", 20))));
        assert_eq!(
            tie.after,
            ConsentState::Withdrawn,
            "a withdrawal wins a tie"
        );
        let unfollow = applied(resolve(
            &mut slot,
            n(1),
            &s,
            Some(change("u", 30, Action::Withdrawn, Source::Unfollow)),
        ));
        assert_eq!(
            unfollow.reply, None,
            "nothing reaches a shopper who blocked us"
        );
    }

    #[test]
    fn a_join_code_always_earns_the_card_link_and_sets_favourite_store_and_language() {
        let mut slot = Slot::default();
        let s = subject("p1", Channel::Line);
        resolve(&mut slot, n(1), &s, Some(grant("f", 1)));
        let mut join = change("j", 2, Action::Granted, Source::JoinCode);
        join.store = Some(StoreId::parse("umeda").unwrap());
        join.lang = Some("fr".into());
        let a = applied(resolve(&mut slot, n(1), &s, Some(join)));
        assert_eq!(
            (a.reply, a.lang.as_deref()),
            (Some(ReplyKind::Welcome), Some("fr"))
        );
        let m = slot.member.unwrap();
        assert_eq!(m.favourite_store.unwrap().as_str(), "umeda");
    }

    #[test]
    fn consent_as_of_a_moment_counts_a_withdrawal_only_from_when_it_happened() {
        let mut slot = Slot::default();
        let s = subject("p1", Channel::Line);
        // Linked (server time) at NOW with a grant; stopped 5 s later.
        resolve(&mut slot, n(1), &s, Some(grant("g", NOW)));
        let stop = change("w", NOW + 5_000, Action::Withdrawn, Source::Follow);
        resolve(&mut slot, n(1), &s, Some(stop));
        let m = slot.member.clone().unwrap();
        assert!(!m.consent_granted());
        assert!(
            m.consent_granted_as_of(NOW + 4_999),
            "a till offline before the stop"
        );
        assert!(!m.consent_granted_as_of(NOW + 5_000));
        assert!(!m.consent_granted_as_of(NOW + 9_000));
        assert!(
            !m.consent_granted_as_of(NOW - 1),
            "before the account was linked"
        );
        // Granted now: granted as of any moment (the shopper's favour; docs/till.md).
        resolve(&mut slot, n(1), &s, Some(grant("g2", NOW + 8_000)));
        assert!(slot.member.unwrap().consent_granted_as_of(NOW + 6_000));
    }

    fn code(member: MemberNumber, channel: Channel, at: u64) -> LinkCode {
        LinkCode {
            member,
            channel,
            issued_at: at,
        }
    }

    fn founded() -> Slot {
        let mut slot = Slot::default();
        resolve(
            &mut slot,
            n(1),
            &subject("p1", Channel::Line),
            Some(grant("e1", 1)),
        );
        slot
    }

    #[test]
    fn a_link_code_adds_one_account_of_its_channel_once() {
        let mut member = founded();
        let wa = subject("p2", Channel::Whatsapp);
        let link = |slot: &mut Slot, s: &SubjectRef, c: LinkCode, id: &str| {
            slot.handle(
                Request::Link {
                    subject: s.clone(),
                    home: n(7),
                    code: c,
                    change: change(id, 5, Action::Granted, Source::JoinCode),
                },
                NOW,
            )
        };
        let c = code(n(1), Channel::Whatsapp, NOW / 1000);
        let a = applied(link(&mut member, &wa, c.clone(), "l1"));
        assert_eq!((a.member, a.reply), (n(1), Some(ReplyKind::Welcome)));
        let again = applied(link(&mut member, &wa, c.clone(), "l2"));
        assert_eq!(
            again.member,
            n(1),
            "the same account may send the code again"
        );
        let thief = subject("p3", Channel::Whatsapp);
        assert_eq!(
            link(&mut member, &thief, c, "l3"),
            Answer::LinkRefused {
                reason: LinkRefusal::AlreadyUsed
            }
        );
        assert_eq!(
            link(
                &mut member,
                &thief,
                code(n(1), Channel::Whatsapp, NOW / 1000 + 1),
                "l4"
            ),
            Answer::LinkRefused {
                reason: LinkRefusal::ChannelTaken
            }
        );
        assert_eq!(
            link(
                &mut member,
                &subject("p4", Channel::Messenger),
                code(n(1), Channel::Whatsapp, NOW / 1000 + 2),
                "l5"
            ),
            Answer::LinkRefused {
                reason: LinkRefusal::Mismatch
            }
        );
        assert_eq!(
            link(
                &mut Slot::default(),
                &thief,
                code(n(1), Channel::Whatsapp, 1),
                "l6"
            ),
            Answer::LinkRefused {
                reason: LinkRefusal::NoMember
            }
        );
        let m = member.member.unwrap();
        assert_eq!(m.subjects.len(), 2);
        assert_eq!(m.subjects[1].home, n(7));
    }

    #[test]
    fn pointers_are_placed_in_free_slots_and_followed() {
        let mut slot = Slot::default();
        let s = subject("p2", Channel::Whatsapp);
        let place = |slot: &mut Slot, member| {
            slot.handle(
                Request::PlacePointer {
                    subject: s.clone(),
                    member,
                },
                NOW,
            )
        };
        assert_eq!(place(&mut slot, n(1)), Answer::Placed);
        assert_eq!(place(&mut slot, n(1)), Answer::Placed);
        assert_eq!(place(&mut slot, n(3)), Answer::AlreadyKnown);
        assert_eq!(
            resolve(&mut slot, n(9), &s, Some(grant("x", 1))),
            Answer::Elsewhere { member: n(1) }
        );
        assert_eq!(place(&mut founded(), n(3)), Answer::Next);
        slot.handle(
            Request::RemovePointer {
                pseudonym: "p2".into(),
                member: n(1),
            },
            NOW,
        );
        assert_eq!(resolve(&mut slot, n(9), &s, None), Answer::Unknown);
    }

    #[test]
    fn the_card_stop_withdraws_every_granted_account_once() {
        let mut member = founded();
        let Answer::Stopped { withdrawn } = member.handle(
            Request::StopAll {
                at_ms: 100,
                lang: None,
            },
            NOW,
        ) else {
            panic!()
        };
        assert_eq!(withdrawn.len(), 1);
        assert!(!member.member.as_ref().unwrap().consent_granted());
        assert_eq!(
            member.handle(
                Request::StopAll {
                    at_ms: 200,
                    lang: None,
                },
                NOW
            ),
            Answer::Stopped { withdrawn: vec![] }
        );
    }

    #[test]
    fn erasure_leaves_a_tombstone_that_is_never_reused() {
        let mut slot = founded();
        let Answer::Erased { subjects, .. } = slot.handle(Request::Erase { number: None }, NOW)
        else {
            panic!()
        };
        assert_eq!(subjects.len(), 1);
        assert_eq!(slot.member, None);
        let s = subject("p1", Channel::Line);
        assert_eq!(
            resolve(&mut slot, n(1), &s, Some(grant("e9", 9))),
            Answer::Next
        );
        assert_eq!(slot.handle(Request::Get, NOW), Answer::NoMember);
        assert_eq!(
            slot.handle(Request::Erase { number: None }, NOW + 1),
            Answer::Erased {
                subjects: subjects.clone(),
                erasure: None,
            },
            "erasing again answers the same, to finish an interrupted erasure"
        );
        assert!(subjects.iter().all(|s| s.user_id.is_empty()));
        assert_eq!(
            slot.handle(
                Request::PlacePointer {
                    subject: s,
                    member: n(2)
                },
                NOW
            ),
            Answer::Next
        );
        let text = serde_json::to_string(&slot).unwrap();
        assert!(!text.contains("user-p1"), "{text}");
    }

    fn redeem(slot: &mut Slot, transaction: &str, requires_consent: bool) -> Answer {
        use crate::ids::{CouponId, TillId};
        use crate::till::redemptions::CouponTerms;
        let attempt = Attempt {
            coupon: CouponTerms {
                id: CouponId::parse("c1").unwrap(),
                valid_from_ms: 0,
                valid_until_ms: u64::MAX,
                stores: None,
                requires_consent,
            },
            store: StoreId::parse("shibuya").unwrap(),
            register: TillId::parse("R1").unwrap(),
            transaction: TillId::parse(transaction).unwrap(),
            pos_key_id: None,
            offline_at_ms: None,
        };
        slot.handle(Request::Redeem { attempt }, NOW)
    }

    fn result_code(answer: Answer) -> &'static str {
        match answer {
            Answer::Redemption {
                result: Outcome::Redeemed { .. },
            } => "redeemed",
            Answer::Redemption {
                result: Outcome::Replayed { .. },
            } => "replayed",
            Answer::Redemption {
                result: Outcome::Refused(r),
            } => r.code(),
            Answer::NoMember => "unknown_member",
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_member_redeems_once_a_stop_blocks_gated_coupons_and_erasure_blocks_all() {
        let mut slot = founded();
        assert_eq!(result_code(redeem(&mut slot, "T1", true)), "redeemed");
        assert_eq!(result_code(redeem(&mut slot, "T1", true)), "replayed");
        assert_eq!(
            result_code(redeem(&mut slot, "T2", true)),
            "already_redeemed"
        );
        assert_eq!(slot.member.as_ref().unwrap().redemptions.len(), 1);
        let mut stopped = founded();
        stopped.handle(
            Request::StopAll {
                at_ms: 5,
                lang: None,
            },
            NOW,
        );
        assert_eq!(
            result_code(redeem(&mut stopped, "T1", true)),
            "consent_withdrawn"
        );
        assert_eq!(result_code(redeem(&mut stopped, "T1", false)), "redeemed");
        slot.handle(Request::Erase { number: None }, NOW);
        assert_eq!(result_code(redeem(&mut slot, "T1", true)), "unknown_member");
        assert_eq!(
            result_code(redeem(&mut Slot::default(), "T1", false)),
            "unknown_member"
        );
    }

    #[test]
    fn the_first_grant_issues_the_card_and_counts_for_the_change_store() {
        let mut slot = Slot::default();
        let s = subject("p1", Channel::Line);
        let mut join = change("j", 2, Action::Granted, Source::JoinCode);
        join.store = Some(StoreId::parse("umeda").unwrap());
        let a = applied(resolve(&mut slot, n(1), &s, Some(join)));
        assert!(a.card_issued);
        assert_eq!(a.store.unwrap().as_str(), "umeda");
        let b = applied(resolve(&mut slot, n(1), &s, Some(grant("g", 3))));
        assert!(!b.card_issued);
        assert_eq!(b.store.unwrap().as_str(), "umeda", "the favourite store");
    }

    #[test]
    fn applied_ids_stay_bounded_and_rows_written_as_a_set_read_the_same() {
        let mut slot = founded();
        let s = subject("p1", Channel::Line);
        for i in 0..(APPLIED_KEPT + 40) {
            resolve(
                &mut slot,
                n(1),
                &s,
                Some(grant(&format!("x{i}"), 100 + i as u64)),
            );
        }
        let m = slot.member.as_ref().unwrap();
        assert_eq!(m.applied.len(), APPLIED_KEPT);
        assert_eq!(
            m.applied.last().unwrap(),
            &format!("x{}", APPLIED_KEPT + 39)
        );
        let recent = format!("x{}", APPLIED_KEPT + 30);
        let again = applied(resolve(&mut slot, n(1), &s, Some(grant(&recent, 5))));
        assert!(again.duplicate, "a recent redelivery is still recognised");
        // A row written as a set: `applied` as a sorted JSON array, read the same.
        let mut old = serde_json::to_value(founded()).unwrap();
        old["member"]["applied"] = serde_json::json!(["a", "e1", "z"]);
        let mut old: Slot = serde_json::from_value(old).unwrap();
        let dup = applied(resolve(&mut old, n(1), &s, Some(grant("e1", 1))));
        assert!(dup.duplicate);
    }

    fn resolve_with(
        slot: &mut Slot,
        number: MemberNumber,
        s: &SubjectRef,
        aliases: &[SubjectRef],
        c: Option<Change>,
    ) -> Answer {
        slot.handle(
            Request::Resolve {
                slot: number,
                subject: s.clone(),
                change: c,
                aliases: aliases.to_vec(),
            },
            NOW,
        )
    }

    #[test]
    fn two_ids_of_one_whatsapp_user_are_one_person_with_one_state_and_one_reply() {
        // Opted in under the phone-number id, before Meta sent business-scoped ids.
        let wa_id = subject("wa", Channel::Whatsapp);
        let bsuid = subject("bs", Channel::Whatsapp);
        let mut member = Slot::default();
        resolve(&mut member, n(1), &wa_id, Some(grant("g", 10)));
        // A STOP that shows both ids: nothing is applied until the alias is known.
        let stop = change("s", 20, Action::Withdrawn, Source::Keyword);
        assert_eq!(
            resolve_with(
                &mut member,
                n(1),
                &wa_id,
                std::slice::from_ref(&bsuid),
                Some(stop.clone())
            ),
            Answer::Unaliased { member: Some(n(1)) }
        );
        assert_eq!(
            resolve_with(
                &mut Slot::default(),
                n(5),
                &bsuid,
                std::slice::from_ref(&wa_id),
                Some(stop.clone())
            ),
            Answer::Unaliased { member: None },
            "a free slot founds nobody while another id may be a member"
        );
        let add = |slot: &mut Slot, anchor: &str, alias: &SubjectRef| {
            slot.handle(
                Request::AddAlias {
                    anchor: anchor.into(),
                    alias: alias.clone(),
                    home: n(5),
                    renumbered: false,
                    promote: false,
                },
                NOW,
            )
        };
        assert_eq!(add(&mut member, "wa", &bsuid), Answer::Aliased);
        assert_eq!(
            add(&mut member, "wa", &bsuid),
            Answer::Aliased,
            "idempotent"
        );
        assert_eq!(
            add(&mut member, "wa", &subject("ig", Channel::Instagram)),
            Answer::NotLinked,
            "an alias is an id on the same channel"
        );
        // The STOP under the business-scoped id, reached through its pointer.
        let a = applied(member.handle(
            Request::ApplyLinked {
                subject: bsuid.clone(),
                change: stop,
                aliases: vec![wa_id.clone()],
            },
            NOW,
        ));
        assert_eq!(
            (a.after, a.reply),
            (
                ConsentState::Withdrawn,
                Some(ReplyKind::WithdrawalConfirmation)
            )
        );
        assert_eq!(a.pseudonyms, ["wa", "bs"], "recorded under both ids");
        // The phone number seen later with another business-scoped id: someone else's now.
        let mut stranger = subject("bs2", Channel::Whatsapp);
        stranger.user_id = "US.222".into();
        let mut scoped = bsuid.clone();
        scoped.pseudonym = "bs3".into();
        scoped.user_id = "US.111".into();
        let mut phone_member = Slot::default();
        resolve(&mut phone_member, n(2), &wa_id, Some(grant("g2", 10)));
        assert_eq!(add(&mut phone_member, "wa", &scoped), Answer::Aliased);
        assert_eq!(
            add(&mut phone_member, "wa", &stranger),
            Answer::LinkRefused {
                reason: LinkRefusal::Mismatch
            }
        );
        let renumbered = phone_member.handle(
            Request::AddAlias {
                anchor: "wa".into(),
                alias: stranger,
                home: n(6),
                renumbered: true,
                promote: true,
            },
            NOW,
        );
        assert_eq!(
            renumbered,
            Answer::Aliased,
            "a number change says it is the same user"
        );
        let s = &phone_member.member.as_ref().unwrap().subjects[0];
        assert_eq!(s.user_id, "US.222", "written to at its new id");
        assert_eq!(s.pseudonym, "bs2");
        assert!(s.knows("wa") && s.knows("bs3"));
        // Under the old id alone: the same person, already withdrawn.
        let look = applied(resolve(&mut member, n(1), &wa_id, None));
        assert_eq!(look.after, ConsentState::Withdrawn);
        let m = member.member.as_ref().unwrap();
        assert_eq!(m.subjects.len(), 1);
        assert_eq!(
            m.subjects[0].user_ids().collect::<Vec<_>>(),
            ["user-wa", "user-bs"]
        );
        // Erasure forgets both and lists both for redaction and pointer removal.
        let Answer::Erased { subjects, .. } = member.handle(Request::Erase { number: None }, NOW)
        else {
            panic!()
        };
        let erased: Vec<_> = subjects
            .iter()
            .map(|s| (s.pseudonym.as_str(), s.home))
            .collect();
        assert_eq!(erased, [("wa", n(1)), ("bs", n(5))]);
        assert!(!serde_json::to_string(&member).unwrap().contains("user-bs"));
    }

    #[test]
    fn requests_and_answers_survive_json() {
        let r = Request::Resolve {
            slot: n(1),
            subject: subject("p", Channel::Instagram),
            change: Some(grant("e", 1)),
            aliases: vec![subject("q", Channel::Instagram)],
        };
        let back: Request = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let mut slot = Slot::default();
        let a = resolve(
            &mut slot,
            n(1),
            &subject("p", Channel::Line),
            Some(grant("e", 1)),
        );
        let back: Answer = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        let s: Slot = serde_json::from_str(&serde_json::to_string(&slot).unwrap()).unwrap();
        assert_eq!(s, slot);
    }
}
