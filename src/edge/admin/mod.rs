//! The admin API for stores, posters, consent notices and the funnel (bearer `ADMIN_TOKEN`).

pub(crate) mod coupons;
pub(crate) mod feeds;
pub(crate) mod members;
pub(crate) mod pos_keys;

use serde_json::json;
use worker::Date;

use crate::edge::funnel;
use crate::edge::runtime::body;
use crate::edge::runtime::env;
use crate::edge::runtime::kv::{get_all, get_json, put_json};
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::channels::reach;
use optin_core::consent::ledger::ACTIVE_NOTICE_KEY;
use optin_core::consent::{derive_state, Channel, Subject};
use optin_core::error::Error;
use optin_core::evidence::page::{self, Only};
use optin_core::funnel::chart;
use optin_core::funnel::stats;
use optin_core::ids::{CampaignId, StoreId};
use optin_core::images::poster;
use optin_core::lang::Lang;
use optin_core::routes::PosterFormat;
use optin_core::settings::config::Config;
use optin_core::stores::{
    self, check_notice_version, Notice, NoticeInput, Store, StoreInput, StoresIndex,
    STORES_INDEX_KEY,
};
use optin_core::time::format_day;

/// Checks the admin bearer token.
pub fn require_admin(call: &Call<'_>, config: &Config) -> Result<(), Error> {
    let token = config.admin_token.require("ADMIN_TOKEN")?;
    optin_core::auth::check_bearer(call.header("authorization").as_deref(), token)
}

/// Which settings are set, missing or invalid; never a value. For operators checking a deploy.
pub fn config_report(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let report: serde_json::Map<String, serde_json::Value> =
        Config::report(|name| env::lookup(call.env, name))
            .into_iter()
            .map(|(name, status)| (name.to_owned(), status.into()))
            .collect();
    Ok(respond::json(200, &json!({ "settings": report })))
}

/// A subject's current state and full history: the evidence of Art. 7(1) GDPR.
pub async fn consent(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let channel = call
        .query("channel")
        .as_deref()
        .and_then(Channel::parse)
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_channel",
                "`channel` is one of line, whatsapp, messenger, instagram.",
            )
        })?;
    let user_id = call
        .query("subject")
        .filter(|s| Subject::valid_user_id(s))
        .ok_or_else(|| {
            Error::bad_request("invalid_subject", "`subject` is the channel's user id.")
        })?;
    let subject = Subject::new(channel, user_id);
    let before = crate::edge::members::evidence::before(call)?;
    let pseudonym_key = config.pseudonym_key.require("PSEUDONYM_KEY")?;
    let kv = call.kv()?;
    let key = pseudonym_key.expose().as_bytes();
    let member =
        crate::edge::members::apply(call.env, key, &subject, &[], None, None, call.request_id)
            .await?;
    // Other ids of the same person: their events are this subject's too (one history).
    let mut pseudonyms = vec![optin_core::consent::ledger::subject_pseudonym(
        key, &subject,
    )];
    for p in member.iter().flat_map(|a| &a.pseudonyms) {
        if !pseudonyms.contains(p) {
            pseudonyms.push(p.clone());
        }
    }
    let listed = crate::edge::ledger_store::listing(&kv, &[pseudonyms]).await?;
    // The state from the listing's metadata; an entry without any is read.
    let bare: Vec<_> = listed
        .iter()
        .filter(|l| l.action.is_none())
        .cloned()
        .collect();
    let bare = crate::edge::ledger_store::read(&kv, &bare, None, Only::Everything).await?;
    let state = derive_state(
        listed
            .iter()
            .filter_map(|l| l.action.map(|a| (l.at.occurred_at_ms, a)))
            .chain(bare.iter().map(|(_, e)| (e.occurred_at_ms, e.action))),
    );
    let chosen = page::select(
        listed,
        None,
        Only::Everything,
        before.as_ref(),
        crate::edge::members::evidence::EXPORT_PAGE,
    );
    let events: Vec<_> =
        crate::edge::ledger_store::read(&kv, &chosen.entries, None, Only::Everything)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
    let older = chosen.older.map(|p| {
        format!(
            "/api/admin/consent?channel={}&subject={}&before={p}",
            channel.as_str(),
            optin_core::channels::links::percent_encode(&subject.user_id)
        )
    });
    Ok(respond::json(
        200,
        &json!({
            "subject": subject,
            // What the newest entry of this page is for (a withdrawal carries its grant's).
            "purpose": events
                .last()
                .map_or(optin_core::consent::PURPOSE_MARKETING, |e| e.purpose.as_str()),
            "state": state,
            "member_number": member.map(|a| a.member),
            "events": events,
            "older_events": older,
        }),
    ))
}

/// A store id from a path: 400 `invalid_store_id` when malformed.
pub(super) fn store_id(raw: &str) -> Result<StoreId, Error> {
    StoreId::parse(raw).map_err(|why| Error::bad_request("invalid_store_id", why))
}

