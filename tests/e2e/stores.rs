//! Stores, consent notices, landing pages, posters and view counting, end to end. Join codes on
//! the buttons are verified by the core; posters are read back by a real QR decoder (`rqrr`),
//! the SVG after Chromium has rendered it; the landing page is loaded in headless Chromium.

use std::process::Command;

use optin_core::codes::JoinCode;
use optin_core::settings::secrets::SigningKeys;
use serde_json::{json, Value};

use crate::harness::{self, Reply, Worker, ADMIN_TOKEN, SIGNING_KEYS};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        a_consent_records_the_notice_its_page_showed_not_one_activated_later,
        admin_creates_replaces_and_lists_stores,
        store_input_is_validated_with_codes,
        every_listed_time_zone_is_one_the_runtime_knows,
        notices_are_drafted_activated_frozen_and_published,
        landing_page_speaks_ja_en_fr_with_exact_buttons_and_valid_codes,
        hostile_store_names_are_escaped_on_every_page,
        favourite_store_choice_re_renders_buttons_with_new_codes,
        unknown_store_is_a_404_page_in_the_shoppers_language,
        landing_page_is_small_cached_privately_and_locked_down,
        posters_decode_to_the_landing_url,
        landing_views_are_all_counted_under_concurrency,
        landing_page_in_headless_chromium_at_a_phone_viewport,
    ]
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{:x}{}", nanos, N.fetch_add(1, Ordering::Relaxed))
}

fn bearer() -> String {
    format!("Bearer {ADMIN_TOKEN}")
}

fn admin(worker: &Worker, method: &str, path: &str, body: Option<Value>) -> Reply {
    let auth = bearer();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = body
        .map(|b| serde_json::to_vec(&b).unwrap())
        .unwrap_or_default();
    worker.send(method, path, &headers, body)
}

