//! Shopper pages: the store landing page and the consent notice.

use futures_util::join;
use worker::{Date, Response};

use super::kv::{get_all, get_json};
use super::{env, funnel, respond, Call};
use crate::codes::JoinCode;
use crate::error::Error;
use crate::ids::{CampaignId, StoreId};
use crate::lang::Lang;
use crate::links::channel_links;
use crate::log::{EventLog, Level};
use crate::pages::{self, Landing};
use crate::stores::{self, Notice, StoresIndex, STORES_INDEX_KEY};
use crate::time::utc_day;

/// Landing pages may be kept by the shopper's browser for a few minutes (the join codes they
/// carry stay valid for days); shared caches must not keep them (they differ per language).
const LANDING_CACHE: &str = "private, max-age=300";
/// No script, no third party: styles from this origin only; forms post back here only.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn query(call: &Call<'_>, name: &str) -> Option<String> {
    let url = call.req.url().ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn lang(call: &Call<'_>, fallback: Lang) -> Lang {
    let accept = call.req.headers().get("accept-language").ok().flatten();
    Lang::negotiate(query(call, "lang").as_deref(), accept.as_deref(), fallback)
}

fn page(body: String, cache: &str) -> Response {
    let mut response = respond::html(200, body);
    let headers = response.headers_mut();
    let _ = headers.set("cache-control", cache);
    let _ = headers.set("vary", "Accept-Language");
    let _ = headers.set("content-security-policy", PAGE_CSP);
    let _ = headers.set("referrer-policy", "same-origin");
    response
}

/// `GET /s/{store_id}`
pub async fn landing(call: &Call<'_>, id: &str) -> Result<Response, Error> {
    let config = env::config(call.env);
    let id = StoreId::parse(id).map_err(|_| Error::NotFound)?;
    let kv = call.env.kv("KV").map_err(Error::internal)?;
    let (index, active) = join!(
        get_json::<StoresIndex>(&kv, STORES_INDEX_KEY),
        super::ledger_store::active_notice_version(&kv),
    );
    let index = index?.unwrap_or_default();
    let store = index.get(&id).ok_or(Error::NotFound)?;
    let favourite = query(call, "fav")
        .and_then(|f| StoreId::parse(&f).ok())
        .and_then(|f| index.get(&f))
        .unwrap_or(store);
    let campaign = query(call, "c").and_then(|c| CampaignId::parse(&c).ok());
    let lang = lang(
        call,
        store
            .languages()
            .first()
            .copied()
            .unwrap_or(config.default_lang),
    );
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let now_ms = Date::now().as_millis();
    let code = JoinCode {
        store: favourite.id.clone(),
        campaign: campaign.clone(),
        lang: Some(lang),
        issued_at: now_ms / 1000,
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
        notice_version: active?.as_deref(),
    });
    count_view(call, store.id.as_str(), &utc_day(now_ms));
    Ok(page(html, LANDING_CACHE))
}

/// Counts the view after the response; a failure is logged, never shown to the shopper.
fn count_view(call: &Call<'_>, store: &str, day: &str) {
    let env = call.env.clone();
    let (store, day, request_id) = (store.to_owned(), day.to_owned(), call.request_id.to_owned());
    call.ctx.wait_until(async move {
        if let Err(e) = funnel::count(&env, &store, &day, "view").await {
            let line = EventLog {
                level: Level::Error,
                msg: "view not counted",
                request_id: &request_id,
                detail: e.log_detail(),
            }
            .to_line();
            worker::console_error!("{line}");
        }
    });
}

/// `GET /privacy` (the active version) and `GET /privacy/{version}` (any version once in force).
pub async fn privacy(call: &Call<'_>, version: Option<&str>) -> Result<Response, Error> {
    let config = env::config(call.env);
    let kv = call.env.kv("KV").map_err(Error::internal)?;
    let version = match version {
        Some(v) => stores::check_notice_version(v)
            .map_err(|_| Error::NotFound)?
            .to_owned(),
        None => super::ledger_store::active_notice_version(&kv)
            .await?
            .ok_or(Error::NotFound)?,
    };
    let mut versions: Vec<Notice> = get_all(&kv, stores::NOTICE_PREFIX).await?;
    versions.retain(|n| n.activated_at_ms.is_some());
    versions.sort_by_key(|n| n.activated_at_ms);
    let notice = versions
        .iter()
        .find(|n| n.version == version)
        .ok_or(Error::NotFound)?;
    let lang = lang(call, config.default_lang);
    Ok(page(
        pages::privacy_page(lang, notice, &versions),
        "public, max-age=300",
    ))
}
