//! The member's card: the page, its barcode images, the one-tap stop and the favourite store.
//! The card reference is verified with the signing keys; the member comes from its object, so an
//! erased member's card is a 404 at once, everywhere.

use worker::Date;

use crate::edge::members;
use crate::edge::runtime::body;
use crate::edge::runtime::cache;
use crate::edge::runtime::env;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::shopper::{lang, page_with_csp, query};
use crate::edge::webhooks;
use crate::edge::Call;
use optin_core::channels::links::channel_links;
use optin_core::channels::ReplyTarget;
use optin_core::codes::{Barcode, CardRef, LinkCode};
use optin_core::consent::ledger;
use optin_core::consent::replies::Message;
use optin_core::consent::{Channel, Subject};
use optin_core::coupons::Coupon;
use optin_core::error::Error;
use optin_core::ids::{CouponId, StoreId};
use optin_core::images::barcode::{BarcodeImage, PNG_SCALE};
use optin_core::lang::Lang;
use optin_core::members::{Answer, MemberRecord, Request as Ask};
use optin_core::pages::{self, CardCoupon, CardView, Wallets};
use optin_core::routes::ImageFormat;
use optin_core::settings::config::Config;
use optin_core::settings::secrets::SigningKeys;

/// The card holds personal data: never kept by shared caches, and not by the browser's HTTP
/// cache either (the offline copy is the service worker's, refreshed at every online visit).
pub(super) const CARD_CACHE: &str = "private, no-store";
/// As the other shopper pages, plus this origin's script and service worker (`card.js`).
const CARD_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    script-src 'self'; worker-src 'self'; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// Verifies the card reference and reads the member; unknown, forged or erased: 404.
pub(super) async fn member_of(
    call: &Call<'_>,
    keys: &SigningKeys,
    card: &str,
) -> Result<MemberRecord, Error> {
    let card = CardRef::verify(keys, card).map_err(|_| Error::NotFound)?;
    match members::ask(call.env, card.member, &Ask::Get).await? {
        Answer::Member { member } => Ok(*member),
        _ => Err(Error::NotFound),
    }
}

pub(crate) fn member_lang(call: &Call<'_>, config: &Config, member: &MemberRecord) -> Lang {
    let fallback = member
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(config.default_lang);
    lang(call, &query(call), fallback)
}