pub(super) async fn json_body<T: serde::de::DeserializeOwned>(
    call: &mut Call<'_>,
) -> Result<T, Error> {
    let raw = body::read_limited(&mut call.req).await?;
    object_body(&raw)
}

/// A JSON object body as `T`. Only an object: serde reads a struct from an array of its
/// fields too (`[null, null]`), which no client of ours means.
pub(crate) fn object_body<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, Error> {
    let value: serde_json::Value = serde_json::from_slice(raw)?;
    if !value.is_object() {
        return Err(Error::bad_request(
            "invalid_body",
            "The body is a JSON object.",
        ));
    }
    Ok(serde_json::from_value(value)?)
}

/// `PUT /api/admin/stores/{id}`: 201 when created, 200 when replaced.
pub async fn put_store(mut call: Call<'_>, id: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let id = store_id(id)?;
    let input: StoreInput = json_body(&mut call).await?;
    let store = input.into_store(id.clone(), Date::now().as_millis())?;
    // The shape was checked by the core; whether the zone exists, by the runtime's own
    // time-zone data (the same that turns its counters into the store's days).
    if !crate::edge::runtime::clock::known_time_zone(&store.timezone) {
        return Err(Error::unprocessable(
            "invalid_timezone",
            format!(
                "`{}` is not an IANA time zone this runtime knows.",
                store.timezone
            ),
        ));
    }
    let kv = call.kv()?;
    let existed = get_json::<Store>(&kv, &stores::store_key(&id))
        .await?
        .is_some();
    put_json(&kv, &stores::store_key(&id), &store).await?;
    // The index is rebuilt from the store records (KV listings lag: make sure this one is in).
    let mut all: Vec<Store> = get_all(&kv, stores::STORE_PREFIX).await?;
    all.retain(|s| s.id != id);
    all.push(store.clone());
    all.sort_by(|a, b| a.id.cmp(&b.id));
    put_json(&kv, STORES_INDEX_KEY, &StoresIndex { stores: all }).await?;
    crate::edge::runtime::cache::invalidate();
    Ok(respond::json(
        if existed { 200 } else { 201 },
        &json!({ "store": store_view(&store, &config) }),
    ))
}

/// A store as the admin API shows it: the record and `landing_url`, its landing page as its
/// posters' QR codes carry it (`null` while `PUBLIC_BASE_URL` is not set).
fn store_view(store: &Store, config: &Config) -> serde_json::Value {
    let mut view = json!(store);
    view["landing_url"] = json!(config
        .public_base_url
        .get()
        .map(|base| poster::landing_url(base, store, None)));
    let country = store.country(config.jurisdiction_country());
    view["country"] = json!(country);
    view["own_country"] = json!(store.country);
    view["marketing_deliverable"] = json!(Channel::ALL
        .iter()
        .map(|c| (
            c.as_str().to_owned(),
            json!(reach::marketing_deliverable(*c, country))
        ))
        .collect::<serde_json::Map<_, _>>());
    view
}

/// `GET /api/admin/stores`
pub async fn list_stores(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let index = get_json::<StoresIndex>(&call.kv()?, STORES_INDEX_KEY)
        .await?
        .unwrap_or_default();
    let stores: Vec<_> = index
        .stores
        .iter()
        .map(|s| store_view(s, &config))
        .collect();
    Ok(respond::json(200, &json!({ "stores": stores })))
}

/// `GET /api/admin/stores/{id}/poster.svg` and `.png` (`?c=` campaign).
pub async fn poster(call: &Call<'_>, id: &str, format: PosterFormat) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let id = store_id(id)?;
    let campaign = match call.query("c") {
        None => None,
        Some(c) => {
            Some(CampaignId::parse(&c).map_err(|why| Error::bad_request("invalid_campaign", why))?)
        }
    };
    let base = config.public_base_url.require("PUBLIC_BASE_URL")?;
    let store = get_json::<Store>(&call.kv()?, &stores::store_key(&id))
        .await?
        .ok_or(Error::NotFound)?;
    let url = poster::landing_url(base, &store, campaign.as_ref().map(CampaignId::as_str));
    let (content_type, bytes) = match format {
        PosterFormat::Svg => (
            "image/svg+xml; charset=utf-8",
            poster::poster_svg(&store, &url)?.into_bytes(),
        ),
        PosterFormat::Png => ("image/png", poster::poster_png(&store, &url)?),
    };
    let extension = match format {
        PosterFormat::Svg => "svg",
        PosterFormat::Png => "png",
    };
    let disposition = format!("inline; filename=\"poster-{id}.{extension}\"");
    Ok(respond::bytes_with(
        200,
        content_type,
        bytes,
        &[("content-disposition", &disposition)],
    ))
}

