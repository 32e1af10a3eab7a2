//! Request handlers: short functions from a resolved route to a response.

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

/// Runs the handler of a resolved route.
pub async fn handle(route: Route, call: Call<'_>) -> Result<Outgoing, Error> {
    match route {
        Route::Healthz => Ok(healthz()),
        Route::AdminConfig => admin::config_report(&call),
        Route::AdminConsent => admin::consent(&call).await,
        Route::LineWebhook => webhooks::line(call).await,
        Route::MetaHandshake => webhooks::meta_handshake(&call),
        Route::MetaWebhook => webhooks::meta(call).await,
        Route::Landing(id) => shopper::landing(&call, &id).await,
        Route::Privacy => shopper::privacy(&call, None).await,
        Route::PrivacyVersion(v) => shopper::privacy(&call, Some(&v)).await,
        Route::AdminStores => admin::list_stores(&call).await,
        Route::AdminStorePut(id) => admin::put_store(call, &id).await,
        Route::AdminPoster(id, format) => admin::poster(&call, &id, format).await,
        Route::AdminNotices => admin::list_notices(&call).await,
        Route::AdminNoticePut(v) => admin::put_notice(call, &v).await,
        Route::AdminNoticeActivate(v) => admin::activate_notice(&call, &v).await,
        Route::AdminStats => admin::stats(&call).await,
        Route::Card(c) => card::page(&call, &c).await,
        Route::CardBarcode(c, format) => card::barcode(&call, &c, format).await,
        Route::CardStop(c) => card::stop(&call, &c).await,
        Route::CardFavourite(c) => card::favourite(call, &c).await,
        Route::CardData(c) => evidence::data_page(&call, &c).await,
        Route::CardReceipts(c) => evidence::receipts(&call, &c).await,
        Route::CardApplePass(c) => wallet::apple::card_pass(&call, &c).await,
        Route::CardGoogleWallet(c) => wallet::google::card_save(&call, &c).await,
        Route::WalletService(w) => wallet::apple::service(call, w).await,
        Route::WalletLogo => wallet::logo(),
        Route::AdminCoupons => admin::coupons::list(&call).await,
        Route::AdminCouponPut(id) => admin::coupons::put(call, &id).await,
        Route::AdminMember(n) => admin::members::access(&call, &n).await,
        Route::AdminMemberErase(n) => admin::members::erase(&call, &n).await,
        Route::TillPage => Ok(till::page::serve(&call)),
        Route::PosWhoami => pos::whoami(&call).await,
        Route::PosScan => pos::scan(call).await,
        Route::PosRedeem => pos::redeem(call).await,
        Route::AdminPosKeys(store) => admin::pos_keys::list(&call, &store).await,
        Route::AdminPosKeyCreate(store) => admin::pos_keys::create(call, &store).await,
        Route::AdminPosKeyRevoke(store, id) => admin::pos_keys::revoke(&call, &store, &id).await,
        Route::AdminPosKeyUpdate(store, id) => admin::pos_keys::update(call, &store, &id).await,
        Route::AdminOfflineConflicts(store) => admin::pos_keys::conflicts(&call, &store).await,
        Route::AdminFeeds => admin::feeds::list(&call).await,
        Route::AdminFeedCreate => admin::feeds::create(call).await,
        Route::AdminFeedDelete(id) => admin::feeds::delete(&call, &id).await,
        Route::AdminFeedRotate(id) => admin::feeds::rotate(&call, &id).await,
        Route::AdminFeedDeadLetters(id) => admin::feeds::dead_letters(&call, &id).await,
        Route::AdminFeedReplay(id) => admin::feeds::replay(call, &id).await,
        Route::AdminExport => admin::feeds::export(&call).await,
    }
}

fn healthz() -> Outgoing {
    respond::text(200, respond::JSON, r#"{"status":"ok"}"#.to_owned())
}
