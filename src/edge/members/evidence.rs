//! Consent evidence for the shopper and the access export: a member's history per app (one
//! history per person across its ids), the Kantara receipts of its grants, and the shopper's
//! own data page.

use serde_json::json;
use worker::Date;

use crate::edge::ledger_store;
use crate::edge::members::card::{member_lang, member_of, CARD_CACHE};
use crate::edge::runtime::cache;
use crate::edge::runtime::env;
use crate::edge::runtime::kv::Kv;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::shopper::page_with_csp;
use crate::edge::Call;
use optin_core::consent::ConsentEvent;
use optin_core::error::Error;
use optin_core::evidence::page::{Only, Position};
use optin_core::evidence::receipt;
use optin_core::members::{LinkedSubject, MemberRecord};
use optin_core::pages::{self, AppHistory, DataView};
use optin_core::settings::config::Config;

/// No script: the data page works as plain HTML.
const DATA_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Entries the data page shows at once (newest first; older ones a page further).
const DATA_PAGE: usize = 50;
/// Receipts one `receipts.json` holds (the newest; older ones from its `next`).
const RECEIPTS_PAGE: usize = 100;
/// Entries one access export holds (the newest; older ones from its `older_events`).
pub const EXPORT_PAGE: usize = 400;

/// A page of a member's history: each linked subject with its person's events of the page (the
/// events recorded under any of its ids, once each, in platform-time order), and where the
/// next older page starts.
pub struct HistoryPage<'m> {
    pub subjects: Vec<(&'m LinkedSubject, Vec<ConsentEvent>)>,
    pub older: Option<Position>,
}

/// At most `limit` of the member's newest entries before `before` (see
/// [`optin_core::evidence::page`]): a few KV operations per thousand entries, plus one per entry
/// shown.
pub async fn history_page<'m>(
    kv: &Kv,
    member: &'m MemberRecord,
    only: Only,
    before: Option<&Position>,
    limit: usize,
) -> Result<HistoryPage<'m>, Error> {
    let pseudonyms: Vec<Vec<String>> = member.subjects.iter().map(|s| s.pseudonyms()).collect();
    let (events, older) =
        ledger_store::page(kv, &pseudonyms, Some(member.number), only, before, limit).await?;
    let mut subjects: Vec<(&LinkedSubject, Vec<ConsentEvent>)> =
        member.subjects.iter().map(|s| (s, Vec::new())).collect();
    for (i, event) in events {
        if let Some((_, list)) = subjects.get_mut(i) {
            list.push(event);
        }
    }
    Ok(HistoryPage { subjects, older })
}

/// The `before` query parameter of a paged history: 400 `invalid_before` when it is not a
/// position a page gave.
pub fn before(call: &Call<'_>) -> Result<Option<Position>, Error> {
    match call.query("before") {
        None => Ok(None),
        Some(raw) => Position::parse(&raw).map(Some).ok_or_else(|| {
            Error::bad_request(
                "invalid_before",
                "`before` is the `older` position of an earlier page.",
            )
        }),
    }
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
    let ctx = receipt::Details {
        member: member.number,
        public_base_url: base,
        controller: &controller,
        jurisdiction,
        default_lang: member
            .lang
            .as_deref()
            .and_then(optin_core::lang::Lang::parse)
            .unwrap_or(config.default_lang),
    };
    let mut receipts: Vec<receipt::Receipt> = histories
        .iter()
        .flat_map(|(_, events)| events.iter().filter_map(|e| receipt::of(e, &ctx)))
        .collect();
    receipts.sort_by_key(|r| r.consent_timestamp);
    Ok(receipts)
}

/// `GET /card/{card}/receipts.json`: the member's own receipts, as a download: the newest
/// [`RECEIPTS_PAGE`], and in `next` (and a `Link` header) the address of the older ones.
pub async fn receipts(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let before = before(call)?;
    let member = member_of(call, keys, card).await?;
    let kv = call.kv()?;
    let page = history_page(&kv, &member, Only::Grants, before.as_ref(), RECEIPTS_PAGE).await?;
    let receipts = receipts_of(&config, &member, &page.subjects)?;
    let next = page
        .older
        .map(|p| format!("/card/{card}/receipts.json?before={p}"));
    let link = next.as_ref().map(|n| format!("<{n}>; rel=\"next\""));
    let mut response = respond::json(200, &json!({ "receipts": receipts, "next": next }))
        .with_headers(&[
            ("cache-control", CARD_CACHE),
            (
                "content-disposition",
                "attachment; filename=\"consent-receipts.json\"",
            ),
        ]);
    if let Some(link) = &link {
        response = response.with_headers(&[("link", link.as_str())]);
    }
    Ok(response)
}

/// `GET /card/{card}/data`: the shopper's data page.
pub async fn data_page(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let before = before(call)?;
    let member = member_of(call, keys, card).await?;
    let kv = call.kv()?;
    let snapshot = cache::snapshot(call.env, Date::now().as_millis()).await?;
    let page = history_page(&kv, &member, Only::Everything, before.as_ref(), DATA_PAGE).await?;
    let lang = member_lang(call, &config, &member);
    let apps = page
        .subjects
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
        older: page.older.map(|p| p.to_string()),
        paged: before.is_some(),
    });
    Ok(page_with_csp(html, CARD_CACHE, DATA_CSP))
}