/// `PUT /api/admin/notices/{version}`: a draft until activated; an activated version is frozen.
pub async fn put_notice(mut call: Call<'_>, version: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(&call, &config)?;
    let version = check_notice_version(version)?.to_owned();
    let input: NoticeInput = json_body(&mut call).await?;
    let notice = input.into_notice(&version, Date::now().as_millis())?;
    let kv = call.kv()?;
    let existing = get_json::<Notice>(&kv, &stores::notice_key(&version)).await?;
    if existing
        .as_ref()
        .is_some_and(|n| n.activated_at_ms.is_some())
    {
        return Err(Error::Conflict {
            code: "notice_immutable",
            message: "This version has been in force: publish a new version instead.".into(),
        });
    }
    put_json(&kv, &stores::notice_key(&version), &notice).await?;
    Ok(respond::json(
        if existing.is_some() { 200 } else { 201 },
        &json!({ "notice": notice }),
    ))
}

/// `POST /api/admin/notices/{version}/activate`: new consents refer to this version from now on.
pub async fn activate_notice(call: &Call<'_>, version: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let version = check_notice_version(version)?;
    let kv = call.kv()?;
    let key = stores::notice_key(version);
    let mut notice = get_json::<Notice>(&kv, &key)
        .await?
        .ok_or(Error::NotFound)?;
    let now = Date::now().as_millis();
    if notice.activated_at_ms.is_none() {
        notice.activated_at_ms = Some(now);
        put_json(&kv, &key, &notice).await?;
    }
    let active = json!({ "version": notice.version, "activated_at_ms": now });
    put_json(&kv, ACTIVE_NOTICE_KEY, &active).await?;
    crate::edge::runtime::cache::invalidate();
    Ok(respond::json(200, &json!({ "active": active })))
}

/// `GET /api/admin/notices`: every version, drafts included, and the active one.
pub async fn list_notices(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let kv = call.kv()?;
    let mut notices: Vec<Notice> = get_all(&kv, stores::NOTICE_PREFIX).await?;
    notices.sort_by_key(|n| n.created_at_ms);
    let active = crate::edge::ledger_store::active_notice_version(&kv).await?;
    Ok(respond::json(
        200,
        &json!({ "notices": notices, "active": active }),
    ))
}

/// `GET /api/admin/stats?from=&to=&store=&format=&lang=`: per store and day (the store's own
/// days), as JSON, CSV or an SVG chart; every store and the changes of no store, or one store.
/// Each store's counters are one `Funnel` object call; the calls run together.
pub async fn stats(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    require_admin(call, &config)?;
    let now_ms = Date::now().as_millis();
    let utc_today = (now_ms / 86_400_000) as i64;
    let query = stats::Query::parse(
        call.query("from").as_deref(),
        call.query("to").as_deref(),
        call.query("format").as_deref(),
        call.header("accept").as_deref(),
    )?;
    let only = stats::parse_store(call.query("store").as_deref())?;
    let index = get_json::<StoresIndex>(&call.kv()?, STORES_INDEX_KEY)
        .await?
        .unwrap_or_default();
    // Each owner's days: a bound left out is its own today.
    let owners: Vec<(Option<&StoreId>, &str, stats::Days)> = stats::owners(&index, only.as_ref())?
        .into_iter()
        .map(|(id, tz)| {
            let today =
                optin_core::time::parse_day(&crate::edge::runtime::clock::local_day(tz, now_ms))
                    .unwrap_or(utc_today);
            (id, tz, query.days(today))
        })
        .collect();
    let reads = owners.iter().map(|(id, _, days)| {
        let name = id.map_or(stats::NO_STORE, StoreId::as_str);
        let (from, to) = (format_day(days.from), format_day(days.to));
        let empty = days.is_empty();
        async move {
            if empty {
                return Ok(Vec::new());
            }
            funnel::counts(call.env, name, &from, &to).await
        }
    });
    let counts = futures_util::future::join_all(reads).await;
    let mut rows = Vec::new();
    for ((id, tz, days), counts) in owners.iter().zip(counts) {
        rows.extend(stats::rows(*id, tz, *days, &counts?));
    }
    let span = owners
        .iter()
        .map(|o| o.2)
        .reduce(stats::Days::union)
        .unwrap_or_else(|| query.days(utc_today));
    let (from, to) = (format_day(span.from), format_day(span.to));
    let (content_type, body, disposition) = match query.format {
        stats::Format::Json => {
            return Ok(respond::json(
                200,
                &json!({ "from": from, "to": to, "stats": rows }),
            ))
        }
        stats::Format::Csv => (
            "text/csv; charset=utf-8",
            stats::csv(&rows),
            format!("attachment; filename=\"stats-{from}-{to}.csv\""),
        ),
        stats::Format::Svg => {
            // An unknown language is English (the chart is for people, not a contract).
            let lang = Lang::negotiate(call.query("lang").as_deref(), None, Lang::En);
            let store = only.as_ref().map(StoreId::as_str);
            (
                "image/svg+xml; charset=utf-8",
                chart::svg(&rows, span, store, lang),
                format!("inline; filename=\"stats-{from}-{to}.svg\""),
            )
        }
    };
    let mut response = respond::text_with(
        200,
        content_type,
        body,
        &[("content-disposition", &disposition)],
    );
    if query.format == stats::Format::Svg {
        // Opened on its own, the image may run nothing and load nothing.
        response.set_header("content-security-policy", "default-src 'none'; sandbox");
    }
    Ok(response)
}
