//! The route table: which handler a method and path reach, who the caller is (API client or
//! shopper, which decides the error format), and how large a body each path accepts.

use crate::error::Error;
pub use crate::wallet::service::Call as WalletCall;

/// The largest webhook body accepted (docs/contract.md: webhooks 1 MiB).
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;
/// The largest body of every other route (other JSON 64 KiB).
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// A resolved route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /healthz`
    Healthz,
    /// `GET /api/admin/config`: which settings are set, missing or invalid (never values).
    AdminConfig,
    /// `GET /api/admin/consent?channel=&subject=`: a subject's state and full history.
    AdminConsent,
    /// `POST /webhooks/line`
    LineWebhook,
    /// `GET /webhooks/meta`: the subscription handshake.
    MetaHandshake,
    /// `POST /webhooks/meta`
    MetaWebhook,
    /// `GET /s/{store_id}`: the store's landing page.
    Landing(String),
    /// `GET /privacy`: the active consent notice.
    Privacy,
    /// `GET /privacy/{version}`
    PrivacyVersion(String),
    /// `GET /api/admin/stores`
    AdminStores,
    /// `PUT /api/admin/stores/{store_id}`
    AdminStorePut(String),
    /// `GET /api/admin/stores/{store_id}/poster.svg` (`.png`)
    AdminPoster(String, PosterFormat),
    /// `GET /api/admin/notices`
    AdminNotices,
    /// `PUT /api/admin/notices/{version}`
    AdminNoticePut(String),
    /// `POST /api/admin/notices/{version}/activate`
    AdminNoticeActivate(String),
    /// `GET /api/admin/stats?from=&to=&store=&format=&lang=`
    AdminStats,
    /// `GET /card/{card}`: the member's card.
    Card(String),
    /// `GET /card/{card}/barcode.svg` (`.png`), `?coupon=` for a coupon's.
    CardBarcode(String, ImageFormat),
    /// `POST /card/{card}/stop`: the one-tap stop.
    CardStop(String),
    /// `POST /card/{card}/favourite`: the favourite-store form.
    CardFavourite(String),
    /// `GET /card/{card}/data`: the shopper's own data page (consent history, receipts, stop).
    CardData(String),
    /// `GET /card/{card}/receipts.json`: the member's Kantara consent receipts.
    CardReceipts(String),
    /// `GET /card/{card}/wallet.pkpass`: the Apple Wallet pass.
    CardApplePass(String),
    /// `GET /card/{card}/google-wallet`: 303 to Google Wallet's save link.
    CardGoogleWallet(String),
    /// `/wallet/v1/…`: Apple's PassKit web service (`crate::wallet::service` tells the call).
    WalletService(WalletCall),
    /// `GET /wallet/logo.png`: the logo Google Wallet shows for the loyalty program.
    WalletLogo,
    /// `GET /api/admin/coupons`
    AdminCoupons,
    /// `PUT /api/admin/coupons/{coupon_id}`
    AdminCouponPut(String),
    /// `GET /api/admin/members/{member_number}`: the access export.
    AdminMember(String),
    /// `DELETE /api/admin/members/{member_number}`: erasure.
    AdminMemberErase(String),
    /// `GET /pos`: the till page.
    TillPage,
    /// `GET /api/pos/whoami`: the store and key a POS key stands for (the till's set-up check).
    PosWhoami,
    /// `POST /api/pos/scan`
    PosScan,
    /// `POST /api/pos/redeem`
    PosRedeem,
    /// `GET /api/admin/stores/{store_id}/pos-keys`
    AdminPosKeys(String),
    /// `POST /api/admin/stores/{store_id}/pos-keys`
    AdminPosKeyCreate(String),
    /// `DELETE /api/admin/stores/{store_id}/pos-keys/{key_id}`
    AdminPosKeyRevoke(String, String),
    /// `PATCH /api/admin/stores/{store_id}/pos-keys/{key_id}`: its `offline_limit`.
    AdminPosKeyUpdate(String, String),
    /// `GET /api/admin/stores/{store_id}/offline-conflicts`: queued redemptions refused.
    AdminOfflineConflicts(String),
    /// `GET /api/admin/feeds`: the feed's endpoints and their delivery status.
    AdminFeeds,
    /// `POST /api/admin/feeds`: a new endpoint (its secret shown once).
    AdminFeedCreate,
    /// `DELETE /api/admin/feeds/{id}`
    AdminFeedDelete(String),
    /// `POST /api/admin/feeds/{id}/rotate`
    AdminFeedRotate(String),
    /// `GET /api/admin/feeds/{id}/dead-letters`
    AdminFeedDeadLetters(String),
    /// `POST /api/admin/feeds/{id}/replay`: a time range, or the dead letters, again.
    AdminFeedReplay(String),
    /// `GET /api/admin/export`: the feed's events as NDJSON.
    AdminExport,
}