/// `GET /card/{card}`
pub async fn page(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let member = member_of(call, keys, card).await?;
    let now_ms = Date::now().as_millis();
    let now = now_ms / 1000;
    let snapshot = cache::snapshot(call.env, now_ms).await?;
    let lang = member_lang(call, &config, &member);
    let member_barcode = Barcode::new(member.number, None, now);
    let coupons = usable_coupons(&snapshot.coupons.coupons, &member, now_ms)
        .map(|coupon| {
            let code = Barcode::new(member.number, Some(coupon.id.clone()), now).issue(keys);
            Ok(CardCoupon {
                coupon,
                barcode_svg: BarcodeImage::encode(&code)?.svg(coupon.title(lang)),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let add_links = Channel::ALL
        .into_iter()
        .filter(|c| member.subjects.iter().all(|s| s.channel != *c))
        .flat_map(|channel| {
            let code = LinkCode {
                member: member.number,
                channel,
                issued_at: now,
            }
            .issue(keys);
            channel_links(&config, &code)
                .into_iter()
                .filter(move |l| l.channel == channel.as_str())
        })
        .collect();
    let html = pages::card_page(&CardView {
        lang,
        card_ref: card,
        member: &member,
        member_barcode_svg: BarcodeImage::encode(&member_barcode.issue(keys))?
            .svg(&member.number.grouped()),
        barcodes_expire_at: member_barcode.expires_at,
        stores: &snapshot.stores.stores,
        coupons,
        add_links,
        country: config.jurisdiction_country(),
        wallets: Wallets {
            apple: crate::edge::wallet::apple_settings(call.env).is_ok(),
            google: crate::edge::wallet::google_settings(call.env).is_ok(),
        },
    });
    Ok(page_with_csp(html, CARD_CACHE, CARD_CSP))
}

/// The coupons the card shows: in their window, valid at the favourite store, and consent-gated
/// ones only while the member's consent is granted.
fn usable_coupons<'a>(
    coupons: &'a [Coupon],
    member: &'a MemberRecord,
    now_ms: u64,
) -> impl Iterator<Item = &'a Coupon> + 'a {
    let granted = member.consent_granted();
    coupons
        .iter()
        .filter(move |c| c.shown_on_card(now_ms, member.favourite_store.as_ref(), granted))
}

/// `GET /card/{card}/barcode.svg` and `.png` (`?coupon=` for a coupon the card shows).
pub async fn barcode(call: &Call<'_>, card: &str, format: ImageFormat) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let member = member_of(call, keys, card).await?;
    let now_ms = Date::now().as_millis();
    let coupon = match call.query("coupon") {
        None => None,
        Some(id) => {
            let id = CouponId::parse(&id).map_err(|_| Error::NotFound)?;
            let snapshot = cache::snapshot(call.env, now_ms).await?;
            let coupon = usable_coupons(&snapshot.coupons.coupons, &member, now_ms)
                .find(|c| c.id == id)
                .ok_or(Error::NotFound)?;
            Some(coupon.id.clone())
        }
    };
    let code = Barcode::new(member.number, coupon, now_ms / 1000).issue(keys);
    let image = BarcodeImage::encode(&code)?;
    let (content_type, bytes) = match format {
        ImageFormat::Svg => (
            "image/svg+xml; charset=utf-8",
            image.svg(&member.number.grouped()).into_bytes(),
        ),
        ImageFormat::Png => ("image/png", image.png(PNG_SCALE)?),
    };
    // A few minutes in the shopper's own browser only: each image carries its own expiry.
    let cache = [("cache-control", "private, max-age=300")];
    Ok(respond::bytes_with(200, content_type, bytes, &cache))
}

/// `POST /card/{card}/stop`: withdraws marketing consent on every channel of the member
/// (source `card_page`), records each withdrawal in the ledger, confirms in each app.
pub async fn stop(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let pseudonym_key = config.pseudonym_key.require("PSEUDONYM_KEY")?;
    let card_ref = CardRef::verify(keys, card).map_err(|_| Error::NotFound)?;
    crate::edge::runtime::limits::check(call.env, crate::edge::runtime::limits::CARD, card).await?;
    let now_ms = Date::now().as_millis();
    let member = member_of(call, keys, card).await?;
    let lang = member_lang(call, &config, &member);
    // The member's object records the stop and writes its ledger entries (again later, if
    // the ledger cannot be written now): a stop is never lost between the two.
    let ask = Ask::StopAll {
        at_ms: now_ms,
        lang: Some(lang.code().to_owned()),
    };
    let withdrawn = match members::ask(call.env, card_ref.member, &ask).await? {
        Answer::Stopped { withdrawn } => withdrawn,
        _ => return Err(Error::NotFound),
    };
    let snapshot = crate::edge::runtime::cache::snapshot(call.env, now_ms).await?;
    let mut outbox = Vec::new();
    for w in withdrawn {
        crate::edge::funnel::count_for_store(
            call.env,
            call.ctx,
            &snapshot.stores,
            member.favourite_store.as_ref(),
            now_ms,
            &optin_core::funnel::stats::withdrawal(w.channel),
            call.request_id,
        );
        let subject = Subject::new(w.channel, w.user_id.clone());
        let change = ledger::card_stop(subject, member.number, Some(lang), now_ms, w.purpose);
        let event_id = ledger::event_id(pseudonym_key.expose().as_bytes(), &change);
        let target = push_target(w.channel, w.user_id);
        let reply_lang = member.lang.as_deref().and_then(Lang::parse).unwrap_or(lang);
        outbox.extend(webhooks::build_reply(
            &config,
            &target,
            &Message::WithdrawalConfirmation,
            reply_lang,
            &event_id,
        ));
    }
    webhooks::send_later(call, &config, outbox);
    Ok(page_with_csp(
        pages::stopped_page(lang, card),
        CARD_CACHE,
        CARD_CSP,
    ))
}

/// Where a message to a channel account goes when there is no event to reply to.
fn push_target(channel: Channel, user_id: String) -> ReplyTarget {
    match channel {
        Channel::Line => ReplyTarget::Line {
            user_id,
            reply_token: None,
        },
        Channel::Whatsapp => ReplyTarget::Whatsapp {
            phone_number_id: None,
            to: user_id,
        },
        Channel::Messenger => ReplyTarget::Messenger { psid: user_id },
        Channel::Instagram => ReplyTarget::Instagram { igsid: user_id },
    }
}

/// `POST /card/{card}/favourite` (form field `store`): sets the favourite store, back to the card.
pub async fn favourite(mut call: Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let card_ref = CardRef::verify(keys, card).map_err(|_| Error::NotFound)?;
    crate::edge::runtime::limits::check(call.env, crate::edge::runtime::limits::CARD, card).await?;
    let raw = body::read_limited(&mut call.req).await?;
    let form = String::from_utf8_lossy(&raw);
    let store = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("store="))
        .and_then(|s| StoreId::parse(s).ok())
        .ok_or_else(|| Error::bad_request("invalid_store", "Choose a store."))?;
    let snapshot = cache::snapshot(call.env, Date::now().as_millis()).await?;
    if snapshot.stores.get(&store).is_none() {
        return Err(Error::bad_request("invalid_store", "Choose a store."));
    }
    match members::ask(call.env, card_ref.member, &Ask::SetFavourite { store }).await? {
        Answer::Member { .. } => {}
        _ => return Err(Error::NotFound),
    }
    let lang = call
        .query("lang")
        .and_then(|l| Lang::parse(&l))
        .map_or(String::new(), |l| format!("?lang={}", l.code()));
    Ok(respond::redirect(&format!("/card/{card}{lang}")))
}
