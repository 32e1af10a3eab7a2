//! Channels as the platforms allow them, per store country (docs/channels.md). Stores in
//! France, Japan and the United States (the deployment's `JURISDICTION` is FR): what each
//! landing page's buttons promise, what a Messenger opt-in and a WhatsApp +1 shopper record, and
//! that the consent history, the access export, the receipts, the funnel and the feed's log
//! agree.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cards::{admin, rfc3339};
use crate::harness;
use crate::webhooks::{code_for, consent, now_ms, post_meta, unique, whatsapp_text};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        stores_say_which_channels_carry_offers_in_their_country,
        landing_pages_of_french_japanese_and_us_stores_promise_offers_only_where_delivered,
        a_messenger_optin_is_for_the_card_in_france_and_for_marketing_in_the_us,
        a_whatsapp_plus_one_shopper_is_never_counted_as_reachable_by_offers,
    ]
}

/// A store in `country` (`None`: the deployment's), named in the three languages.
fn store_in(f: &Fixture, prefix: &str, country: Option<&str>, zone: &str) -> (String, Value) {
    let id = unique(prefix);
    let mut body = json!({
        "names": { "ja": "店舗", "en": "Store", "fr": "Magasin" },
        "address": "1 Example Street", "timezone": zone,
    });
    if let Some(c) = country {
        body["country"] = json!(c);
    }
    let reply = admin(
        &f.app,
        "PUT",
        &format!("/api/admin/stores/{id}"),
        Some(body),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let store = reply.json()["store"].clone();
    (id, store)
}

fn deliverable(store: &Value) -> [bool; 4] {
    ["line", "whatsapp", "messenger", "instagram"]
        .map(|c| store["marketing_deliverable"][c].as_bool().unwrap())
}

fn stores_say_which_channels_carry_offers_in_their_country(f: &Fixture) {
    let (_, fr) = store_in(f, "reach-fr", None, "Europe/Paris");
    assert_eq!(
        (fr["country"].as_str(), fr["own_country"].as_str()),
        (Some("FR"), None)
    );
    assert_eq!(deliverable(&fr), [true, true, false, false]);
    let (_, jp) = store_in(f, "reach-jp", Some("JP"), "Asia/Tokyo");
    assert_eq!(jp["own_country"], "JP");
    assert_eq!(deliverable(&jp), [true, true, false, false]);
    let (us_id, us) = store_in(f, "reach-us", Some("US"), "America/New_York");
    assert_eq!(deliverable(&us), [true, false, true, false]);
    let listed = admin(&f.app, "GET", "/api/admin/stores", None).json();
    let found = listed["stores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == us_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(found["country"], "US");
    assert_eq!(deliverable(&found), [true, false, true, false]);
    for bad in ["us", "USA", "1A"] {
        let reply = admin(
            &f.app,
            "PUT",
            &format!("/api/admin/stores/{}", unique("reach-bad")),
            Some(
                json!({ "names": { "en": "X" }, "address": "x", "timezone": "UTC", "country": bad }),
            ),
        );
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (422, "invalid_country"),
            "{bad}"
        );
    }
}

fn landing_pages_of_french_japanese_and_us_stores_promise_offers_only_where_delivered(f: &Fixture) {
    let cases = [
        (
            "fr",
            None,
            "Europe/Paris",
            "fr-FR",
            [true, true, false, false],
        ),
        (
            "jp",
            Some("JP"),
            "Asia/Tokyo",
            "ja-JP",
            [true, true, false, false],
        ),
        (
            "us",
            Some("US"),
            "America/New_York",
            "en-US",
            [true, false, true, false],
        ),
    ];
    let words = |lang: &str| match lang {
        "fr" => (
            "Offres de la semaine et votre carte",
            "Votre carte et une discussion avec le magasin",
        ),
        "ja" => ("毎週のお得情報と会員証", "会員証と店舗とのチャット"),
        _ => (
            "Weekly offers and your card",
            "Your card and a chat with the store",
        ),
    };
    for (name, country, zone, locale, expected) in cases {
        let (id, _) = store_in(f, &format!("reach-page-{name}"), country, zone);
        let url = format!("{}/s/{id}", f.app.base);
        let shot = harness::artifact_path(&format!("landing-{name}.png"));
        let seen = harness::browser("landing.mjs", &[&url, &shot.display().to_string(), locale]);
        assert_eq!(seen["status"], 200, "{name}");
        assert_eq!(seen["axe"], json!([]), "{name}: axe-core");
        assert_eq!(seen["errors"], json!([]), "{name}");
        let lang = seen["lang"].as_str().unwrap().to_owned();
        let (offers, card) = words(&lang);
        let buttons = seen["buttons"].as_array().unwrap();
        assert_eq!(buttons.len(), 4, "{name}");
        let got: Vec<bool> = buttons.iter().map(|b| b["offers"] == "yes").collect();
        assert_eq!(got, expected, "{name}");
        for (b, brings) in buttons.iter().zip(expected) {
            let what = b["what"].as_str().unwrap();
            assert_eq!(what, if brings { offers } else { card }, "{name}: {b}");
        }
    }
}

/// The member's export, and the subject of `channel` in it.
fn export_subject(f: &Fixture, number: &str, channel: &str) -> (Value, Value) {
    let reply = admin(&f.app, "GET", &format!("/api/admin/members/{number}"), None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let member = reply.json()["member"].clone();
    let subject = member["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["channel"] == channel)
        .cloned()
        .unwrap();
    (member, subject)
}

/// The feed log's events of the member (the log is written through the queue: waits for
/// `count` of them).
fn logged_events(f: &Fixture, number: &str, since_ms: u64, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let query = format!(
            "/api/admin/export?from={}&to={}",
            rfc3339(since_ms - 60_000),
            rfc3339(now_ms() + 60_000)
        );
        let reply = admin(&f.app, "GET", &query, None);
        assert_eq!(reply.status, 200, "{}", reply.text());
        let mine: Vec<Value> = reply
            .text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["data"]["member_number"] == number)
            .collect();
        if mine.len() >= count || Instant::now() > deadline {
            return mine;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The funnel's opt-ins of one store today: (every opt-in, card-only ones) on `channel`, once
/// they reach `expected` (the counters are written after the webhook's answer).
fn optins(f: &Fixture, store: &str, channel: &str, expected: (i64, i64)) -> (i64, i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = admin(
            &f.app,
            "GET",
            &format!("/api/admin/stats?store={store}"),
            None,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let rows = reply.json()["stats"].as_array().unwrap().clone();
        let seen = rows.iter().fold((0, 0), |(all, card), r| {
            (
                all + r["grants"][channel].as_i64().unwrap(),
                card + r["card_only_grants"][channel].as_i64().unwrap(),
            )
        });
        if seen == expected || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn messenger_optin(f: &Fixture, psid: &str, code: &str, at: u64) {
    let optin = json!({"sender":{"id":psid},"recipient":{"id":"PAGE1"},"timestamp":at,
        "optin":{"type":"notification_messages","payload":code,"notification_messages_token":"tok","user_token_status":"NOT_REFRESHED","title":"Deals"}});
    let body = serde_json::to_vec(
        &json!({"object":"page","entry":[{"id":"PAGE1","time":at,"messaging":[optin]}]}),
    )
    .unwrap();
    let reply = post_meta(&f.app, &body);
    assert_eq!(reply.json()["recorded"], 1, "{}", reply.text());
}

fn a_messenger_optin_is_for_the_card_in_france_and_for_marketing_in_the_us(f: &Fixture) {
    let (fr, _) = store_in(f, "reach-m-fr", None, "Europe/Paris");
    let (us, _) = store_in(f, "reach-m-us", Some("US"), "America/New_York");
    let started = now_ms();
    for (store, purpose, reachable) in [(&fr, "card", false), (&us, "marketing", true)] {
        let psid = unique("PSIDreach");
        let code = code_for(store, "", 1);
        // The referral (the button's m.me link) asks for the platform's opt-in: with offers
        // only where Messenger carries them.
        let referral = json!({"sender":{"id":psid},"recipient":{"id":"PAGE1"},"timestamp":now_ms(),
            "referral":{"ref":code,"source":"SHORTLINK","type":"OPEN_THREAD"}});
        let body = serde_json::to_vec(
            &json!({"object":"page","entry":[{"id":"PAGE1","time":now_ms(),"messaging":[referral]}]}),
        )
        .unwrap();
        assert_eq!(post_meta(&f.app, &body).status, 200);
        let asked = f.platforms.settle(&psid, 1);
        let title = asked[0].json()["message"]["attachment"]["payload"]["title"]
            .as_str()
            .unwrap()
            .to_owned();
        let promises = ["offers", "お得", "offres"]
            .iter()
            .any(|w| title.contains(w));
        assert_eq!(promises, reachable, "{store}: {title}");
        messenger_optin(f, &psid, &code, now_ms());
        let history = consent(&f.app, "messenger", &psid);
        assert_eq!(history["state"], "granted");
        assert_eq!(history["purpose"], purpose, "{store}");
        assert_eq!(history["events"][0]["purpose"], purpose, "{store}");
        let number = history["member_number"].as_str().unwrap().to_owned();
        let (member, subject) = export_subject(f, &number, "messenger");
        assert_eq!(
            (
                subject["purpose"].as_str(),
                subject["marketing_deliverable"].as_bool()
            ),
            (Some(purpose), Some(reachable)),
            "{store}"
        );
        // The receipt names the purpose: marketing, or the card and being contacted.
        let categories = &member["receipts"][0]["services"][0]["purposes"][0]["purposeCategory"];
        assert_eq!(
            categories
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "6 - Marketing"),
            reachable,
            "{store}: {categories}"
        );
        let expected = (1, i64::from(!reachable));
        assert_eq!(optins(f, store, "messenger", expected), expected, "{store}");
        let events = logged_events(f, &number, started, 2);
        let granted = events
            .iter()
            .find(|e| e["type"] == "member.consent.granted")
            .unwrap_or_else(|| panic!("{store}: {events:?}"));
        assert_eq!(granted["data"]["purpose"], purpose, "{store}");
        assert_eq!(
            granted["data"]["messenger_marketing_deliverable"], reachable,
            "{store}"
        );
        // Withdrawal works the same for both, and keeps the grant's purpose.
        let stop = json!({"sender":{"id":psid},"recipient":{"id":"PAGE1"},"timestamp":now_ms(),
            "optin":{"type":"notification_messages","notification_messages_status":"STOP_NOTIFICATIONS","notification_messages_token":"tok"}});
        let body = serde_json::to_vec(
            &json!({"object":"page","entry":[{"id":"PAGE1","time":now_ms(),"messaging":[stop]}]}),
        )
        .unwrap();
        assert_eq!(post_meta(&f.app, &body).json()["recorded"], 1);
        let history = consent(&f.app, "messenger", &psid);
        assert_eq!(history["state"], "withdrawn");
        assert_eq!(history["events"][1]["purpose"], purpose, "{store}");
    }
}

fn a_whatsapp_plus_one_shopper_is_never_counted_as_reachable_by_offers(f: &Fixture) {
    let (fr, _) = store_in(f, "reach-w-fr", None, "Europe/Paris");
    let started = now_ms();
    let tail = now_ms() % 1_000_000_000;
    for (wa, purpose, reachable) in [
        (format!("1415{tail:07}"), "card", false),
        (format!("336{tail:08}"), "marketing", true),
    ] {
        let text = whatsapp_text(
            &wa,
            &format!("JOIN {}", code_for(&fr, "", 3)),
            now_ms() / 1000,
        );
        let reply = post_meta(&f.app, &serde_json::to_vec(&text).unwrap());
        assert_eq!(reply.json()["recorded"], 1, "{}", reply.text());
        let history = consent(&f.app, "whatsapp", &wa);
        assert_eq!(history["events"][0]["purpose"], purpose, "{wa}");
        let number = history["member_number"].as_str().unwrap().to_owned();
        let (_, subject) = export_subject(f, &number, "whatsapp");
        assert_eq!(subject["marketing_deliverable"], reachable, "{wa}");
        let events = logged_events(f, &number, started, 2);
        assert!(!events.is_empty(), "{wa}: logged");
        for e in &events {
            assert_eq!(
                e["data"]["whatsapp_marketing_deliverable"], reachable,
                "{wa}: {e}"
            );
        }
    }
    assert_eq!(optins(f, &fr, "whatsapp", (2, 1)), (2, 1));
}