/// The two image formats of posters and barcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

/// Posters come in both image formats.
pub type PosterFormat = ImageFormat;

impl Route {
    /// Resolves a request line.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown path, [`Error::MethodNotAllowed`] for a known path with
    /// another method.
    pub fn resolve(method: &str, path: &str) -> Result<Route, Error> {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(Error::NotFound);
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let one = |m: &'static str, route: Route| (vec![(m, route)], m);
        // Each path with the routes of its methods, and the `Allow` header they make.
        let (by_method, allow): (Vec<(&str, Route)>, &'static str) = match segments.as_slice() {
            ["healthz"] => one("GET", Route::Healthz),
            ["s", id] if !id.is_empty() => one("GET", Route::Landing((*id).to_owned())),
            ["privacy"] => one("GET", Route::Privacy),
            ["privacy", v] if !v.is_empty() => one("GET", Route::PrivacyVersion((*v).to_owned())),
            ["api", "admin", "config"] => one("GET", Route::AdminConfig),
            ["api", "admin", "consent"] => one("GET", Route::AdminConsent),
            ["api", "admin", "stats"] => one("GET", Route::AdminStats),
            ["api", "admin", "stores"] => one("GET", Route::AdminStores),
            ["api", "admin", "stores", id] => one("PUT", Route::AdminStorePut((*id).to_owned())),
            ["api", "admin", "stores", id, "poster.svg"] => one(
                "GET",
                Route::AdminPoster((*id).to_owned(), PosterFormat::Svg),
            ),
            ["api", "admin", "stores", id, "poster.png"] => one(
                "GET",
                Route::AdminPoster((*id).to_owned(), PosterFormat::Png),
            ),
            ["api", "admin", "notices"] => one("GET", Route::AdminNotices),
            ["api", "admin", "notices", v] => one("PUT", Route::AdminNoticePut((*v).to_owned())),
            ["api", "admin", "notices", v, "activate"] => {
                one("POST", Route::AdminNoticeActivate((*v).to_owned()))
            }
            ["card", card] if !card.is_empty() => one("GET", Route::Card((*card).to_owned())),
            ["card", card, "wallet.pkpass"] => one("GET", Route::CardApplePass((*card).to_owned())),
            ["card", card, "google-wallet"] => {
                one("GET", Route::CardGoogleWallet((*card).to_owned()))
            }
            ["wallet", "logo.png"] => one("GET", Route::WalletLogo),
            ["wallet", "v1", ..] => {
                let rest = &path["/wallet".len()..];
                return WalletCall::parse(method, rest)
                    .map(Route::WalletService)
                    .ok_or(Error::NotFound);
            }
            ["card", card, "barcode.svg"] => one(
                "GET",
                Route::CardBarcode((*card).to_owned(), ImageFormat::Svg),
            ),
            ["card", card, "barcode.png"] => one(
                "GET",
                Route::CardBarcode((*card).to_owned(), ImageFormat::Png),
            ),
            ["card", card, "stop"] => one("POST", Route::CardStop((*card).to_owned())),
            ["card", card, "favourite"] => one("POST", Route::CardFavourite((*card).to_owned())),
            ["card", card, "data"] => one("GET", Route::CardData((*card).to_owned())),
            ["card", card, "receipts.json"] => one("GET", Route::CardReceipts((*card).to_owned())),
            ["api", "admin", "coupons"] => one("GET", Route::AdminCoupons),
            ["api", "admin", "coupons", id] => one("PUT", Route::AdminCouponPut((*id).to_owned())),
            ["api", "admin", "members", n] => (
                vec![
                    ("GET", Route::AdminMember((*n).to_owned())),
                    ("DELETE", Route::AdminMemberErase((*n).to_owned())),
                ],
                "GET, DELETE",
            ),
            ["pos"] => one("GET", Route::TillPage),
            ["api", "pos", "whoami"] => one("GET", Route::PosWhoami),
            ["api", "pos", "scan"] => one("POST", Route::PosScan),
            ["api", "pos", "redeem"] => one("POST", Route::PosRedeem),
            ["api", "admin", "stores", id, "pos-keys"] => (
                vec![
                    ("GET", Route::AdminPosKeys((*id).to_owned())),
                    ("POST", Route::AdminPosKeyCreate((*id).to_owned())),
                ],
                "GET, POST",
            ),
            ["api", "admin", "stores", id, "pos-keys", key] => (
                vec![
                    (
                        "DELETE",
                        Route::AdminPosKeyRevoke((*id).to_owned(), (*key).to_owned()),
                    ),
                    (
                        "PATCH",
                        Route::AdminPosKeyUpdate((*id).to_owned(), (*key).to_owned()),
                    ),
                ],
                "DELETE, PATCH",
            ),
            ["api", "admin", "stores", id, "offline-conflicts"] => {
                one("GET", Route::AdminOfflineConflicts((*id).to_owned()))
            }
            ["api", "admin", "feeds"] => (
                vec![("GET", Route::AdminFeeds), ("POST", Route::AdminFeedCreate)],
                "GET, POST",
            ),
            ["api", "admin", "feeds", id] => {
                one("DELETE", Route::AdminFeedDelete((*id).to_owned()))
            }
            ["api", "admin", "feeds", id, "rotate"] => {
                one("POST", Route::AdminFeedRotate((*id).to_owned()))
            }
            ["api", "admin", "feeds", id, "dead-letters"] => {
                one("GET", Route::AdminFeedDeadLetters((*id).to_owned()))
            }
            ["api", "admin", "feeds", id, "replay"] => {
                one("POST", Route::AdminFeedReplay((*id).to_owned()))
            }
            ["api", "admin", "export"] => one("GET", Route::AdminExport),
            ["webhooks", "line"] => one("POST", Route::LineWebhook),
            ["webhooks", "meta"] => (
                vec![("GET", Route::MetaHandshake), ("POST", Route::MetaWebhook)],
                "GET, POST",
            ),
            _ => return Err(Error::NotFound),
        };
        let method = if method == "HEAD" { "GET" } else { method };
        by_method
            .into_iter()
            .find(|(m, _)| *m == method)
            .map(|(_, route)| route)
            .ok_or(Error::MethodNotAllowed { allow })
    }

