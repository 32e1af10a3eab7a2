//! Members and their cards, end to end: the journey from an opt-in to the card, the coupons it
//! shows, the one-tap stop, a second channel joined with a link code, the access export and
//! erasure; concurrent first grants; barcodes decoded by a real decoder; the card in Chromium.

use std::process::Command;

use serde_json::{json, Value};

use crate::harness::{self, Reply, Worker, ADMIN_TOKEN, SIGNING_KEY_TEXT, SIGNING_KID};
use crate::sign::read_barcode;
use crate::webhooks::{
    code_for, consent, line_body, line_event, line_text, now_ms, post_line, post_meta, unique,
    whatsapp_text,
};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        the_card_shows_the_number_the_barcode_and_the_coupons_of_the_window_in_each_language,
        one_tap_on_the_card_stops_every_message_and_hides_the_coupons_that_need_consent,
        the_favourite_store_changes_on_the_card,
        a_second_app_joins_the_same_member_and_the_access_export_shows_both_accounts,
        erasure_kills_the_card_leaves_no_user_id_in_the_ledger_and_a_new_opt_in_is_a_new_member,
        two_identical_first_grants_at_once_make_one_member_and_one_welcome,
        a_forwarded_link_code_cannot_take_over_a_member,
        card_barcodes_decode_to_signed_payloads_of_the_member_and_coupon,
        forged_unknown_and_malformed_cards_are_the_404_page,
        coupons_are_validated_with_codes_and_listed,
        member_admin_routes_need_the_token_and_a_valid_number,
        card_in_headless_chromium_at_a_phone_viewport,
        a_stop_drops_the_phones_offline_copy_of_the_card,
    ]
}

/// A coupon id no other test (or run) uses, within the 16 characters a coupon id may have.
pub(crate) fn coupon_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let salt = (now_ms() ^ u64::from(std::process::id()) << 20) % 0xff_ffff;
    format!("{prefix}{salt:06x}{n:x}")
}

pub(crate) fn bearer() -> String {
    format!("Bearer {ADMIN_TOKEN}")
}

pub(crate) fn admin(worker: &Worker, method: &str, path: &str, body: Option<Value>) -> Reply {
    let auth = bearer();
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    worker.send(
        method,
        path,
        &headers,
        body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    )
}

