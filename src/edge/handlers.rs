//! Request handlers: short functions from a resolved route to a response.

use std::future::Future;
use std::pin::Pin;

use crate::edge::admin;
use crate::edge::members::card;
use crate::edge::members::evidence;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::shopper;
use crate::edge::till::{self, pos};
use crate::edge::wallet;
use crate::edge::webhooks;
use crate::edge::Call;
use optin_core::error::Error;
use optin_core::routes::Route;

/// Runs the handler of a resolved route, each asynchronous one behind its own box (see
/// [`boxed`]).
pub async fn handle(route: Route, call: Call<'_>) -> Result<Outgoing, Error> {
    match route {
        Route::Healthz => Ok(healthz()),
        Route::AdminConfig => admin::config_report(&call),
        Route::AdminConsent => boxed(admin::consent(&call)).await,
        Route::LineWebhook => boxed(webhooks::line(call)).await,
        Route::MetaHandshake => webhooks::meta_handshake(&call),
        Route::MetaWebhook => boxed(webhooks::meta(call)).await,
        Route::Landing(id) => boxed(shopper::landing(&call, &id)).await,
        Route::Privacy => boxed(shopper::privacy(&call, None)).await,
        Route::PrivacyVersion(v) => boxed(shopper::privacy(&call, Some(&v))).await,
        Route::AdminStores => boxed(admin::list_stores(&call)).await,
        Route::AdminStorePut(id) => boxed(admin::put_store(call, &id)).await,
        Route::AdminPoster(id, format) => boxed(admin::poster(&call, &id, format)).await,
        Route::AdminNotices => boxed(admin::list_notices(&call)).await,
        Route::AdminNoticePut(v) => boxed(admin::put_notice(call, &v)).await,
        Route::AdminNoticeActivate(v) => boxed(admin::activate_notice(&call, &v)).await,
        Route::AdminStats => boxed(admin::stats(&call)).await,
        Route::Card(c) => boxed(card::page(&call, &c)).await,
        Route::CardBarcode(c, format) => boxed(card::barcode(&call, &c, format)).await,
        Route::CardStop(c) => boxed(card::stop(&call, &c)).await,
        Route::CardFavourite(c) => boxed(card::favourite(call, &c)).await,
        Route::CardData(c) => boxed(evidence::data_page(&call, &c)).await,
        Route::CardReceipts(c) => boxed(evidence::receipts(&call, &c)).await,
        Route::CardApplePass(c) => boxed(wallet::apple::card_pass(&call, &c)).await,
        Route::CardGoogleWallet(c) => boxed(wallet::google::card_save(&call, &c)).await,
        Route::WalletService(w) => boxed(wallet::apple::service(call, w)).await,
        Route::WalletLogo => wallet::logo(),
        Route::AdminCoupons => boxed(admin::coupons::list(&call)).await,
        Route::AdminCouponPut(id) => boxed(admin::coupons::put(call, &id)).await,
        Route::AdminMember(n) => boxed(admin::members::access(&call, &n)).await,
        Route::AdminMemberErase(n) => boxed(admin::members::erase(&call, &n)).await,
        Route::TillPage => Ok(till::page::serve(&call)),
        Route::PosWhoami => boxed(pos::whoami(&call)).await,
        Route::PosScan => boxed(pos::scan(call)).await,
        Route::PosRedeem => boxed(pos::redeem(call)).await,
        Route::AdminPosKeys(store) => boxed(admin::pos_keys::list(&call, &store)).await,
        Route::AdminPosKeyCreate(store) => boxed(admin::pos_keys::create(call, &store)).await,
        Route::AdminPosKeyRevoke(store, id) => {
            boxed(admin::pos_keys::revoke(&call, &store, &id)).await
        }
        Route::AdminPosKeyUpdate(store, id) => {
            boxed(admin::pos_keys::update(call, &store, &id)).await
        }
        Route::AdminOfflineConflicts(store) => {
            boxed(admin::pos_keys::conflicts(&call, &store)).await
        }
        Route::AdminFeeds => boxed(admin::feeds::list(&call)).await,
        Route::AdminFeedCreate => boxed(admin::feeds::create(call)).await,
        Route::AdminFeedDelete(id) => boxed(admin::feeds::delete(&call, &id)).await,
        Route::AdminFeedRotate(id) => boxed(admin::feeds::rotate(&call, &id)).await,
        Route::AdminFeedDeadLetters(id) => boxed(admin::feeds::dead_letters(&call, &id)).await,
        Route::AdminFeedReplay(id) => boxed(admin::feeds::replay(call, &id)).await,
        Route::AdminExport => boxed(admin::feeds::export(&call)).await,
    }
}

/// A handler's future as a boxed trait object: polled through its own function, not inlined into
/// the router's. Inlined, every handler made one state machine of some 270 KB of wasm that the
/// first request of each isolate had to compile whole; boxed, a request compiles what it runs.
fn boxed<'a>(
    handler: impl Future<Output = Result<Outgoing, Error>> + 'a,
) -> Pin<Box<dyn Future<Output = Result<Outgoing, Error>> + 'a>> {
    Box::pin(handler)
}

fn healthz() -> Outgoing {
    respond::text(200, respond::JSON, r#"{"status":"ok"}"#.to_owned())
}
