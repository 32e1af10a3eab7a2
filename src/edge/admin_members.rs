//! The admin API for members (bearer `ADMIN_TOKEN`): the data-subject access export and erasure.

use serde_json::json;
use worker::Date;

use super::admin::require_admin;
use super::kv::put_json;
use super::respond::Outgoing;
use super::{env, evidence, ledger_store, members, respond, Call};
use crate::codes::CardRef;
use crate::error::Error;
use crate::ids::MemberNumber;
use crate::ledger;
use crate::members::{Answer, Request as Ask};

fn number(raw: &str) -> Result<MemberNumber, Error> {
    MemberNumber::parse_plain(raw).map_err(|why| Error::bad_request("invalid_member_number", why))
}

/// `GET /api/admin/members/{number}`: everything held about the member — linked channel
/// accounts with the full consent history of each, favourite store, card link, redemptions.
pub async fn access(call: &Call<'_>, raw: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let number = number(raw)?;
    let member = match members::ask(call.env, number, &Ask::Get).await? {
        Answer::Member { member } => member,
        _ => return Err(Error::NotFound),
    };
    let kv = call.kv()?;
    let histories = evidence::histories(&kv, &member).await?;
    let subjects: Vec<_> = histories
        .iter()
        .map(|(s, history)| {
            json!({
                "channel": s.channel,
                "user_id": s.user_id,
                // Other ids of the same person (WhatsApp): one state, one history.
                "also_known_as": s.aliases.iter().map(|a| &a.user_id).collect::<Vec<_>>(),
                "linked_at_ms": s.linked_at_ms,
                "state": s.state(),
                "events": history,
            })
        })
        .collect();
    // The receipts need the controller's settings; the rest of the export does not wait on them.
    let (receipts, receipts_unavailable) = match evidence::receipts_of(&config, &member, &histories)
    {
        Ok(receipts) => (receipts, None),
        Err(e) => (Vec::new(), e.log_detail()),
    };
    let card_url = match (config.public_base_url.get(), config.signing_keys.get()) {
        (Some(base), Some(keys)) => Some(format!(
            "{base}/card/{}",
            CardRef { member: number }.issue(keys)
        )),
        _ => None,
    };
    Ok(respond::json(
        200,
        &json!({ "member": {
            "number": member.number,
            "created_at_ms": member.created_at_ms,
            "card_issued_at_ms": member.card_issued_at_ms,
            "favourite_store": member.favourite_store,
            "lang": member.lang,
            "consent_granted": member.consent_granted(),
            "card_url": card_url,
            "subjects": subjects,
            "receipts": receipts,
            "receipts_unavailable": receipts_unavailable,
            "redemptions": member
                .redemptions
                .iter()
                .map(crate::redemptions::Redemption::to_json)
                .collect::<Vec<_>>(),
        }}),
    ))
}

/// `DELETE /api/admin/members/{number}`: erasure. The member's object forgets the channel user
/// ids and the favourite store and keeps a tombstone (the card and its barcodes die, the number
/// is never reused); each ledger entry is rewritten without the user id; pointers of linked
/// accounts are removed; one erasure record is kept. Repeating it finishes an interrupted one.
pub async fn erase(call: &Call<'_>, raw: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let number = number(raw)?;
    let subjects = match members::ask(call.env, number, &Ask::Erase).await? {
        Answer::Erased { subjects } => subjects,
        _ => return Err(Error::NotFound),
    };
    let kv = call.kv()?;
    let now_ms = Date::now().as_millis();
    let mut redacted = 0;
    for s in &subjects {
        redacted += ledger_store::redact(&kv, &s.pseudonym, now_ms).await?;
        if s.home != number {
            let remove = Ask::RemovePointer {
                pseudonym: s.pseudonym.clone(),
                member: number,
            };
            members::ask(call.env, s.home, &remove).await?;
        }
    }
    let record = json!({
        "member_number": number,
        "erased_at_ms": now_ms,
        "subjects": subjects.iter().map(|s| json!({ "channel": s.channel, "pseudonym": s.pseudonym })).collect::<Vec<_>>(),
        "events_redacted": redacted,
    });
    put_json(&kv, &ledger::erasure_key(number, now_ms), &record).await?;
    Ok(respond::json(200, &json!({ "erased": record })))
}