pub(crate) fn rfc3339(ms: u64) -> String {
    // Whole seconds, truncated: a caller that needs "after a moment" rounds up itself.
    let secs = ms / 1000;
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub(crate) const DAY: u64 = 86_400_000;

pub(crate) fn create_store(worker: &Worker, id: &str) {
    let reply = admin(
        worker,
        "PUT",
        &format!("/api/admin/stores/{id}"),
        Some(
            json!({"names": {"en": format!("Store {id}"), "ja": "店", "fr": "Magasin"},
            "address": "1-2-3 Example", "timezone": "Asia/Tokyo"}),
        ),
    );
    assert!(matches!(reply.status, 200 | 201), "{}", reply.text());
}

pub(crate) fn put_coupon(worker: &Worker, id: &str, body: Value) -> Reply {
    admin(
        worker,
        "PUT",
        &format!("/api/admin/coupons/{id}"),
        Some(body),
    )
}

pub(crate) fn coupon(
    title: &str,
    from: u64,
    until: u64,
    stores: Option<Vec<&str>>,
    consent: bool,
) -> Value {
    let mut c = json!({
        "title": {"en": title, "ja": format!("{title} (ja)"), "fr": format!("{title} (fr)")},
        "valid_from": rfc3339(from),
        "valid_until": rfc3339(until),
        "requires_consent": consent,
    });
    if let Some(s) = stores {
        c["stores"] = json!(s);
    }
    c
}

/// The card path (`/card/{ref}`) of a welcome message sent to `needle`.
pub(crate) fn card_path_from_welcome(f: &Fixture, needle: &str) -> String {
    let sent = f.platforms.wait_for(needle, 1);
    assert!(!sent.is_empty(), "a welcome mentioning {needle}");
    let text = String::from_utf8_lossy(&sent.last().unwrap().body).into_owned();
    let start = text
        .find("https://shop.example/card/")
        .expect("a card link")
        + "https://shop.example".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
        .collect()
}

pub(crate) fn join_line(f: &Fixture, user: &str, store: &str) -> String {
    let token = unique("rt-join");
    let mut event = line_text(user, &format!("JOIN {}", code_for(store, "", 2)), now_ms());
    event["replyToken"] = json!(token);
    let reply = post_line(&f.app, &line_body(&[event]));
    assert_eq!(reply.status, 200, "{}", reply.text());
    card_path_from_welcome(f, &token)
}

pub(crate) fn member_export(worker: &Worker, number: &str) -> Reply {
    admin(worker, "GET", &format!("/api/admin/members/{number}"), None)
}

/// Coupon titles (English) the card page shows.
fn titles_on(page: &str, titles: &[&str]) -> Vec<String> {
    titles
        .iter()
        .filter(|t| page.contains(&format!("<h3>{t}</h3>")))
        .map(|t| (*t).to_owned())
        .collect()
}

/// What the card cases share: a home store and another, four coupons (everywhere, only the
/// other store, expired, and one at home that needs no consent), and a shopper who joined on
/// LINE with the home store's join code. Each case makes its own, so each fails on its own.
struct CardScene {
    home: String,
    other: String,
    titles: [String; 4],
    user: String,
    card: String,
    number: String,
}

impl CardScene {
    fn new(f: &Fixture) -> CardScene {
        let (home, other) = (unique("home"), unique("other"));
        create_store(&f.app, &home);
        create_store(&f.app, &other);
        let now = now_ms();
        let everywhere = coupon_id("all");
        let others = coupon_id("oth");
        let expired = coupon_id("old");
        let free = coupon_id("free");
        let (t_all, t_other, t_old, t_free) = (
            format!("Everywhere {everywhere}"),
            format!("Other store {others}"),
            format!("Expired {expired}"),
            format!("No consent needed {free}"),
        );
        for (id, body) in [
            (
                &everywhere,
                coupon(&t_all, now - DAY, now + 30 * DAY, None, true),
            ),
            (
                &others,
                coupon(
                    &t_other,
                    now - DAY,
                    now + 30 * DAY,
                    Some(vec![&other]),
                    true,
                ),
            ),
            (
                &expired,
                coupon(&t_old, now - 30 * DAY, now - DAY, None, true),
            ),
            (
                &free,
                coupon(&t_free, now - DAY, now + 30 * DAY, Some(vec![&home]), false),
            ),
        ] {
            let reply = put_coupon(&f.app, id, body);
            assert_eq!(reply.status, 201, "{}", reply.text());
        }

        // Opt-in on LINE with the home store's join code: one welcome with the card link.
        let user = unique("Ucard");
        let card = join_line(f, &user, &home);
        let number = consent(&f.app, "line", &user)["member_number"]
            .as_str()
            .unwrap()
            .to_owned();
        CardScene {
            home,
            other,
            titles: [t_all, t_other, t_old, t_free],
            user,
            card,
            number,
        }
    }

    /// The titles of the scene's coupons that `html` shows, in order.
    fn shown(&self, html: &str) -> Vec<String> {
        let titles: Vec<&str> = self.titles.iter().map(String::as_str).collect();
        titles_on(html, &titles)
    }

    /// Sends the card's add-WhatsApp link code from a new WhatsApp number: that number.
    fn add_whatsapp(&self, f: &Fixture) -> String {
        let (card, number) = (&self.card, &self.number);
        let now = now_ms();
        let html = f.app.get(&format!("{card}?lang=en")).text();
        let marker = "https://wa.me/15551234567?text=JOIN%20";
        let start = html.find(marker).expect("an add-WhatsApp button") + marker.len();
        let link: String = html[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let wa = format!("8190{}", &now.to_string()[4..]);
        let reply = post_meta(
            &f.app,
            &serde_json::to_vec(&whatsapp_text(&wa, &format!("JOIN {link}"), now / 1000)).unwrap(),
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let welcome = f.platforms.settle(&wa, 1);
        assert!(
            String::from_utf8_lossy(&welcome[0].body).contains(&card[6..]),
            "the same card"
        );
        assert_eq!(
            consent(&f.app, "whatsapp", &wa)["member_number"],
            number.as_str()
        );
        wa
    }
}

fn the_card_shows_the_number_the_barcode_and_the_coupons_of_the_window_in_each_language(
    f: &Fixture,
) {
    let scene = CardScene::new(f);
    let (card, number) = (&scene.card, &scene.number);
    // The card in each language: number, member barcode, the coupons of the window, the store
    // and the consent.
    for (lang, word) in [
        ("en", "Membership card"),
        ("ja", "会員証"),
        ("fr", "Carte de membre"),
    ] {
        let page = f.app.get(&format!("{card}?lang={lang}"));
        assert_eq!(page.status, 200);
        let html = page.text();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        assert!(html.contains(word), "{lang}");
        assert!(html.contains(&format!(
            "{} {} {}",
            &number[0..4],
            &number[4..8],
            &number[8..12]
        )));
        assert!(html.contains("<svg"), "an inline barcode");
        assert_eq!(page.header("cache-control"), Some("private, no-store"));
    }
    let html = f.app.get(&format!("{card}?lang=en")).text();
    let [t_all, _, _, t_free] = &scene.titles;
    assert_eq!(scene.shown(&html), vec![t_all.clone(), t_free.clone()]);
    assert!(html.contains("Stop messages"));
}

fn one_tap_on_the_card_stops_every_message_and_hides_the_coupons_that_need_consent(f: &Fixture) {
    let scene = CardScene::new(f);
    let (card, user) = (&scene.card, &scene.user);
    // One tap stops: the consent-gated coupon goes, a confirmation is sent, the ledger says
    // card_page.
    let stop = f
        .app
        .send("POST", &format!("{card}/stop?lang=en"), &[], Vec::new());
    assert_eq!(stop.status, 200, "{}", stop.text());
    assert!(stop.text().contains("Messages stopped"));
    // The welcome went with the reply token; the confirmation is a push to the user.
    let confirmations = f.platforms.settle(user, 1);
    assert!(
        String::from_utf8_lossy(&confirmations[0].body).contains("unsubscribed"),
        "a confirmation without marketing"
    );
    assert_eq!(confirmations[0].path, "/v2/bot/message/push");
    let history = consent(&f.app, "line", user);
    assert_eq!(history["state"], "withdrawn");
    let last = history["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["source"].as_str(), last["action"].as_str()),
        (Some("card_page"), Some("withdrawn"))
    );
    let html = f.app.get(&format!("{card}?lang=en")).text();
    assert_eq!(scene.shown(&html), vec![scene.titles[3].clone()]);
    assert!(!html.contains("Stop messages"));
    let again = f.app.send("POST", &format!("{card}/stop"), &[], Vec::new());
    assert_eq!(again.status, 200);
    f.platforms.settle(user, 1);
}

fn the_favourite_store_changes_on_the_card(f: &Fixture) {
    let scene = CardScene::new(f);
    let (card, other) = (&scene.card, &scene.other);
    // The favourite store changes on the card.
    let fav = f.app.send(
        "POST",
        &format!("{card}/favourite?lang=en"),
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("store={other}").into_bytes(),
    );
    // 303 back to the card (the test client follows it, as a browser does).
    assert_eq!(fav.status, 200, "{}", fav.text());
    assert!(fav
        .text()
        .contains(&format!("<option value=\"{other}\" selected>")));
}

fn a_second_app_joins_the_same_member_and_the_access_export_shows_both_accounts(f: &Fixture) {
    let scene = CardScene::new(f);
    let stop = f
        .app
        .send("POST", &format!("{}/stop", scene.card), &[], Vec::new());
    assert_eq!(stop.status, 200);
    f.platforms.settle(&scene.user, 1);
    let fav = f.app.send(
        "POST",
        &format!("{}/favourite", scene.card),
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("store={}", scene.other).into_bytes(),
    );
    assert_eq!(fav.status, 200, "{}", fav.text());
    scene.add_whatsapp(f);
    let (card, number, user, other) = (&scene.card, &scene.number, &scene.user, &scene.other);
    // The access export: both accounts with their histories, the favourite store, the card.
    let export = member_export(&f.app, number);
    assert_eq!(export.status, 200, "{}", export.text());
    let m = &export.json()["member"];
    assert_eq!(m["favourite_store"], other.as_str());
    let subjects = m["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 2);
    assert_eq!(subjects[0]["user_id"], user.as_str());
    assert_eq!(subjects[0]["state"], "withdrawn");
    assert_eq!(subjects[1]["channel"], "whatsapp");
    assert_eq!(subjects[1]["state"], "granted");
    assert!(subjects[0]["events"].as_array().unwrap().len() >= 2);
    assert_eq!(m["redemptions"], json!([]));
    assert!(m["card_url"].as_str().unwrap().ends_with(&card[6..]));
}

fn erasure_kills_the_card_leaves_no_user_id_in_the_ledger_and_a_new_opt_in_is_a_new_member(
    f: &Fixture,
) {
    let scene = CardScene::new(f);
    let wa = scene.add_whatsapp(f);
    let (card, number, user, home) = (&scene.card, &scene.number, &scene.user, &scene.home);
    // Erasure: the card and its barcodes die, nothing personal stays in the ledger's values.
    let erased = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/members/{number}"),
        None,
    );
    assert_eq!(erased.status, 200, "{}", erased.text());
    assert_eq!(
        erased.json()["erased"]["subjects"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(f.app.get(card).status, 404);
    assert_eq!(f.app.get(&format!("{card}/barcode.png")).status, 404);
    assert_eq!(member_export(&f.app, number).status, 404);
    for (channel, id) in [("line", user), ("whatsapp", &wa)] {
        let history = consent(&f.app, channel, id);
        let text = history["events"].to_string();
        assert!(
            !text.contains(id.as_str()),
            "no channel user id left: {text}"
        );
        assert!(history["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["erased_at_ms"].is_u64()));
    }
    let again = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/members/{number}"),
        None,
    );
    assert_eq!(again.status, 200, "erasing again finishes or confirms");

    // The same person opting in again starts a new member.
    let card2 = join_line(f, user, home);
    assert_ne!(&card2, card);
    let number2 = consent(&f.app, "line", user)["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(&number2, number);
}

fn two_identical_first_grants_at_once_make_one_member_and_one_welcome(f: &Fixture) {
    for round in 0..3 {
        let user = unique("Utwin");
        let token = unique("rt-twin");
        let mut event = line_event(
            &user,
            "follow",
            now_ms(),
            json!({ "follow": { "isUnblocked": false } }),
        );
        event["replyToken"] = json!(token);
        let body = line_body(&[event]);
        let replies: Vec<Reply> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| s.spawn(|| post_line(&f.app, &body)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(replies.iter().all(|r| r.status == 200), "round {round}");
        let recorded: u64 = replies
            .iter()
            .map(|r| r.json()["recorded"].as_u64().unwrap())
            .sum();
        let duplicates: u64 = replies
            .iter()
            .map(|r| r.json()["duplicates"].as_u64().unwrap())
            .sum();
        assert_eq!((recorded, duplicates), (1, 1), "round {round}");
        assert_eq!(
            f.platforms.settle(&token, 1).len(),
            1,
            "one welcome, round {round}"
        );
        let history = consent(&f.app, "line", &user);
        assert_eq!(history["events"].as_array().unwrap().len(), 1);
        let number = history["member_number"].as_str().unwrap();
        let export = member_export(&f.app, number).json();
        assert_eq!(export["member"]["subjects"].as_array().unwrap().len(), 1);
    }
}

fn a_forwarded_link_code_cannot_take_over_a_member(f: &Fixture) {
    let store = unique("fwd");
    create_store(&f.app, &store);
    let user = unique("Uowner");
    let card = join_line(f, &user, &store);
    let number = consent(&f.app, "line", &user)["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let html = f.app.get(&card).text();
    let marker = "https://wa.me/15551234567?text=JOIN%20";
    let start = html.find(marker).unwrap() + marker.len();
    let link: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let now = now_ms();
    let first = format!("8191{}", &now.to_string()[4..]);
    let thief = format!("8192{}", &now.to_string()[4..]);
    for wa in [&first, &thief] {
        let body = whatsapp_text(wa, &format!("JOIN {link}"), now / 1000);
        let reply = post_meta(&f.app, &serde_json::to_vec(&body).unwrap());
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    assert_eq!(
        consent(&f.app, "whatsapp", &first)["member_number"],
        number.as_str()
    );
    let thief_member = consent(&f.app, "whatsapp", &thief)["member_number"].clone();
    assert_ne!(thief_member, json!(number), "a used code joins nobody else");
    assert!(
        thief_member.is_string(),
        "the second account still opted in, on its own card"
    );
    let export = member_export(&f.app, &number).json();
    assert_eq!(export["member"]["subjects"].as_array().unwrap().len(), 2);
    // A code for WhatsApp cannot add a Messenger account; a LINE code from another LINE account
    // cannot either (the member has LINE already): both get cards of their own.
    let line_marker = "https://m.me/demo.retail.page?ref=";
    let html = f.app.get(&card).text();
    assert!(!html.contains(marker), "WhatsApp is linked now: no button");
    assert!(html.contains(line_marker));
}

fn card_barcodes_decode_to_signed_payloads_of_the_member_and_coupon(f: &Fixture) {
    let store = unique("bc");
    create_store(&f.app, &store);
    let id = coupon_id("cpn");
    let now = now_ms();
    let reply = put_coupon(
        &f.app,
        &id,
        coupon("Barcode coupon", now - DAY, now + DAY, None, true),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let user = unique("Ubarcode");
    let card = join_line(f, &user, &store);
    let number = consent(&f.app, "line", &user)["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    for (query, coupon_id) in [("", ""), (&*format!("?coupon={id}"), id.as_str())] {
        let png = f.app.get(&format!("{card}/barcode.png{query}"));
        assert_eq!(png.status, 200);
        assert_eq!(png.header("content-type"), Some("image/png"));
        let payload = crate::stores::decode_png_qr(&png.body);
        let read = read_barcode(SIGNING_KID, SIGNING_KEY_TEXT, &payload).expect("a signed payload");
        assert_eq!(
            (read.member.as_str(), read.coupon.as_str()),
            (number.as_str(), coupon_id)
        );
        let expires_ms = u64::from(read.expires_at) * 1000;
        assert!(
            expires_ms > now + 13 * DAY && expires_ms < now + 15 * DAY,
            "valid about 14 days"
        );
        assert!(
            payload.len() <= 90
                && payload
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        let svg = f.app.get(&format!("{card}/barcode.svg{query}"));
        assert_eq!(svg.status, 200);
        assert_eq!(
            svg.header("content-type"),
            Some("image/svg+xml; charset=utf-8")
        );
        assert!(svg.text().starts_with("<svg"));
    }
    assert_eq!(
        f.app.get(&format!("{card}/barcode.svg?coupon=nope")).status,
        404
    );
}

fn forged_unknown_and_malformed_cards_are_the_404_page(f: &Fixture) {
    let user = unique("Uforge");
    let store = unique("frg");
    create_store(&f.app, &store);
    let card = join_line(f, &user, &store);
    let mut forged = card.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for path in [
        forged.as_str(),
        "/card/AAAAAAAAAAAAAAAAAAAAAAAA",
        "/card/%3Cscript%3E",
        "/card/x",
    ] {
        let reply = f.app.get_with(path, &[("accept-language", "ja")]);
        assert_eq!(reply.status, 404, "{path}");
        assert!(reply.text().contains("ページが見つかりません"), "{path}");
        assert_eq!(
            f.app
                .send("POST", &format!("{path}/stop"), &[], Vec::new())
                .status,
            404
        );
    }
}

fn coupons_are_validated_with_codes_and_listed(f: &Fixture) {
    let now = now_ms();
    let good = coupon("Listed", now, now + DAY, None, true);
    let id = coupon_id("lst");
    assert_eq!(put_coupon(&f.app, &id, good.clone()).status, 201);
    assert_eq!(put_coupon(&f.app, &id, good.clone()).status, 200);
    let list = admin(&f.app, "GET", "/api/admin/coupons", None);
    assert_eq!(list.status, 200);
    let listed = list.json()["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["requires_consent"], true);
    assert_eq!(listed["valid_from"], good["valid_from"]);
    // Kept as sent, with a word: an empty window (a cancelled coupon), a store not created yet.
    let mut odd = good.clone();
    odd["valid_until"] = good["valid_from"].clone();
    odd["stores"] = json!(["no-such-store-x"]);
    let kept = put_coupon(&f.app, &coupon_id("odd"), odd);
    assert_eq!(kept.status, 201, "{}", kept.text());
    let codes: Vec<String> = kept.json()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["never_valid", "unknown_store"]);
    assert_eq!(
        put_coupon(&f.app, &coupon_id("ok"), good.clone()).json()["warnings"],
        json!([])
    );
    let mut bad_date = good.clone();
    bad_date["valid_from"] = json!("tomorrow");
    let mut extra = good.clone();
    extra["discount"] = json!(10);
    for (body, status, code) in [
        (bad_date, 422, "invalid_valid_from"),
        (
            json!({"title": {}, "valid_from": good["valid_from"], "valid_until": good["valid_until"]}),
            422,
            "invalid_title",
        ),
        (extra, 400, "invalid_body"),
    ] {
        let reply = put_coupon(&f.app, &coupon_id("bad"), body);
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (status, code),
            "{}",
            reply.text()
        );
    }
    let reply = put_coupon(&f.app, "Not_An_Id", good);
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "invalid_coupon_id")
    );
    let raw = f.app.send(
        "PUT",
        &format!("/api/admin/coupons/{}", coupon_id("raw")),
        &[("authorization", &bearer())],
        b"{not json".to_vec(),
    );
    assert_eq!(
        (raw.status, raw.error_code().as_str()),
        (400, "invalid_json")
    );
}

fn member_admin_routes_need_the_token_and_a_valid_number(f: &Fixture) {
    for method in ["GET", "DELETE"] {
        let path = "/api/admin/members/000000000000";
        assert_eq!(f.app.send(method, path, &[], Vec::new()).status, 401);
        let wrong = f.app.send(
            method,
            path,
            &[("authorization", "Bearer wrong")],
            Vec::new(),
        );
        assert_eq!(wrong.status, 401);
        let bad = admin(&f.app, method, "/api/admin/members/123", None);
        assert_eq!(
            (bad.status, bad.error_code().as_str()),
            (400, "invalid_member_number")
        );
        // A valid number nobody has, and twelve digits no member can have (a wrong check
        // digit): both name nobody.
        for nobody in ["000000000018", "000000000019"] {
            let none = admin(
                &f.app,
                method,
                &format!("/api/admin/members/{nobody}"),
                None,
            );
            assert_eq!(
                (none.status, none.error_code().as_str()),
                (404, "not_found"),
                "{nobody}: {}",
                none.text()
            );
        }
    }
    assert_eq!(
        f.app
            .send("GET", "/api/admin/coupons", &[], Vec::new())
            .status,
        401
    );
}

/// The card's service worker keeps a copy for a till without signal; a stop must not leave the
/// copy showing what the stop took away.
fn a_stop_drops_the_phones_offline_copy_of_the_card(f: &Fixture) {
    let store = unique("sw");
    create_store(&f.app, &store);
    let user = unique("Usw");
    let card = join_line(f, &user, &store);
    let seen = harness::browser("card_copy.mjs", &[&format!("{}{card}?lang=en", f.app.base)]);
    assert_eq!(
        seen["controlled"], true,
        "the service worker took over: {seen}"
    );
    assert_eq!(seen["before"], true, "a copy was kept: {seen}");
    assert_eq!(seen["after"], false, "the stop dropped it: {seen}");
    assert_eq!(seen["errors"], json!([]), "{seen}");
    assert_eq!(consent(&f.app, "line", &user)["state"], "withdrawn");
}

fn card_in_headless_chromium_at_a_phone_viewport(f: &Fixture) {
    let store = unique("chr");
    create_store(&f.app, &store);
    let now = now_ms();
    let id = coupon_id("chr");
    put_coupon(
        &f.app,
        &id,
        coupon("Free tote bag", now - DAY, now + 30 * DAY, None, true),
    );
    let user = unique("Uchromium");
    let card = join_line(f, &user, &store);
    for lang in ["ja", "en", "fr"] {
        let shot = harness::artifact_path(&format!("card-phone-{lang}.png"));
        let barcode_shot = harness::artifact_path(&format!("card-barcode-{lang}.png"));
        let seen = harness::browser(
            "card.mjs",
            &[
                &format!("{}{card}?lang={lang}", f.app.base),
                &shot.display().to_string(),
                &barcode_shot.display().to_string(),
            ],
        );
        assert_eq!(seen["status"], 200);
        assert_eq!(seen["lang"], lang);
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
            seen["barcode"]["width"].as_f64().unwrap() >= 200.0,
            "a barcode a scanner can read: {}",
            seen["barcode"]
        );
        assert_eq!(seen["stopButton"], 1);
        // Both wallets, in the platforms' words for the language, large enough for a thumb.
        let (apple, google) = match lang {
            "ja" => ("Appleウォレットに追加", "Google ウォレットに追加"),
            "en" => ("Add to Apple Wallet", "Add to Google Wallet"),
            _ => ("Ajouter à Apple Wallet", "Ajouter à Google Wallet"),
        };
        let wallets = seen["wallets"].as_array().unwrap();
        assert_eq!(wallets.len(), 2, "{seen}");
        assert_eq!(wallets[0]["text"], apple);
        assert_eq!(wallets[0]["href"], format!("{card}/wallet.pkpass"));
        assert_eq!(wallets[1]["text"], google);
        assert_eq!(wallets[1]["href"], format!("{card}/google-wallet"));
        for w in wallets {
            assert!(w["box"]["height"].as_f64().unwrap() >= 44.0, "{w}");
        }
        // The inline SVG, as Chromium drew it, read back by a real decoder.
        let payload = crate::stores::decode_png_qr(&std::fs::read(&barcode_shot).unwrap());
        let read = read_barcode(SIGNING_KID, SIGNING_KEY_TEXT, &payload).expect("a signed payload");
        assert_eq!(read.coupon, "");
        assert_eq!(
            read.member,
            consent(&f.app, "line", &user)["member_number"]
                .as_str()
                .unwrap()
        );
    }
}