fn create_store(worker: &Worker, id: &str, names: Value) {
    let reply = admin(
        worker,
        "PUT",
        &format!("/api/admin/stores/{id}"),
        Some(json!({ "names": names, "address": "1-2-3 Jingumae", "timezone": "Asia/Tokyo" })),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
}

fn keys() -> SigningKeys {
    SigningKeys::parse(SIGNING_KEYS).unwrap()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The `href`s of the channel buttons, in page order.
fn button_hrefs(page: &str) -> Vec<String> {
    page.split("class=\"button channel-")
        .skip(1)
        .map(|part| {
            let start = part.find("href=\"").unwrap() + 6;
            let end = start + part[start..].find('"').unwrap();
            part[start..end].replace("&amp;", "&")
        })
        .collect()
}

/// The join code inside a button's link.
fn code_of(href: &str) -> String {
    href.rsplit(['=', '?'])
        .next()
        .unwrap()
        .trim_start_matches("JOIN%20")
        .to_owned()
}

// ---- tests ---------------------------------------------------------------------------------

fn admin_creates_replaces_and_lists_stores(f: &Fixture) {
    let id = unique("store");
    create_store(&f.app, &id, json!({ "en": "First name" }));
    let replaced = admin(
        &f.app,
        "PUT",
        &format!("/api/admin/stores/{id}"),
        Some(
            json!({ "names": { "en": "Second name", "ja": "二番目" }, "address": "x", "timezone": "UTC" }),
        ),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(replaced.json()["store"]["names"]["ja"], "二番目");
    let list = admin(&f.app, "GET", "/api/admin/stores", None).json();
    let found: Vec<&Value> = list["stores"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"] == id.as_str())
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["names"]["en"], "Second name");
    assert_eq!(found[0]["timezone"], "UTC");
    assert_eq!(f.app.get("/api/admin/stores").status, 401);
}

fn store_input_is_validated_with_codes(f: &Fixture) {
    let good = json!({ "names": { "en": "X" }, "address": "x", "timezone": "Asia/Tokyo" });
    let mut unknown_field = good.clone();
    unknown_field["colour"] = json!("red");
    let cases: Vec<(String, Vec<u8>, u16, &str)> = vec![
        (
            "/api/admin/stores/Bad_Id".into(),
            serde_json::to_vec(&good).unwrap(),
            400,
            "invalid_store_id",
        ),
        (
            format!("/api/admin/stores/{}", unique("v")),
            b"{not json".to_vec(),
            400,
            "invalid_json",
        ),
        (
            format!("/api/admin/stores/{}", unique("v")),
            serde_json::to_vec(&unknown_field).unwrap(),
            400,
            "invalid_body",
        ),
        (
            format!("/api/admin/stores/{}", unique("v")),
            serde_json::to_vec(
                &json!({ "names": { "en": "X" }, "address": "x", "timezone": "Tokyo" }),
            )
            .unwrap(),
            422,
            "invalid_timezone",
        ),
        (
            format!("/api/admin/stores/{}", unique("v")),
            serde_json::to_vec(
                &json!({ "names": { "de": "X" }, "address": "x", "timezone": "UTC" }),
            )
            .unwrap(),
            422,
            "unsupported_language",
        ),
        (
            format!("/api/admin/stores/{}", unique("v")),
            vec![b' '; 65 * 1024],
            413,
            "payload_too_large",
        ),
    ];
    let auth = bearer();
    for (path, body, status, code) in cases {
        let reply = f.app.send("PUT", &path, &[("authorization", &auth)], body);
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, code.to_owned()),
            "{path}"
        );
    }
}

/// openapi.yaml promises every zone of its `Timezone` enum (the core's list): workerd's own
/// time-zone data must know each one, or saving a store in it would answer 422.
fn every_listed_time_zone_is_one_the_runtime_knows(f: &Fixture) {
    let zones = optin_core::time_zones::TIME_ZONES;
    let refused: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = zones
            .chunks(zones.len().div_ceil(4))
            .map(|chunk| {
                scope.spawn(move || {
                    let path = format!("/api/admin/stores/{}", unique("tz"));
                    let mut refused = Vec::new();
                    for zone in chunk {
                        let body =
                            json!({ "names": { "en": "Zone" }, "address": "x", "timezone": zone });
                        let reply = admin(&f.app, "PUT", &path, Some(body));
                        if !matches!(reply.status, 200 | 201) {
                            refused.push(format!("{zone}: {} {}", reply.status, reply.text()));
                        }
                    }
                    refused
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        refused.is_empty(),
        "{} zones refused: {refused:#?}",
        refused.len()
    );
    assert!(zones.len() > 400, "{}", zones.len());
}

/// Day 0 the page shows v1 and issues a code; day 2 v2 is activated; day 3 `JOIN {code}` records
/// v1, the version the shopper saw, not v2.
fn a_consent_records_the_notice_its_page_showed_not_one_activated_later(f: &Fixture) {
    let id = unique("noticed");
    create_store(&f.app, &id, json!({ "en": "Noticed" }));
    let body = json!({ "texts": { "en": { "title": "Offers", "body": "We send offers." } } });
    let activate = |v: &str| {
        let put = admin(
            &f.app,
            "PUT",
            &format!("/api/admin/notices/{v}"),
            Some(body.clone()),
        );
        assert_eq!(put.status, 201, "{}", put.text());
        let on = admin(
            &f.app,
            "POST",
            &format!("/api/admin/notices/{v}/activate"),
            None,
        );
        assert_eq!(on.status, 200, "{}", on.text());
    };
    activate(&unique("seen"));
    let page = f.app.get(&format!("/s/{id}?lang=en")).text();
    // The version the page displays (other tests activate notices concurrently: read it).
    let start = page.find("/privacy/").expect("the page links its notice") + "/privacy/".len();
    let displayed: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    let code = code_of(&button_hrefs(&page)[0]);
    let later = unique("later");
    activate(&later);
    let user = unique("Unotice");
    let join =
        crate::webhooks::line_text(&user, &format!("JOIN {code}"), crate::webhooks::now_ms());
    let reply = crate::webhooks::post_line(&f.app, &crate::webhooks::line_body(&[join]));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let history = crate::webhooks::consent(&f.app, "line", &user);
    let event = &history["events"][0];
    assert_eq!(event["notice_version"], displayed.as_str(), "{history}");
    assert_ne!(event["notice_version"], later.as_str());
    assert_eq!(event["store_id"], id.as_str());
}

fn notices_are_drafted_activated_frozen_and_published(f: &Fixture) {
    let v1 = unique("n");
    let v2 = unique("n");
    let text = |title: &str| {
        json!({ "texts": {
            "en": { "title": title, "body": "We send offers.\n\nStop any time." },
            "ja": { "title": "同意事項", "body": "お得な情報をお送りします。" },
        }})
    };
    assert_eq!(
        admin(
            &f.app,
            "PUT",
            &format!("/api/admin/notices/{v1}"),
            Some(text("First"))
        )
        .status,
        201
    );
    // A draft is not public.
    assert_eq!(f.app.get(&format!("/privacy/{v1}")).status, 404);
    let activated = admin(
        &f.app,
        "POST",
        &format!("/api/admin/notices/{v1}/activate"),
        None,
    );
    assert_eq!(activated.status, 200, "{}", activated.text());
    // Once in force, a version is frozen.
    let replace = admin(
        &f.app,
        "PUT",
        &format!("/api/admin/notices/{v1}"),
        Some(text("Changed")),
    );
    assert_eq!(
        (replace.status, replace.error_code().as_str()),
        (409, "notice_immutable")
    );
    assert_eq!(
        admin(
            &f.app,
            "PUT",
            &format!("/api/admin/notices/{v2}"),
            Some(text("Second"))
        )
        .status,
        201
    );
    assert_eq!(
        admin(
            &f.app,
            "POST",
            &format!("/api/admin/notices/{v2}/activate"),
            None
        )
        .status,
        200
    );

    let active = f.app.get_with("/privacy", &[("accept-language", "en")]);
    assert_eq!(active.status, 200);
    let page = active.text();
    assert!(page.contains("Second") && page.contains(&v2), "{page}");
    assert!(
        page.contains(&format!("href=\"/privacy/{v1}?lang=en\"")),
        "earlier versions are listed"
    );
    let old = f
        .app
        .get_with(&format!("/privacy/{v1}"), &[("accept-language", "ja")])
        .text();
    assert!(old.contains("同意事項") && old.contains("<html lang=\"ja\">"));
    assert_eq!(
        admin(&f.app, "POST", "/api/admin/notices/nope/activate", None).status,
        404
    );
    let listed = admin(&f.app, "GET", "/api/admin/notices", None).json();
    assert!(listed["notices"].as_array().unwrap().len() >= 2);
}

fn landing_page_speaks_ja_en_fr_with_exact_buttons_and_valid_codes(f: &Fixture) {
    let id = unique("landing");
    create_store(
        &f.app,
        &id,
        json!({ "ja": "渋谷店", "en": "Shibuya", "fr": "Shibuya FR" }),
    );
    let cases = [
        (
            vec![("accept-language", "ja-JP,ja;q=0.9")],
            String::new(),
            "ja",
            "渋谷店",
            "LINEで登録",
        ),
        (
            vec![("accept-language", "ja")],
            "&lang=en".to_owned(),
            "en",
            "Shibuya",
            "Join on LINE",
        ),
        (
            vec![("accept-language", "fr-FR")],
            String::new(),
            "fr",
            "Shibuya FR",
            "Rejoindre sur LINE",
        ),
    ];
    for (headers, extra, lang, name, label) in cases {
        let reply = f
            .app
            .get_with(&format!("/s/{id}?c=spring{extra}"), &headers);
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page = reply.text();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        assert!(page.contains(&format!("<h1>{name}</h1>")), "{lang}");
        assert!(page.contains(label), "{lang}");
        let hrefs = button_hrefs(&page);
        assert_eq!(hrefs.len(), 4, "{hrefs:?}");
        let code = code_of(&hrefs[0]);
        assert_eq!(
            hrefs,
            [
                format!("https://line.me/R/oaMessage/%40123abcde/?JOIN%20{code}"),
                format!("https://wa.me/15551234567?text=JOIN%20{code}"),
                format!("https://m.me/demo.retail.page?ref={code}"),
                format!("https://ig.me/m/demo.retail?ref={code}"),
            ]
        );
        let join =
            JoinCode::verify(&keys(), &code, now_secs()).expect("the button's code verifies");
        assert_eq!(join.store.as_str(), id);
        assert_eq!(join.campaign.as_ref().map(|c| c.as_str()), Some("spring"));
        assert_eq!(join.lang.map(|l| l.code()), Some(lang));
        assert!(
            page.contains("/privacy/"),
            "the notice version links to its text"
        );
    }
}

fn hostile_store_names_are_escaped_on_every_page(f: &Fixture) {
    let id = unique("hostile");
    let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)> \u{202E}RTL 🛒 & Co";
    create_store(&f.app, &id, json!({ "en": hostile }));
    for path in [format!("/s/{id}?lang=en"), format!("/s/{id}?lang=ja")] {
        let page = f.app.get(&path).text();
        assert!(!page.contains("<script>alert"), "{path}");
        assert!(!page.contains("<img src=x"), "{path}");
        assert!(page.contains("&lt;script&gt;alert('x')&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt; \u{202E}RTL 🛒 &amp; Co"));
    }
    let svg = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stores/{id}/poster.svg"),
        None,
    )
    .text();
    assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
}

fn favourite_store_choice_re_renders_buttons_with_new_codes(f: &Fixture) {
    let scanned = unique("scan");
    let other = unique("fav");
    create_store(&f.app, &scanned, json!({ "en": "Scanned" }));
    create_store(&f.app, &other, json!({ "en": "Favourite" }));
    let page = f
        .app
        .get(&format!("/s/{scanned}?lang=en&fav={other}&c=autumn"))
        .text();
    assert!(page.contains(&format!("<option value=\"{other}\" selected>")));
    let code = code_of(&button_hrefs(&page)[0]);
    let join = JoinCode::verify(&keys(), &code, now_secs()).unwrap();
    assert_eq!(
        join.store.as_str(),
        other,
        "the code carries the favourite store"
    );
    assert_eq!(join.campaign.unwrap().as_str(), "autumn");
    // The form re-submits to the scanned store's page, keeping the campaign and language.
    assert!(page.contains(&format!("action=\"/s/{scanned}\"")));
    assert!(page.contains("name=\"c\" value=\"autumn\""));
    // An unknown favourite falls back to the scanned store.
    let page = f.app.get(&format!("/s/{scanned}?fav=no-such-store")).text();
    let join = JoinCode::verify(&keys(), &code_of(&button_hrefs(&page)[0]), now_secs()).unwrap();
    assert_eq!(join.store.as_str(), scanned);
}

fn unknown_store_is_a_404_page_in_the_shoppers_language(f: &Fixture) {
    for (accept, title) in [
        ("ja", "ページが見つかりません"),
        ("fr", "Page introuvable"),
        ("en", "Page not found"),
    ] {
        for path in ["/s/no-such-store", "/s/Not_A_Valid_Id"] {
            let reply = f.app.get_with(path, &[("accept-language", accept)]);
            assert_eq!(reply.status, 404);
            assert!(reply.text().contains(title), "{accept} {path}");
        }
    }
}

fn landing_page_is_small_cached_privately_and_locked_down(f: &Fixture) {
    let id = unique("small");
    create_store(&f.app, &id, json!({ "ja": "小さい店", "en": "Small" }));
    let reply = f.app.get(&format!("/s/{id}"));
    assert!(reply.body.len() < 20 * 1024, "{} bytes", reply.body.len());
    assert_eq!(reply.header("cache-control"), Some("private, max-age=300"));
    assert_eq!(reply.header("vary"), Some("Accept-Language"));
    let csp = reply.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'self'"));
    assert!(!reply.text().contains("<script"));
    assert!(
        reply.text().contains("<html lang=\"ja\">"),
        "the store's first language by default"
    );
}

fn posters_decode_to_the_landing_url(f: &Fixture) {
    let id = unique("poster");
    create_store(&f.app, &id, json!({ "ja": "渋谷店", "en": "Shibuya" }));
    let expected = format!("https://shop.example/s/{id}?c=spring");

    let png = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stores/{id}/poster.png?c=spring"),
        None,
    );
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type"), Some("image/png"));
    let (w, h, grey) = decode_png(&png.body);
    assert_eq!((w, h), (2480, 3508), "A4 at 300 dpi");
    assert_eq!(decode_qr(w, h, &grey), expected);
    std::fs::write(harness::artifact_path("poster.png"), &png.body).unwrap();

    let svg = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stores/{id}/poster.svg?c=spring"),
        None,
    );
    assert_eq!(svg.status, 200);
    assert!(svg
        .header("content-type")
        .unwrap()
        .starts_with("image/svg+xml"));
    let svg_path = harness::artifact_path("poster.svg");
    std::fs::write(&svg_path, &svg.body).unwrap();
    // Chromium renders the SVG; rqrr reads the QR code off the screenshot.
    let shot = harness::artifact_path("poster-svg-rendered.png");
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            &format!(
                "--user-data-dir={}",
                std::env::temp_dir().join(unique("chromium")).display()
            ),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1240,1754",
            &format!("file://{}", svg_path.display()),
        ])
        .output()
        .expect("chromium is installed (scripts/setup.sh)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let (w, h, grey) = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!(decode_qr(w, h, &grey), expected);

    let bad = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stores/{id}/poster.svg?c=Bad%20Campaign"),
        None,
    );
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "invalid_campaign")
    );
    assert_eq!(
        admin(
            &f.app,
            "GET",
            "/api/admin/stores/missing-store/poster.png",
            None
        )
        .status,
        404
    );
    assert_eq!(
        f.app
            .get(&format!("/api/admin/stores/{id}/poster.png"))
            .status,
        401
    );
}

