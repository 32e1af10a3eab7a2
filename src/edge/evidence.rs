//! Consent evidence for the shopper and the access export: a member's history per app (one
//! history per person across its ids), the Kantara receipts of its grants, and the shopper's
//! own data page.

use serde_json::json;
use worker::kv::KvStore;
use worker::Date;

use super::card::{member_lang, member_of, CARD_CACHE};
use super::respond::Outgoing;
use super::shopper::page_with_csp;
use super::{cache, env, ledger_store, respond, Call};
use crate::config::Config;
use crate::consent::ConsentEvent;
use crate::error::Error;
use crate::evidence::{person_history, receipt};
use crate::members::{LinkedSubject, MemberRecord};
use crate::pages::{self, AppHistory, DataView};

/// No script: the data page works as plain HTML.
const DATA_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Each linked subject of the member with its person's history (the events recorded under any of
/// its ids, once each, in platform-time order).
pub async fn histories<'m>(
    kv: &KvStore,
    member: &'m MemberRecord,
) -> Result<Vec<(&'m LinkedSubject, Vec<ConsentEvent>)>, Error> {
    let mut out = Vec::with_capacity(member.subjects.len());
    for subject in &member.subjects {
        let reads = subject
            .pseudonyms()
            .into_iter()
            .map(|p| async move { ledger_store::history_of(kv, &p).await });
        let per_id = futures_util::future::join_all(reads)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, Error>>()?;
        // Only this member's: a subject's history may hold an erased earlier member's entries.
        let mut history = person_history(per_id);
        history.retain(|e| e.member_number == Some(member.number));
        out.push((subject, history));
    }
    Ok(out)
}

/// The receipts of every grant in the histories, oldest first.
///
/// # Errors
/// 500 `config` when the controller, the jurisdiction or the public base URL is not set.
pub fn receipts_of(
    config: &Config,
    member: &MemberRecord,
    histories: &[(&LinkedSubject, Vec<ConsentEvent>)],
) -> Result<Vec<receipt::Receipt>, Error> {
    let controller = config.controller()?;
    let jurisdiction = config.jurisdiction.require("JURISDICTION")?;
    let base = config.public_base_url.require("PUBLIC_BASE_URL")?;
    let ctx = receipt::Context {
        member: member.number,
        public_base_url: base,
        controller: &controller,
        jurisdiction,
        default_lang: member
            .lang
            .as_deref()
            .and_then(crate::lang::Lang::parse)
            .unwrap_or(config.default_lang),
    };
    let mut receipts: Vec<receipt::Receipt> = histories
        .iter()
        .flat_map(|(_, events)| events.iter().filter_map(|e| receipt::of(e, &ctx)))
        .collect();
    receipts.sort_by_key(|r| r.consent_timestamp);
    Ok(receipts)
}

/// `GET /card/{card}/receipts.json`: the member's own receipts, as a download.
pub async fn receipts(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let member = member_of(call, keys, card).await?;
    let kv = call.kv()?;
    let histories = histories(&kv, &member).await?;
    let receipts = receipts_of(&config, &member, &histories)?;
    let response = respond::json(200, &json!({ "receipts": receipts })).with_headers(&[
        ("cache-control", CARD_CACHE),
        (
            "content-disposition",
            "attachment; filename=\"consent-receipts.json\"",
        ),
    ]);
    Ok(response)
}

/// `GET /card/{card}/data`: the shopper's data page.
pub async fn data_page(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let member = member_of(call, keys, card).await?;
    let kv = call.kv()?;
    let snapshot = cache::snapshot(call.env, Date::now().as_millis()).await?;
    let histories = histories(&kv, &member).await?;
    let lang = member_lang(call, &config, &member);
    let apps = histories
        .into_iter()
        .map(|(subject, events)| AppHistory {
            channel: subject.channel,
            state: subject.state(),
            events,
        })
        .collect();
    let html = pages::data_page(&DataView {
        lang,
        card_ref: card,
        member: member.number,
        apps,
        stores: &snapshot.stores.stores,
        retention_days: config.retention_days,
    });
    Ok(page_with_csp(html, CARD_CACHE, DATA_CSP))
}
