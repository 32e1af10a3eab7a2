//! The consent ledger and member records in Workers KV, under the key scheme of
//! [`crate::ledger`]. Reads and writes only; every decision is the core's.
//!
//! Recording an event costs three concurrent reads (the event's own key, the subject's listing
//! and the subject's member record) and one or two writes. KV is eventually consistent: the
//! events this request recorded earlier are passed in and merged, not read back.

use futures_util::join;
use worker::kv::KvStore;

use super::kv::{get_all, get_json, list_keys, put_json, storage};
use crate::consent::{Action, ConsentChange, ConsentEvent, Source, Subject};
use crate::error::Error;
use crate::ids::MemberNumber;
use crate::ledger::{self, EventMeta, Member, Recording, ACTIVE_NOTICE_KEY};

/// Member numbers tried for one subject (each further try follows a 1 in 10^11 collision).
const MEMBER_NUMBER_ATTEMPTS: u32 = 5;

/// The version of the consent notice new consents refer to, if one is active.
pub async fn active_notice_version(kv: &KvStore) -> Result<Option<String>, Error> {
    #[derive(serde::Deserialize)]
    struct Active {
        version: String,
    }
    Ok(get_json::<Active>(kv, ACTIVE_NOTICE_KEY)
        .await?
        .map(|a| a.version))
}

/// Records a change unless the same platform event is already in the ledger (then `None`:
/// a redelivery changes nothing). A grant by a subject without a member creates the member.
/// `recorded_here`: this subject's events recorded earlier in the same request.
pub async fn record(
    kv: &KvStore,
    pseudonym_key: &[u8],
    change: &ConsentChange,
    recorded_here: &[EventMeta],
    notice_version: Option<String>,
    now_ms: u64,
) -> Result<Option<(Recording, EventMeta)>, Error> {
    let subject = ledger::subject_pseudonym(pseudonym_key, &change.subject);
    let event_id = ledger::event_id(pseudonym_key, change);
    let key = ledger::event_key(&subject, change.occurred_at_ms, &event_id);
    let prefix = ledger::event_prefix(&subject);
    let candidate_key =
        ledger::member_key(ledger::member_number_for(pseudonym_key, &change.subject, 0));
    let (existing, listing, candidate) = join!(
        kv.get(&key).text(),
        list_keys(kv, &prefix),
        get_json::<Member>(kv, &candidate_key),
    );
    let listing = listing?;
    if existing.map_err(|e| storage("kv get", e))?.is_some()
        || listing.iter().any(|k| k.name == key)
    {
        return Ok(None);
    }
    let mut metas: Vec<EventMeta> = listing.into_iter().filter_map(meta_of).collect();
    metas.extend_from_slice(recorded_here);
    let earlier: Vec<(u64, Action)> = metas.iter().map(|m| (m.occurred_at_ms, m.action)).collect();
    let candidate = candidate?;
    let first_taken = candidate.is_some();
    let mut member_record = candidate.filter(|m| m.subjects.contains(&change.subject));
    let member = match metas.iter().find_map(|m| m.member) {
        Some(number) => Some(number),
        None => match &member_record {
            Some(m) => Some(m.number),
            None if change.action == Action::Granted => {
                let created =
                    create_member(kv, pseudonym_key, &change.subject, first_taken, now_ms).await?;
                let number = created.number;
                member_record = Some(created);
                Some(number)
            }
            None => None,
        },
    };
    let recording = ledger::record(change, &earlier, event_id, member, notice_version, now_ms);
    let meta = EventMeta {
        action: change.action,
        occurred_at_ms: change.occurred_at_ms,
        member,
    };
    let text = serde_json::to_string(&recording.event).map_err(Error::internal)?;
    kv.put(&key, text)
        .map_err(|e| storage("kv put", e))?
        .metadata(meta)
        .map_err(|e| storage("kv metadata", e))?
        .execute()
        .await
        .map_err(|e| storage("kv put", e))?;
    if let (Some(number), Some(store), Source::JoinCode | Source::Optin) =
        (member, &change.store, change.source)
    {
        let current = match member_record.filter(|m| m.number == number) {
            Some(m) => Some(m),
            None => get_json::<Member>(kv, &ledger::member_key(number)).await?,
        };
        if let Some(mut m) = current {
            if m.favourite_store.as_ref() != Some(store) {
                m.favourite_store = Some(store.clone());
                put_json(kv, &ledger::member_key(number), &m).await?;
            }
        }
    }
    Ok(Some((recording, meta)))
}

fn meta_of(key: worker::kv::Key) -> Option<EventMeta> {
    serde_json::from_value(key.metadata?).ok()
}

/// Creates the subject's member under the first free number derived from it (a concurrent first
/// grant derives the same number and writes the same record). `first_taken`: the caller found
/// the first number's record, belonging to another subject.
async fn create_member(
    kv: &KvStore,
    pseudonym_key: &[u8],
    subject: &Subject,
    first_taken: bool,
    now_ms: u64,
) -> Result<Member, Error> {
    for attempt in 0..MEMBER_NUMBER_ATTEMPTS {
        let number = ledger::member_number_for(pseudonym_key, subject, attempt);
        let key = ledger::member_key(number);
        let taken = match attempt {
            0 => first_taken,
            _ => get_json::<Member>(kv, &key).await?.is_some(),
        };
        if taken {
            continue;
        }
        let member = Member {
            number,
            subjects: vec![subject.clone()],
            favourite_store: None,
            created_at_ms: now_ms,
        };
        put_json(kv, &key, &member).await?;
        return Ok(member);
    }
    Err(Error::internal("no free member number after 5 attempts"))
}

/// The subject's member: the one its events name, else the first derived number whose record
/// lists the subject.
async fn member_of(
    kv: &KvStore,
    pseudonym_key: &[u8],
    subject: &Subject,
    events: &[ConsentEvent],
) -> Result<Option<MemberNumber>, Error> {
    if let Some(number) = events.iter().find_map(|e| e.member_number) {
        return Ok(Some(number));
    }
    for attempt in 0..MEMBER_NUMBER_ATTEMPTS {
        let number = ledger::member_number_for(pseudonym_key, subject, attempt);
        match get_json::<Member>(kv, &ledger::member_key(number)).await? {
            Some(m) if m.subjects.contains(subject) => return Ok(Some(number)),
            Some(_) => continue,
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// A subject's member (if any) and full history, in platform-time order.
pub async fn history(
    kv: &KvStore,
    pseudonym_key: &[u8],
    subject: &Subject,
) -> Result<(Option<MemberNumber>, Vec<ConsentEvent>), Error> {
    let p = ledger::subject_pseudonym(pseudonym_key, subject);
    let mut events: Vec<ConsentEvent> = get_all(kv, &ledger::event_prefix(&p)).await?;
    events.sort_by_key(|e| (e.occurred_at_ms, e.action == Action::Withdrawn));
    let member = member_of(kv, pseudonym_key, subject, &events).await?;
    Ok((member, events))
}

/// Marks a one-time action (an Instagram comment's private reply) as done; `false` when it
/// already was.
pub async fn claim_once(kv: &KvStore, key: &str, now_ms: u64) -> Result<bool, Error> {
    if kv
        .get(key)
        .text()
        .await
        .map_err(|e| storage("kv get", e))?
        .is_some()
    {
        return Ok(false);
    }
    put_json(kv, key, &serde_json::json!({ "at_ms": now_ms })).await?;
    Ok(true)
}
