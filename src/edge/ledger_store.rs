//! The consent ledger in Workers KV, under the key scheme of [`crate::ledger`]: the evidence,
//! one immutable key per event. Reads and writes only; what a change means for the member is
//! decided by the member's Durable Object (see [`super::members`]).

use worker::kv::KvStore;

use super::kv::{get_all, get_json, list_keys, put_json, storage};
use crate::consent::{Action, ConsentEvent, Subject};
use crate::error::Error;
use crate::ledger::{self, EventMeta, ACTIVE_NOTICE_KEY};

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

/// Writes an event under its key in the history of the event's subject and of each of `also`
/// (the other ids of the same person: one person, one history under each id), with the metadata
/// a listing reads. The same platform event always has the same keys: for an event the member's
/// object had already applied (a redelivery), an entry is written only when it is missing (an
/// earlier attempt failed between the two steps), so the first recording time stands.
pub async fn write(
    kv: &KvStore,
    pseudonym_key: &[u8],
    event: &ConsentEvent,
    also: &[String],
    already_applied: bool,
) -> Result<(), Error> {
    let own = ledger::subject_pseudonym(pseudonym_key, &event.subject);
    let mut subjects = vec![own];
    for p in also {
        if !subjects.contains(p) {
            subjects.push(p.clone());
        }
    }
    for subject in subjects {
        let key = ledger::event_key(&subject, event.occurred_at_ms, &event.event_id);
        if already_applied
            && kv
                .get(&key)
                .text()
                .await
                .map_err(|e| storage("kv get", e))?
                .is_some()
        {
            continue;
        }
        put_event(kv, &key, event).await?;
    }
    Ok(())
}

async fn put_event(kv: &KvStore, key: &str, event: &ConsentEvent) -> Result<(), Error> {
    let meta = EventMeta {
        action: event.action,
        occurred_at_ms: event.occurred_at_ms,
        member: event.member_number,
    };
    let text = serde_json::to_string(event).map_err(Error::internal)?;
    kv.put(key, text)
        .map_err(|e| storage("kv put", e))?
        .metadata(meta)
        .map_err(|e| storage("kv metadata", e))?
        .execute()
        .await
        .map_err(|e| storage("kv put", e))
}

/// A subject's full history, in platform-time order (in a tie, the withdrawal last: it wins).
pub async fn history(
    kv: &KvStore,
    pseudonym_key: &[u8],
    subject: &Subject,
) -> Result<Vec<ConsentEvent>, Error> {
    history_of(kv, &ledger::subject_pseudonym(pseudonym_key, subject)).await
}

/// The history under a subject pseudonym.
pub async fn history_of(kv: &KvStore, pseudonym: &str) -> Result<Vec<ConsentEvent>, Error> {
    let mut events: Vec<ConsentEvent> = get_all(kv, &ledger::event_prefix(pseudonym)).await?;
    events.sort_by_key(|e| (e.occurred_at_ms, e.action == Action::Withdrawn));
    Ok(events)
}

/// Erasure: every event of the subject is rewritten without the channel user id (the evidence
/// stays, pseudonymous). Returns how many events were rewritten.
pub async fn redact(kv: &KvStore, pseudonym: &str, erased_at_ms: u64) -> Result<usize, Error> {
    let keys = list_keys(kv, &ledger::event_prefix(pseudonym)).await?;
    let mut rewritten = 0;
    for key in keys {
        let Some(mut event) = get_json::<ConsentEvent>(kv, &key.name).await? else {
            continue;
        };
        if event.subject.user_id.is_empty() {
            continue;
        }
        event.subject.user_id.clear();
        event.erased_at_ms = Some(erased_at_ms);
        put_event(kv, &key.name, &event).await?;
        rewritten += 1;
    }
    Ok(rewritten)
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
