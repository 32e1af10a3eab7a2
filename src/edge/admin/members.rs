//! The admin API for members (bearer `ADMIN_TOKEN`): the data-subject access export and erasure.

use serde_json::json;

use crate::edge::admin::require_admin;
use crate::edge::members;
use crate::edge::members::evidence;
use crate::edge::runtime::env;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::codes::CardRef;
use optin_core::error::Error;
use optin_core::evidence::page::Only;
use optin_core::ids::MemberNumber;
use optin_core::members::{Answer, Request as Ask};

/// A member number from a path: 400 `invalid_member_number` unless 12 digits; 12 digits whose
/// check digit does not match name no member that can exist, so 404 (the schema can state the
/// shape, not the Luhn digit, and a number the schema allows is not a malformed request).
fn number(raw: &str) -> Result<MemberNumber, Error> {
    if !MemberNumber::is_plain(raw) {
        return Err(Error::bad_request(
            "invalid_member_number",
            "a member number is 12 digits",
        ));
    }
    MemberNumber::parse_plain(raw).map_err(|_| Error::Unknown {
        code: "not_found",
        message: "No member has this number (its check digit does not match).".into(),
    })
}

/// `GET /api/admin/members/{number}`: everything held about the member — linked channel
/// accounts with the consent history of each, favourite store, card link, redemptions. A
/// history longer than [`evidence::EXPORT_PAGE`] entries comes in pages, newest first:
/// `older_events` is the address of the next one (`?before=`), which holds the same member
/// with that page's events and receipts.
pub async fn access(call: &Call<'_>, raw: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let number = number(raw)?;
    let before = evidence::before(call)?;
    let member = match members::ask(call.env, number, &Ask::Get).await? {
        Answer::Member { member } => member,
        _ => return Err(Error::NotFound),
    };
    let kv = call.kv()?;
    let page = evidence::history_page(
        &kv,
        &member,
        Only::Everything,
        before.as_ref(),
        evidence::EXPORT_PAGE,
    )
    .await?;
    let histories = page.subjects;
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
                // What its latest grant is for, and so whether offers can reach it.
                // null: never granted since purposes were told apart (an older grant: marketing).
                "purpose": s.purpose.or((s.latest.is_some()).then_some(Default::default())),
                "marketing_deliverable": s.marketing_deliverable(),
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
            "older_events": page.older.map(|p| format!("/api/admin/members/{number}?before={p}")),
            "redemptions": member
                .redemptions
                .iter()
                .map(optin_core::till::redemptions::Redemption::to_json)
                .collect::<Vec<_>>(),
        }}),
    ))
}

/// `DELETE /api/admin/members/{number}`: erasure. The member's object forgets the channel user
/// ids and the favourite store and keeps a tombstone (the card and its barcodes die, the number
/// is never reused); then each ledger entry is rewritten without the user id, pointers of
/// linked accounts are removed, and one erasure record is kept. That work may need many
/// invocations (a long history): the object does the first part before it answers and the rest
/// by itself. 200 when it is complete, 202 while it goes on; repeating the call reports progress.
pub async fn erase(call: &Call<'_>, raw: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let number = number(raw)?;
    let erasure = match members::ask(
        call.env,
        number,
        &Ask::Erase {
            number: Some(number),
        },
    )
    .await?
    {
        Answer::Erased {
            erasure: Some(erasure),
            ..
        } => erasure,
        Answer::Erased { erasure: None, .. } => {
            return Err(Error::internal(
                "member object: an erasure without its progress",
            ))
        }
        _ => return Err(Error::NotFound),
    };
    let body = json!({ "erased": erasure.record() });
    if erasure.complete() {
        Ok(respond::json(200, &body))
    } else {
        Ok(respond::json(202, &body).with_headers(&[("retry-after", "2")]))
    }
}