    /// A stable name for logs and metrics: the route pattern, never the path (paths will carry
    /// card references, which are credentials).
    pub fn name(&self) -> &'static str {
        match self {
            Route::Healthz => "healthz",
            Route::AdminConfig => "admin_config",
            Route::AdminConsent => "admin_consent",
            Route::LineWebhook => "webhook_line",
            Route::MetaHandshake => "webhook_meta_handshake",
            Route::MetaWebhook => "webhook_meta",
            Route::Landing(_) => "landing",
            Route::Privacy => "privacy",
            Route::PrivacyVersion(_) => "privacy_version",
            Route::AdminStores => "admin_stores",
            Route::AdminStorePut(_) => "admin_store_put",
            Route::AdminPoster(_, PosterFormat::Svg) => "admin_poster_svg",
            Route::AdminPoster(_, PosterFormat::Png) => "admin_poster_png",
            Route::AdminNotices => "admin_notices",
            Route::AdminNoticePut(_) => "admin_notice_put",
            Route::AdminNoticeActivate(_) => "admin_notice_activate",
            Route::AdminStats => "admin_stats",
            Route::Card(_) => "card",
            Route::CardBarcode(_, ImageFormat::Svg) => "card_barcode_svg",
            Route::CardBarcode(_, ImageFormat::Png) => "card_barcode_png",
            Route::CardStop(_) => "card_stop",
            Route::CardFavourite(_) => "card_favourite",
            Route::CardData(_) => "card_data",
            Route::CardReceipts(_) => "card_receipts",
            Route::CardApplePass(_) => "card_apple_pass",
            Route::CardGoogleWallet(_) => "card_google_wallet",
            Route::WalletService(WalletCall::Registration { register: true, .. }) => {
                "wallet_register"
            }
            Route::WalletService(WalletCall::Registration { .. }) => "wallet_unregister",
            Route::WalletService(WalletCall::Serials { .. }) => "wallet_serials",
            Route::WalletService(WalletCall::Pass { .. }) => "wallet_pass",
            Route::WalletService(WalletCall::Log) => "wallet_log",
            Route::WalletLogo => "wallet_logo",
            Route::AdminCoupons => "admin_coupons",
            Route::AdminCouponPut(_) => "admin_coupon_put",
            Route::AdminMember(_) => "admin_member",
            Route::AdminMemberErase(_) => "admin_member_erase",
            Route::TillPage => "till",
            Route::PosWhoami => "pos_whoami",
            Route::PosScan => "pos_scan",
            Route::PosRedeem => "pos_redeem",
            Route::AdminPosKeys(_) => "admin_pos_keys",
            Route::AdminPosKeyCreate(_) => "admin_pos_key_create",
            Route::AdminPosKeyRevoke(..) => "admin_pos_key_revoke",
            Route::AdminPosKeyUpdate(..) => "admin_pos_key_update",
            Route::AdminOfflineConflicts(_) => "admin_offline_conflicts",
            Route::AdminFeeds => "admin_feeds",
            Route::AdminFeedCreate => "admin_feed_create",
            Route::AdminFeedDelete(_) => "admin_feed_delete",
            Route::AdminFeedRotate(_) => "admin_feed_rotate",
            Route::AdminFeedDeadLetters(_) => "admin_feed_dead_letters",
            Route::AdminFeedReplay(_) => "admin_feed_replay",
            Route::AdminExport => "admin_export",
        }
    }
}

