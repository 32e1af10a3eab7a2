//! The admin console (`GET /admin`) driven in headless Chromium as a store manager would
//! (`tests/browser/console.mjs`): every screen through the admin API, checked against the API
//! itself, the poster read back by a real QR decoder, axe-core on every screen.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::cards::{admin, coupon_id};
use crate::harness::{self, ADMIN_TOKEN};
use crate::stores::decode_png_qr;
use crate::till::{barcode, new_member, redeem, store_id};
use crate::webhooks::unique;
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    tests![
        console_in_headless_chromium_runs_the_programme_as_a_store_manager,
        console_is_a_static_page_with_a_strict_policy,
    ]
}

fn run(f: &Fixture, args: &[&str]) -> Value {
    let shots = harness::artifact_path("console");
    let shots = shots.display().to_string();
    let mut all = vec![f.app.base.as_str(), ADMIN_TOKEN, shots.as_str()];
    all.extend_from_slice(args);
    let seen = harness::browser("console.mjs", &all);
    assert_eq!(seen["driverError"], Value::Null, "{seen}");
    assert_eq!(
        seen["errors"],
        serde_json::json!([]),
        "no console errors: {seen}"
    );
    assert_eq!(
        seen["foreignRequests"],
        serde_json::json!([]),
        "no third-party requests"
    );
    for (screen, violations) in seen["axe"].as_object().unwrap() {
        assert_eq!(violations, &serde_json::json!([]), "axe on {screen}");
    }
    seen
}