/// Width, height and one grey byte per pixel of any PNG (1-bit to RGBA).
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = frame.color_type.samples();
    let grey = (0..w * h).map(|i| buf[i * channels]).collect();
    (w, h, grey)
}

/// The one QR code of a PNG (any colour type), read by `rqrr`.
pub(crate) fn decode_png_qr(bytes: &[u8]) -> String {
    let (w, h, grey) = decode_png(bytes);
    decode_qr(w, h, &grey)
}

fn decode_qr(w: usize, h: usize, grey: &[u8]) -> String {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

fn landing_views_are_all_counted_under_concurrency(f: &Fixture) {
    let id = unique("views");
    create_store(&f.app, &id, json!({ "en": "Views" }));
    let views = 60;
    std::thread::scope(|s| {
        for _ in 0..12 {
            s.spawn(|| {
                for _ in 0..views / 12 {
                    assert_eq!(f.app.get(&format!("/s/{id}")).status, 200);
                }
            });
        }
    });
    // Views are counted after the response: wait for them.
    let mut counted = 0;
    for _ in 0..50 {
        let stats = admin(&f.app, "GET", "/api/admin/stats", None);
        assert_eq!(stats.status, 200, "{}", stats.text());
        counted = stats.json()["stats"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["store_id"] == id.as_str())
            .map(|r| r["landing_views"].as_u64().unwrap())
            .sum();
        if counted >= views {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(counted, views);
    let bad = admin(&f.app, "GET", "/api/admin/stats?from=2026-13", None);
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (400, "invalid_date")
    );
}

fn landing_page_in_headless_chromium_at_a_phone_viewport(f: &Fixture) {
    let id = unique("browser");
    create_store(&f.app, &id, json!({ "ja": "渋谷店", "en": "Shibuya" }));
    let url = format!("{}/s/{id}?c=spring", f.app.base);
    let shot = harness::artifact_path("landing-phone.png");
    let seen = harness::browser("landing.mjs", &[&url, &shot.display().to_string()]);
    assert_eq!(seen["status"], 200);
    assert_eq!(seen["lang"], "ja");
    assert_eq!(seen["errors"], json!([]), "no console errors");
    assert_eq!(
        seen["axe"],
        json!([]),
        "axe-core: no serious or critical violation"
    );
    let requests: Vec<&str> = seen["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        requests.iter().all(|r| r.starts_with(&f.app.base)),
        "no third-party requests: {requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.ends_with("/assets/site.css")),
        "the stylesheet loads"
    );
    let buttons = seen["buttons"].as_array().unwrap();
    assert_eq!(buttons.len(), 4);
    let code = code_of(buttons[0]["href"].as_str().unwrap());
    for (button, prefix) in buttons.iter().zip([
        "https://line.me/R/oaMessage/%40123abcde/?JOIN%20",
        "https://wa.me/15551234567?text=JOIN%20",
        "https://m.me/demo.retail.page?ref=",
        "https://ig.me/m/demo.retail?ref=",
    ]) {
        assert_eq!(button["visible"], true, "{button}");
        assert!(
            button["height"].as_f64().unwrap() >= 44.0,
            "a thumb-sized target: {button}"
        );
        assert_eq!(button["href"].as_str().unwrap(), format!("{prefix}{code}"));
    }
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot was saved"
    );
}
