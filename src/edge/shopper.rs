//! Shopper pages: the store landing page and the consent notice.

use worker::Date;

use crate::edge::funnel;
use crate::edge::runtime::cache;
use crate::edge::runtime::env;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::channels::links::channel_links;
use optin_core::codes::JoinCode;
use optin_core::error::Error;
use optin_core::funnel::stats;
use optin_core::ids::{CampaignId, StoreId};
use optin_core::lang::Lang;
use optin_core::pages::{self, Landing};
use optin_core::stores;

/// Landing pages may be kept by the shopper's browser for a few minutes (the join codes they
/// carry stay valid for days); shared caches must not keep them (they differ per language).
const LANDING_CACHE: &str = "private, max-age=300";
/// No script, no third party: styles from this origin only; forms post back here only.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The query parameters a shopper page reads, parsed once.
#[derive(Default)]
pub(super) struct Query {
    lang: Option<String>,
    fav: Option<String>,
    campaign: Option<String>,
}

pub(super) fn query(call: &Call<'_>) -> Query {
    let mut q = Query::default();
    for (k, v) in call.req.query_pairs() {
        match &*k {
            "lang" => q.lang = Some(v.into_owned()),
            "fav" => q.fav = Some(v.into_owned()),
            "c" => q.campaign = Some(v.into_owned()),
            _ => {}
        }
    }
    q
}

pub(super) fn lang(call: &Call<'_>, q: &Query, fallback: Lang) -> Lang {
    let accept = call.header("accept-language");
    Lang::negotiate(q.lang.as_deref(), accept.as_deref(), fallback)
}

fn page(body: String, cache: &str) -> Outgoing {
    page_with_csp(body, cache, PAGE_CSP)
}

/// A shopper page with its caching rule and content security policy.
pub(super) fn page_with_csp(body: String, cache: &str, csp: &str) -> Outgoing {
    respond::text_with(
        200,
        "text/html; charset=utf-8",
        body,
        &[
            ("cache-control", cache),
            ("vary", "Accept-Language"),
            ("content-security-policy", csp),
            ("referrer-policy", "same-origin"),
        ],
    )
}

/// `GET /s/{store_id}`
pub async fn landing(call: &Call<'_>, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let id = StoreId::parse(id).map_err(|_| Error::NotFound)?;
    let now_ms = Date::now().as_millis();
    let mut snapshot = cache::snapshot(call.env, now_ms).await?;
    if snapshot.stores.get(&id).is_none() {
        snapshot = cache::snapshot_after_miss(call.env, now_ms).await?;
    }
    let index = &snapshot.stores;
    let store = index.get(&id).ok_or(Error::NotFound)?;
    let q = query(call);
    let favourite = q
        .fav
        .as_deref()
        .and_then(|f| StoreId::parse(f).ok())
        .and_then(|f| index.get(&f))
        .unwrap_or(store);
    let campaign = q
        .campaign
        .as_deref()
        .and_then(|c| CampaignId::parse(c).ok());
    let fallback = store
        .languages()
        .first()
        .copied()
        .unwrap_or(config.default_lang);
    let lang = lang(call, &q, fallback);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let code = JoinCode {
        store: favourite.id.clone(),
        campaign: campaign.clone(),
        lang: Some(lang),
        issued_at: now_ms / 1000,
        // The version this page shows: the consent it leads to records exactly that one.
        notice: snapshot.notice_version.clone(),
    }
    .issue(keys);
    let links = channel_links(&config, &code);
    let html = pages::landing_page(&Landing {
        lang,
        store,
        stores: &index.stores,
        favourite,
        campaign: campaign.as_ref().map(CampaignId::as_str),
        links: &links,
        notice_version: snapshot.notice_version.as_deref(),
        country: favourite.country(config.jurisdiction_country()),
    });
    funnel::count(
        call.env,
        call.ctx,
        store.id.as_str(),
        &crate::edge::runtime::clock::local_day(&store.timezone, now_ms),
        stats::VIEW,
        call.request_id,
    );
    Ok(page(html, LANDING_CACHE))
}

/// `GET /privacy` (the active version) and `GET /privacy/{version}` (any version once in force).
pub async fn privacy(call: &Call<'_>, version: Option<&str>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let now_ms = Date::now().as_millis();
    let wanted = match version {
        Some(v) => Some(
            stores::check_notice_version(v)
                .map_err(|_| Error::NotFound)?
                .to_owned(),
        ),
        None => None,
    };
    // From the isolate's snapshot; a version it lacks re-reads KV at most once per 5 s.
    let find = |s: &cache::Snapshot| -> Option<usize> {
        let version = wanted.as_ref().or(s.notice_version.as_ref())?;
        s.notices.iter().position(|n| &n.version == version)
    };
    let mut snapshot = cache::snapshot(call.env, now_ms).await?;
    if find(&snapshot).is_none() {
        snapshot = cache::snapshot_after_miss(call.env, now_ms).await?;
    }
    let index = find(&snapshot).ok_or(Error::NotFound)?;
    let lang = lang(call, &query(call), config.default_lang);
    Ok(page(
        pages::privacy_page(lang, &snapshot.notices[index], &snapshot.notices),
        "public, max-age=300",
    ))
}