/// The record `id` of `GET /api/admin/{kind}` (`stores`, `coupons`), which the console made.
fn listed(f: &Fixture, kind: &str, id: &str) -> Value {
    let list = admin(&f.app, "GET", &format!("/api/admin/{kind}"), None).json();
    list[kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("the console made {kind} {id}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn console_in_headless_chromium_runs_the_programme_as_a_store_manager(f: &Fixture) {
    let store = store_id("console");
    let coupon = coupon_id("con");
    let notice = unique("console");
    let campaign = "autumn";
    let seen = run(f, &["setup", &store, &coupon, &notice, campaign]);
    assert_eq!(seen["status"], 200);

    let mut checks = Checks::default();
    checks.check("a wrong token is said plainly and nothing is kept", || {
        // A wrong token: said plainly, nothing kept, nothing changed.
        let wrong = &seen["wrongToken"];
        let text = wrong["message"]["text"].as_str().unwrap();
        assert!(
            text.contains("not accepted") && text.contains("Nothing was changed"),
            "{wrong}"
        );
        assert_eq!(wrong["message"]["role"], "alert");
        assert_eq!(wrong["stored"]["session"], 0);
        assert_eq!(
            wrong["calls"],
            serde_json::json!(["GET /api/admin/config 401"]),
            "one read-only call, refused"
        );
        assert_eq!(wrong["navHidden"], true);
        assert_eq!(
            seen["tokenInSession"], true,
            "the token lives in the session only"
        );
    });

    checks.check("the store as the API has it", || {
        // The store as the API has it.
        let made = listed(f, "stores", &store);
        assert_eq!(made["names"]["en"], format!("Console {store}"));
        assert_eq!(made["names"]["ja"], "コンソール店");
        assert_eq!(made["timezone"], "Asia/Tokyo");
        // Typed in lower case, saved as the code; the row says which apps carry offers in Japan,
        // and the list warns of a configured app that carries them in no store (Instagram).
        assert_eq!(made["country"], "JP");
        assert_eq!(seen["storeOffers"], "line,whatsapp");
        assert!(
            seen["storeRow"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "LINE, WhatsApp"),
            "{}",
            seen["storeRow"]
        );
        assert!(
            seen["deadChannels"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "instagram"),
            "{}",
            seen["deadChannels"]
        );
        assert_eq!(
            made["landing_url"],
            format!("https://shop.example/s/{store}")
        );
    });

    checks.check("the poster carries the landing URL shown", || {
        // The poster: the landing URL shown is the one its QR code carries.
        let landing = format!("https://shop.example/s/{store}?c={campaign}");
        assert_eq!(seen["landingUrl"], landing.as_str());
        let png = std::fs::read(seen["posterPng"].as_str().unwrap()).unwrap();
        assert_eq!(decode_png_qr(&png), landing);
        assert_eq!(
            seen["posterPngName"],
            format!("poster-{store}-{campaign}.png")
        );
        let svg = std::fs::read_to_string(seen["posterSvg"].as_str().unwrap()).unwrap();
        assert!(svg.contains("<svg"), "an SVG was downloaded");
    });

    checks.check("the coupon preview shows typed text as text", || {
        // The coupon: the preview shows typed text as text, and the API has what was typed.
        assert_eq!(
            seen["couponPreview"]["title"], "Autumn 10% off <b>now</b>",
            "hostile text stays text"
        );
        assert_eq!(seen["couponPreview"]["bold"], 0);
        assert_eq!(
            seen["couponPreview"]["description"],
            "On everything in store."
        );
        assert_eq!(seen["couponPreviewJa"], "クーポン");
        let saved = listed(f, "coupons", &coupon);
        assert_eq!(saved["title"]["en"], "Autumn 10% off <b>now</b>");
        assert_eq!(saved["stores"], serde_json::json!([store]));
        assert_eq!(saved["requires_consent"], true);
    });

    checks.check("the notice is put in force only when confirmed", || {
        // The notice: cancelling changed nothing; confirming put it in force.
        assert_eq!(seen["activatedAfterCancel"], Value::Null);
        assert!(seen["activatedAfterConfirm"].is_u64(), "{seen}");
        let dialog = &seen["activateDialog"];
        assert!(
            dialog["text"]
                .as_str()
                .unwrap()
                .contains("cannot be undone"),
            "{dialog}"
        );
        assert_eq!(dialog["focused"], "dialog-cancel", "the safe button first");
        // The English texts side by side (another test's notice may be the one in force, in
        // other languages too).
        let compared = seen["compare"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["lang"] == "en")
            .unwrap_or_else(|| panic!("English compared: {}", seen["compare"]));
        assert!(
            compared["proposed"].as_str().unwrap().contains(&notice),
            "{compared}"
        );
        assert!(
            compared["added"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l.as_str().unwrap().contains("favourite store")),
            "{compared}"
        );
    });

    checks.check(
        "the funnel of a new store is empty and its CSV is the API's",
        || {
            // The funnel of a new store: nothing yet; its CSV is the API's.
            assert_eq!(seen["funnelBefore"]["views"], "0");
            assert_eq!(seen["funnelBefore"]["optins"], "0");
            let csv = std::fs::read_to_string(seen["funnelCsv"].as_str().unwrap()).unwrap();
            assert!(csv.starts_with("store_id,time_zone,day,landing_views,"));
            assert!(csv.contains(&format!("\r\n{store},Asia/Tokyo,")), "{csv}");
        },
    );

    let key = seen["posKey"].as_str().unwrap_or_default().to_owned();
    let key_id = key.get(3..11).unwrap_or_default().to_owned();
    checks.check("the POS key is shown once", || {
        // The POS key, shown once, works at the till.
        assert!(key.starts_with("pk_"), "{key}");
        assert_eq!(seen["posKeyShownAgain"], false);
        assert_eq!(seen["posKeyRows"], serde_json::json!([key_id]));
    });

    // A shopper: a landing view, an opt-in on LINE, a redemption with the console's key.
    assert_eq!(f.app.get(&format!("/s/{store}?c={campaign}")).status, 200);
    let (user, member, _) = new_member(f, &store);
    let redeemed = redeem(&f.app, &key, &barcode(&member, ""), &coupon, &unique("TC-"));
    checks.check("the console's key redeems at the till", || {
        assert_eq!(redeemed.status, 200, "{}", redeemed.text());
    });

    // The same coupon, kept by a till while offline under another transaction: a conflict.
    let conflict = crate::offline::queued(
        &f.app,
        &key,
        &barcode(&member, ""),
        &coupon,
        &unique("TO-"),
        crate::webhooks::now_ms() - 60_000,
    );
    checks.check(
        "an offline redemption of a redeemed coupon is a conflict",
        || {
            assert_eq!(
                conflict.error_code(),
                "already_redeemed",
                "{}",
                conflict.text()
            );
        },
    );

    let after = run(f, &["after", &store, &member, &key_id]);
    checks.check(
        "the console lists the store's offline conflicts and sets a key's limit",
        || {
            let rows = after["conflictRows"].as_array().unwrap();
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert_eq!(rows[0]["reason"], "already_redeemed");
            assert!(rows[0]["cells"].to_string().contains(&coupon), "{rows:?}");
            assert_eq!(after["limitAfterSave"], 7);
        },
    );
    checks.check("the funnel counts the shopper", || {
        let funnel = &after["funnelAfter"];
        for (field, least) in [
            ("views", 1),
            ("optins", 1),
            ("cards", 1),
            ("redemptions", 1),
        ] {
            let n: u64 = funnel[field].as_str().unwrap().parse().unwrap();
            assert!(n >= least, "{field}: {funnel}");
        }
        assert_eq!(
            after["tabletOverflow"], false,
            "no sideways scrolling on a tablet"
        );
    });

    checks.check("the member is readable, then erased", || {
        // The member, readable; then erased.
        let shown = &after["member"];
        assert!(shown["title"].as_str().unwrap().contains(&member));
        assert!(
            strings(&shown["accounts"])
                .iter()
                .any(|a| a.contains("LINE") && a.contains(&user)),
            "{shown}"
        );
        assert!(
            shown["tables"].to_string().contains(&coupon),
            "the redemption is listed: {shown}"
        );
        assert!(shown["cardLink"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.example/card/"));
        let receipts: Value = serde_json::from_str(
            &std::fs::read_to_string(after["receipts"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert!(!receipts["receipts"].as_array().unwrap().is_empty());
        assert_eq!(after["eraseDisabledAtFirst"], true);
        assert_eq!(after["eraseDisabledWithWrongNumber"], true);
        assert_eq!(after["eraseEnabledWithNumber"], true);
        assert!(after["erased"]["text"]
            .as_str()
            .unwrap()
            .contains("was erased"));
        assert!(
            !after["memberAfterErase"].to_string().contains(&user),
            "the LINE id is gone: {}",
            after["memberAfterErase"]
        );
    });

    checks.check("a revoked key is refused at the till", || {
        // The key, revoked: the till is refused.
        assert!(
            after["keyRow"].to_string().contains("Revoked"),
            "{}",
            after["keyRow"]
        );
        let refused = redeem(&f.app, &key, &barcode(&member, ""), &coupon, &unique("TC-"));
        assert_eq!(refused.status, 401);
    });

    checks.check("the feed's secrets are shown once and rotate", || {
        // The events feed: each secret shown once, two in force after a rotation, deleted.
        let (first, second) = (
            after["feedSecret"].as_str().unwrap(),
            after["feedRotatedSecret"].as_str().unwrap(),
        );
        assert!(first.starts_with("whsec_") && second.starts_with("whsec_") && first != second);
        assert_eq!(after["feedSecretsInForce"], "2");
        assert_eq!(after["feedListedAfterDelete"], false);
    });

    checks.check("Japanese, French and sign-out", || {
        // Japanese and French, and sign-out.
        assert!(strings(&after["nav_ja"]).contains(&"店舗".to_owned()));
        assert_eq!(after["lang_ja"], "ja");
        assert!(strings(&after["nav_fr"]).contains(&"Magasins".to_owned()));
        assert_eq!(after["tokenAfterSignOut"], Value::Null);
    });
    checks.done();
}

fn console_is_a_static_page_with_a_strict_policy(f: &Fixture) {
    let page = f.app.get("/admin");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap_or_default();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let html = page.text();
    assert!(!html.contains(ADMIN_TOKEN) && !html.contains("ADMIN_TOKEN="));
    // One script, an ES module of this origin, nothing inline.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(
        html.contains(r#"<script type="module" src="/assets/console/main.js"></script>"#),
        "{html}"
    );
    // The modules hold no secret either: they only ever send what the person typed.
    let modules = console_modules(f);
    let on_disk: BTreeSet<String> =
        std::fs::read_dir(harness::repo_root().join("static/assets/console"))
            .unwrap()
            .map(|e| {
                format!(
                    "/assets/console/{}",
                    e.unwrap().file_name().to_string_lossy()
                )
            })
            .collect();
    assert_eq!(
        modules.keys().cloned().collect::<BTreeSet<_>>(),
        on_disk,
        "main.js reaches every module"
    );
    for (path, script) in &modules {
        assert!(!script.contains(ADMIN_TOKEN), "{path}");
        for html_sink in [
            ".innerHTML",
            ".outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(
                !script.contains(html_sink),
                "text reaches the page as text: {html_sink} in {path}"
            );
        }
    }
}

/// Every module of the console, by path: main.js and what it imports, followed from module to
/// module (`from "./name.js"`), each fetched as the browser does and revalidated on every load.
fn console_modules(f: &Fixture) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut next = vec!["/assets/console/main.js".to_owned()];
    while let Some(path) = next.pop() {
        if found.contains_key(&path) {
            continue;
        }
        let reply = f.app.get(&path);
        assert_eq!(reply.status, 200, "{path}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.contains("javascript")),
            "{path}: {:?}",
            reply.header("content-type")
        );
        assert_eq!(reply.header("cache-control"), Some("no-cache"), "{path}");
        let script = reply.text();
        for (i, _) in script.match_indices("from \"./") {
            let rest = &script[i + "from \"./".len()..];
            next.push(format!(
                "/assets/console/{}",
                &rest[..rest.find('"').unwrap()]
            ));
        }
        found.insert(path, script);
    }
    found
}

/// The checks of one browser journey, each run on its own: every one that fails is reported,
/// not only the first.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, name: &str, check: impl FnOnce()) {
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            self.0.push(format!("{name}: {why}"));
        }
    }

    fn done(self) {
        assert!(
            self.0.is_empty(),
            "{} check(s) failed:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}