/// Who calls a path, which decides how errors look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// JSON APIs and webhooks: `{"error": {"code", "message"}}`.
    Api,
    /// Shopper pages: a short HTML page in the shopper's language.
    Shopper,
}

impl Audience {
    pub fn of(path: &str) -> Audience {
        if path.starts_with("/api/")
            || path.starts_with("/webhooks/")
            || path.starts_with("/wallet/")
            || path == "/healthz"
        {
            Audience::Api
        } else {
            Audience::Shopper
        }
    }
}

/// The largest body a path accepts, checked before routing and before any parsing.
pub fn body_limit(path: &str) -> usize {
    if path.starts_with("/webhooks/") {
        WEBHOOK_BODY_LIMIT
    } else {
        JSON_BODY_LIMIT
    }
}

/// Checks a declared `Content-Length` against the path's limit.
///
/// # Errors
/// [`Error::PayloadTooLarge`] when the declared length is over the limit.
pub fn check_declared_length(path: &str, content_length: Option<u64>) -> Result<(), Error> {
    let limit = body_limit(path);
    match content_length {
        Some(len) if len > limit as u64 => Err(Error::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_js_reads_ahead_only_lengths_every_route_accepts() {
        let entry = include_str!("../../src/edge/runtime/entry.js");
        assert!(entry.contains(&format!("const PREREAD_LIMIT = {JSON_BODY_LIMIT};")));
        const { assert!(JSON_BODY_LIMIT <= WEBHOOK_BODY_LIMIT) };
    }

    #[test]
    fn known_routes_resolve() {
        assert_eq!(Route::resolve("GET", "/healthz"), Ok(Route::Healthz));
        assert_eq!(Route::resolve("HEAD", "/healthz"), Ok(Route::Healthz));
        assert_eq!(
            Route::resolve("GET", "/api/admin/config"),
            Ok(Route::AdminConfig)
        );
    }

    #[test]
    fn meta_webhook_path_takes_get_and_post() {
        assert_eq!(
            Route::resolve("GET", "/webhooks/meta"),
            Ok(Route::MetaHandshake)
        );
        assert_eq!(
            Route::resolve("POST", "/webhooks/meta"),
            Ok(Route::MetaWebhook)
        );
        assert_eq!(
            Route::resolve("PUT", "/webhooks/meta"),
            Err(Error::MethodNotAllowed { allow: "GET, POST" })
        );
        assert_eq!(
            Route::resolve("GET", "/webhooks/line"),
            Err(Error::MethodNotAllowed { allow: "POST" })
        );
    }

    #[test]
    fn shopper_and_admin_routes_carry_their_ids() {
        assert_eq!(
            Route::resolve("GET", "/s/shibuya-01"),
            Ok(Route::Landing("shibuya-01".into()))
        );
        assert_eq!(
            Route::resolve("GET", "/api/admin/stores/a/poster.png"),
            Ok(Route::AdminPoster("a".into(), PosterFormat::Png))
        );
        assert_eq!(
            Route::resolve("POST", "/api/admin/notices/v1/activate"),
            Ok(Route::AdminNoticeActivate("v1".into()))
        );
        assert_eq!(
            Route::resolve("GET", "/api/admin/stores/a"),
            Err(Error::MethodNotAllowed { allow: "PUT" })
        );
        assert_eq!(Route::resolve("GET", "/s/"), Err(Error::NotFound));
    }

    #[test]
    fn card_coupon_and_member_routes_resolve() {
        assert_eq!(
            Route::resolve("GET", "/card/ABC"),
            Ok(Route::Card("ABC".into()))
        );
        assert_eq!(
            Route::resolve("GET", "/card/ABC/barcode.png"),
            Ok(Route::CardBarcode("ABC".into(), ImageFormat::Png))
        );
        assert_eq!(
            Route::resolve("GET", "/card/ABC/data").map(|r| r.name()),
            Ok("card_data")
        );
        assert_eq!(
            Route::resolve("GET", "/card/ABC/receipts.json").map(|r| r.name()),
            Ok("card_receipts")
        );
        assert_eq!(
            Route::resolve("POST", "/card/ABC/stop"),
            Ok(Route::CardStop("ABC".into()))
        );
        assert_eq!(
            Route::resolve("GET", "/card/ABC/stop"),
            Err(Error::MethodNotAllowed { allow: "POST" })
        );
        assert_eq!(
            Route::resolve("DELETE", "/api/admin/members/123"),
            Ok(Route::AdminMemberErase("123".into()))
        );
        assert_eq!(
            Route::resolve("PUT", "/api/admin/members/123"),
            Err(Error::MethodNotAllowed {
                allow: "GET, DELETE"
            })
        );
        assert_eq!(
            Route::resolve("PUT", "/api/admin/coupons/c1"),
            Ok(Route::AdminCouponPut("c1".into()))
        );
        assert_eq!(Route::resolve("GET", "/card/"), Err(Error::NotFound));
    }

    #[test]
    fn till_and_pos_key_routes_resolve() {
        assert_eq!(Route::resolve("GET", "/pos"), Ok(Route::TillPage));
        assert_eq!(
            Route::resolve("GET", "/api/pos/whoami"),
            Ok(Route::PosWhoami)
        );
        assert_eq!(
            Route::resolve("POST", "/api/pos/redeem"),
            Ok(Route::PosRedeem)
        );
        assert_eq!(
            Route::resolve("GET", "/api/pos/scan"),
            Err(Error::MethodNotAllowed { allow: "POST" })
        );
        assert_eq!(
            Route::resolve("POST", "/api/admin/stores/s1/pos-keys"),
            Ok(Route::AdminPosKeyCreate("s1".into()))
        );
        assert_eq!(
            Route::resolve("DELETE", "/api/admin/stores/s1/pos-keys/abcdefgh"),
            Ok(Route::AdminPosKeyRevoke("s1".into(), "abcdefgh".into()))
        );
        assert_eq!(
            Route::resolve("POST", "/api/admin/feeds/fe_1/rotate"),
            Ok(Route::AdminFeedRotate("fe_1".into()))
        );
        assert_eq!(
            Route::resolve("PUT", "/api/admin/feeds"),
            Err(Error::MethodNotAllowed { allow: "GET, POST" })
        );
        assert_eq!(
            Route::resolve("PUT", "/api/admin/stores/s1/pos-keys"),
            Err(Error::MethodNotAllowed { allow: "GET, POST" })
        );
    }

    #[test]
    fn wrong_method_is_405_with_allow() {
        assert_eq!(
            Route::resolve("POST", "/healthz"),
            Err(Error::MethodNotAllowed { allow: "GET" })
        );
    }

    #[test]
    fn methods_without_a_route_are_405_never_read_as_get() {
        // The edge passes the method as received (worker's `Method` turns unknown ones into GET).
        for method in ["QUERY", "PROPFIND", "TRACE", "OPTIONS", "get", ""] {
            assert_eq!(
                Route::resolve(method, "/api/admin/config"),
                Err(Error::MethodNotAllowed { allow: "GET" }),
                "{method}"
            );
        }
        assert_eq!(
            Route::resolve("QUERY", "/api/admin/members/123"),
            Err(Error::MethodNotAllowed {
                allow: "GET, DELETE"
            })
        );
    }

    #[test]
    fn unknown_paths_are_404() {
        for path in [
            "/",
            "/healthz/",
            "/api/admin",
            "/api/admin/config/x",
            "//healthz",
        ] {
            assert_eq!(Route::resolve("GET", path), Err(Error::NotFound), "{path}");
        }
    }

    #[test]
    fn webhooks_accept_1_mib_and_the_rest_64_kib() {
        assert_eq!(body_limit("/webhooks/line"), 1_048_576);
        assert_eq!(body_limit("/api/pos/scan"), 65_536);
        assert!(check_declared_length("/webhooks/meta", Some(1_048_576)).is_ok());
        assert_eq!(
            check_declared_length("/webhooks/meta", Some(1_048_577)),
            Err(Error::PayloadTooLarge { limit: 1_048_576 })
        );
        assert!(check_declared_length("/api/admin/stores/a", Some(65_537)).is_err());
        assert!(check_declared_length("/api/admin/stores/a", None).is_ok());
    }

    #[test]
    fn audience_decides_the_error_format() {
        assert_eq!(Audience::of("/api/pos/scan"), Audience::Api);
        assert_eq!(Audience::of("/webhooks/line"), Audience::Api);
        assert_eq!(Audience::of("/s/store-1"), Audience::Shopper);
        assert_eq!(Audience::of("/card/abc"), Audience::Shopper);
    }
}
