//! Consent evidence, end to end: one WhatsApp person across its ids (Meta's payload shapes), the
//! Kantara receipts validated by the reference `jsonschema`, the shopper's data page in Chromium,
//! and the daily retention job fired by `wrangler dev --test-scheduled`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::cards::{card_path_from_welcome, create_store, member_export};
use crate::harness::{self, E2E_CONTROLLER, E2E_JURISDICTION};
use crate::webhooks::{
    code_for, consent, line_body, line_event, line_text, now_ms, post_line, post_meta, unique,
};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        a_stop_under_one_whatsapp_id_withdraws_the_person_seen_with_both,
        a_whatsapp_number_change_keeps_the_person_and_its_card,
        every_receipt_validates_against_the_kantara_schema_and_names_the_controller,
        data_page_in_each_language_in_headless_chromium,
        retention_deletes_only_evidence_of_consents_that_ended_long_ago,
        a_shopper_with_twelve_hundred_stops_cannot_stall_retention,
        the_feed_log_and_its_export_keep_nothing_older_than_retention,
        a_member_with_ten_thousand_entries_is_served_in_pages_and_erased_in_steps,
    ]
}

const DAY: u64 = 86_400_000;

/// A phone-number id (digits) no other test uses.
fn wa_id() -> String {
    let digits: String = unique("")
        .chars()
        .map(|c| char::from(b'0' + (c as u8 % 10)))
        .collect();
    format!("1555{}", &digits[digits.len().saturating_sub(9)..])
}

/// A business-scoped id in Meta's shape (`US.` and digits).
fn bsuid() -> String {
    format!("US.{}", &wa_id()[4..])
}

/// A WhatsApp text as Meta sends it ("Business-scoped user IDs"): `from` and `contacts[].wa_id`
/// only when the number is shared, `from_user_id` and `contacts[].user_id` always once rolled
/// out.
fn whatsapp(wa: Option<&str>, user: Option<&str>, text: &str, at_ms: u64) -> Vec<u8> {
    let mut contact = json!({ "profile": { "name": "Shopper", "username": "shopper.e2e" } });
    let mut message = json!({
        "id": unique("wamid."), "timestamp": (at_ms / 1000).to_string(),
        "type": "text", "text": { "body": text },
    });
    if let Some(wa) = wa {
        contact["wa_id"] = json!(wa);
        message["from"] = json!(wa);
    }
    if let Some(user) = user {
        contact["user_id"] = json!(user);
        message["from_user_id"] = json!(user);
    }
    meta_value(json!({ "contacts": [contact], "messages": [message] }))
}

fn meta_value(mut value: Value) -> Vec<u8> {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number":"15550783881","phone_number_id":"106540352242922"});
    serde_json::to_vec(&json!({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":value}]}]})).unwrap()
}

fn ok(reply: &harness::Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text());
}

fn event_ids(history: &Value) -> Vec<String> {
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

fn a_stop_under_one_whatsapp_id_withdraws_the_person_seen_with_both(f: &Fixture) {
    let (wa, user) = (wa_id(), bsuid());
    let store = unique("wab");
    create_store(&f.app, &store);
    let t = now_ms();
    // 1. Opted in under the phone number, before Meta sent business-scoped ids.
    let join = format!("JOIN {}", code_for(&store, "", 1));
    ok(&post_meta(
        &f.app,
        &whatsapp(Some(&wa), None, &join, t - 60_000),
    ));
    f.platforms.settle(&wa, 1);
    // 2. Any message showing both ids says they are one person.
    ok(&post_meta(
        &f.app,
        &whatsapp(Some(&wa), Some(&user), "hello", t - 30_000),
    ));
    // 3. A username user's STOP: the business-scoped id only.
    ok(&post_meta(&f.app, &whatsapp(None, Some(&user), "STOP", t)));
    // One confirmation, to the id the STOP came from; nothing more to the phone number.
    let confirmations = f.platforms.settle(&user, 1);
    let body: Value = serde_json::from_slice(&confirmations[0].body).unwrap();
    assert_eq!(
        body["recipient"],
        json!(user),
        "a BSUID is sent to in `recipient`"
    );
    f.platforms.settle(&wa, 1);

    let by_phone = consent(&f.app, "whatsapp", &wa);
    let by_user = consent(&f.app, "whatsapp", &user);
    for history in [&by_phone, &by_user] {
        assert_eq!(history["state"], "withdrawn", "{history:#}");
        assert_eq!(
            event_ids(history).len(),
            2,
            "the JOIN and the STOP: {history:#}"
        );
    }
    assert_eq!(event_ids(&by_phone), event_ids(&by_user), "one history");
    assert_eq!(by_phone["member_number"], by_user["member_number"]);
    let export = member_export(&f.app, by_phone["member_number"].as_str().unwrap()).json();
    let subjects = export["member"]["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 1, "one person: {export:#}");
    assert_eq!(subjects[0]["user_id"], json!(wa));
    assert_eq!(subjects[0]["also_known_as"], json!([user]));
    assert_eq!(subjects[0]["state"], "withdrawn");
    let events = subjects[0]["events"].as_array().unwrap();
    let actions: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["granted", "withdrawn"]);
    assert_eq!(events[1]["collection"], "chat_keyword");
    assert_eq!(events[0]["collection"], "landing_page_and_chat");
    assert_eq!(events[0]["controller"]["name"], E2E_CONTROLLER);
    assert_eq!(events[0]["jurisdiction"], E2E_JURISDICTION);
}

fn a_whatsapp_number_change_keeps_the_person_and_its_card(f: &Fixture) {
    let (wa, user) = (wa_id(), bsuid());
    let (new_wa, new_user) = (wa_id(), bsuid());
    let t = now_ms();
    ok(&post_meta(
        &f.app,
        &whatsapp(Some(&wa), Some(&user), "JOIN", t - 60_000),
    ));
    f.platforms.settle(&wa, 1);
    let before = consent(&f.app, "whatsapp", &user);
    // Meta's system message (System messages webhook reference; changelog 2026-08-11).
    let change = meta_value(json!({"messages":[{
        "from": wa, "id": unique("wamid."), "timestamp": ((t - 30_000) / 1000).to_string(),
        "type": "system",
        "system": {"body": "User changed number", "wa_id": new_wa, "user_id": new_user,
                   "previous_user_id": user, "type": "user_changed_number"},
    }]}));
    ok(&post_meta(&f.app, &change));
    // The STOP arrives under the new business-scoped id alone.
    ok(&post_meta(
        &f.app,
        &whatsapp(None, Some(&new_user), "STOP", t),
    ));
    f.platforms.settle(&new_user, 1);
    let old = consent(&f.app, "whatsapp", &wa);
    let new = consent(&f.app, "whatsapp", &new_user);
    assert_eq!(old["state"], "withdrawn", "{old:#}");
    assert_eq!(new["state"], "withdrawn");
    assert_eq!(
        new["member_number"], before["member_number"],
        "the same card"
    );
    // And a phone number given to someone else (another business-scoped id) is not the person.
    let stranger = bsuid();
    ok(&post_meta(
        &f.app,
        &whatsapp(Some(&new_wa), Some(&stranger), "JOIN", t + 1000),
    ));
    f.platforms.settle(&new_wa, 1);
    let theirs = consent(&f.app, "whatsapp", &stranger);
    assert_ne!(
        theirs["member_number"], before["member_number"],
        "{theirs:#}"
    );
    assert_eq!(theirs["state"], "granted");
    assert_eq!(consent(&f.app, "whatsapp", &new_user)["state"], "withdrawn");
    // Our shopper opts in again (written to at the new id); then a STOP comes from the
    // stranger with the shared number: it withdraws the stranger, and — when in doubt, do not
    // message — the member the number belongs to as well, recorded as that member's own.
    ok(&post_meta(
        &f.app,
        &whatsapp(None, Some(&new_user), "JOIN", t + 2000),
    ));
    f.platforms.settle(&new_user, 2);
    assert_eq!(consent(&f.app, "whatsapp", &new_user)["state"], "granted");
    ok(&post_meta(
        &f.app,
        &whatsapp(Some(&new_wa), Some(&stranger), "STOP", t + 3000),
    ));
    f.platforms.settle(&new_wa, 2);
    assert_eq!(consent(&f.app, "whatsapp", &stranger)["state"], "withdrawn");
    assert_eq!(consent(&f.app, "whatsapp", &new_user)["state"], "withdrawn");
    let number = before["member_number"].as_str().unwrap();
    let export = member_export(&f.app, number).json();
    let person = &export["member"]["subjects"][0];
    assert_eq!(
        person["user_id"],
        json!(new_user),
        "the contact id is the newest"
    );
    let last = person["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            &last["action"],
            &last["subject"]["user_id"],
            &last["member_number"]
        ),
        (&json!("withdrawn"), &json!(new_wa), &json!(number)),
        "{last:#}"
    );
    let text = export.to_string();
    assert!(!text.contains(&stranger), "no trace of the stranger's id");
}

/// Runs the reference validator over `receipts`; `(passed, its report)`.
fn validate(receipts: &Value) -> (bool, Value) {
    let root = harness::repo_root();
    let mut child = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/kantara/validate.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the venv's python (make setup)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(receipts.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("validator: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.success(), report)
}

/// A LINE member who followed, then joined from a store's landing page (two grants); its card.
fn member_with_two_grants(f: &Fixture, lang: u8) -> (String, String) {
    let store = unique("rcp");
    create_store(&f.app, &store);
    let user = unique("Ureceipt");
    let t = now_ms();
    ok(&post_line(
        &f.app,
        &line_body(&[line_event(
            &user,
            "follow",
            t - 5_000,
            json!({"replyToken": unique("rt")}),
        )]),
    ));
    let token = unique("rt-join");
    // A code from a landing page that showed notice version 2026-11.
    let code = crate::sign::join_code_with_notice(
        harness::SIGNING_KID,
        harness::SIGNING_KEY_TEXT,
        &store,
        lang,
        (t / 1000) as u32,
        "2026-11",
    );
    let mut join = line_text(&user, &format!("JOIN {code}"), t);
    join["replyToken"] = json!(token);
    ok(&post_line(&f.app, &line_body(&[join])));
    (user, card_path_from_welcome(f, &token))
}

fn every_receipt_validates_against_the_kantara_schema_and_names_the_controller(f: &Fixture) {
    // The check can fail: the published example passes, a receipt without its controller fails.
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(
            harness::repo_root().join("tests/kantara/kantara-consent-receipt-v1_1-example.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(validate(&json!([example])).0);
    let mut broken = example.clone();
    broken.as_object_mut().unwrap().remove("piiControllers");
    assert!(!validate(&json!([broken])).0);

    let (_, card) = member_with_two_grants(f, 3);
    let reply = f.app.get(&format!("{card}/receipts.json"));
    ok(&reply);
    assert!(reply
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment")));
    assert_eq!(reply.header("cache-control"), Some("private, no-store"));
    let receipts = reply.json()["receipts"].clone();
    assert_eq!(
        receipts.as_array().unwrap().len(),
        2,
        "one per grant: {receipts:#}"
    );
    let (valid, report) = validate(&receipts);
    assert!(valid, "{report}");
    for r in receipts.as_array().unwrap() {
        assert_eq!(r["version"], "KI-CR-v1.1.0");
        assert_eq!(r["piiControllers"][0]["piiController"], E2E_CONTROLLER);
        assert_eq!(r["jurisdiction"], E2E_JURISDICTION);
    }
    let (follow, landing) = (&receipts[0], &receipts[1]);
    assert_eq!(landing["language"], "fr", "the landing page's language");
    assert_eq!(follow["language"], "fr", "else the member's");
    assert_eq!(landing["policyUrl"], "https://shop.example/privacy/2026-11");
    assert_eq!(follow["policyUrl"], "https://shop.example/privacy");
    assert!(landing["collectionMethod"]
        .as_str()
        .unwrap()
        .contains("QR code"));
    // The access export carries the same receipts.
    let number = receipts[0]["piiPrincipalId"].as_str().unwrap();
    let export = member_export(&f.app, number).json();
    assert_eq!(export["member"]["receipts"], receipts);
    assert!(validate(&export["member"]["receipts"]).0);
    // A forged card has none.
    assert_eq!(f.app.get("/card/FORGED0000/receipts.json").status, 404);
}

fn data_page_in_each_language_in_headless_chromium(f: &Fixture) {
    let (user, card) = member_with_two_grants(f, 2);
    // While granted, the page offers the one-tap stop.
    let granted = harness::browser(
        "data.mjs",
        &[
            &format!("{}{card}/data?lang=en", f.app.base),
            &harness::artifact_path("data-phone-granted.png")
                .display()
                .to_string(),
        ],
    );
    assert_eq!(
        (granted["stopButton"].clone(), granted["events"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(granted["axe"], json!([]), "axe-core: {granted:#}");
    let t = now_ms();
    ok(&post_line(
        &f.app,
        &line_body(&[line_text(&user, "STOP", t + 1000)]),
    ));
    for lang in ["ja", "en", "fr"] {
        let shot = harness::artifact_path(&format!("data-phone-{lang}.png"));
        let seen = harness::browser(
            "data.mjs",
            &[
                &format!("{}{card}/data?lang={lang}", f.app.base),
                &shot.display().to_string(),
            ],
        );
        assert_eq!(seen["status"], 200);
        assert_eq!(seen["lang"], lang);
        assert_eq!(seen["axe"], json!([]), "axe-core: {seen:#}");
        assert_eq!(seen["errors"], json!([]));
        assert_eq!(seen["scripts"], 0, "no JavaScript");
        assert_eq!(seen["events"], 3, "follow, join, stop: {seen:#}");
        assert_eq!(seen["noticeLinks"], 1, "the join's notice version, linked");
        assert_eq!(seen["receipts"], 1);
        assert_eq!(seen["stopButton"], 0, "already stopped");
        let requests = seen["requests"].as_array().unwrap();
        assert!(
            requests
                .iter()
                .all(|r| r.as_str().unwrap().starts_with(&f.app.base)),
            "{requests:?}"
        );
    }
    // The card links to it.
    let page = f.app.get(&card).text();
    assert!(
        page.contains(&format!("{card}/data?lang=")),
        "the card links the data page"
    );
}

fn retention_deletes_only_evidence_of_consents_that_ended_long_ago(f: &Fixture) {
    // The app runs with RETENTION_DAYS=30.
    let t = now_ms();
    let ended_long_ago = unique("Uold");
    let in_force = unique("Ukeep");
    let ended_recently = unique("Urecent");
    let event = |user: &str, kind: &str, at: u64| {
        let mut e = line_event(user, kind, at, json!({}));
        if kind == "follow" {
            e["replyToken"] = json!(unique("rt"));
        }
        e
    };
    ok(&post_line(
        &f.app,
        &line_body(&[
            event(&ended_long_ago, "follow", t - 400 * DAY),
            event(&ended_long_ago, "unfollow", t - 300 * DAY),
            event(&in_force, "follow", t - 400 * DAY),
            event(&ended_recently, "follow", t - 400 * DAY),
            event(&ended_recently, "unfollow", t - 10 * DAY),
        ]),
    ));
    let count = |user: &str| event_ids(&consent(&f.app, "line", user)).len();
    assert_eq!(
        (
            count(&ended_long_ago),
            count(&in_force),
            count(&ended_recently)
        ),
        (2, 1, 2)
    );
    // Other tests' evidence shares the namespace and the job's budget: it may take a few runs.
    let mut runs = 0;
    while count(&ended_long_ago) > 0 {
        runs += 1;
        assert!(runs <= 8, "not cleared within 8 runs");
        let fired = f.app.get("/__scheduled?cron=17+3+*+*+*");
        assert_eq!(fired.status, 200, "run {runs}: {}", fired.text());
        assert_eq!(
            (count(&in_force), count(&ended_recently)),
            (1, 2),
            "run {runs}: only the consent that ended 300 days ago goes"
        );
    }
    let fired = f.app.get("/__scheduled?cron=17+3+*+*+*");
    assert_eq!(fired.status, 200);
    assert_eq!(
        (
            count(&ended_long_ago),
            count(&in_force),
            count(&ended_recently)
        ),
        (0, 1, 2),
        "another run deletes nothing more"
    );
    assert_eq!(consent(&f.app, "line", &in_force)["state"], "granted");
    // The job's log line counts; it names no one.
    let log = f.app.log();
    let line = log
        .lines()
        .find(|l| l.contains("\"msg\":\"retention\""))
        .expect("a retention log line");
    assert!(line.contains("\"retention_days\":30"), "{line}");
    assert!(!line.contains(&ended_long_ago), "{line}");
}

/// One chatty shopper's 1,200 STOPs are more deletions than a run's budget: the job settles
/// them over several runs, oldest first, and every subject listed after them is reached too.
fn a_shopper_with_twelve_hundred_stops_cannot_stall_retention(f: &Fixture) {
    // The app runs with RETENTION_DAYS=30.
    let t = now_ms();
    let chatty = unique("Uchatty");
    let mut follow = line_event(&chatty, "follow", t - 400 * DAY, json!({}));
    follow["replyToken"] = json!(unique("rt"));
    ok(&post_line(&f.app, &line_body(&[follow])));
    for chunk in 0..12u64 {
        let stops: Vec<Value> = (0..100u64)
            .map(|i| line_text(&chatty, "STOP", t - 300 * DAY + chunk * 100 + i))
            .collect();
        ok(&post_line(&f.app, &line_body(&stops)));
    }
    let others: Vec<String> = (0..16).map(|_| unique("Uexpired")).collect();
    let histories: Vec<Value> = others
        .iter()
        .flat_map(|user| {
            let mut follow = line_event(user, "follow", t - 400 * DAY, json!({}));
            follow["replyToken"] = json!(unique("rt"));
            [
                follow,
                line_event(user, "unfollow", t - 300 * DAY, json!({})),
            ]
        })
        .collect();
    ok(&post_line(&f.app, &line_body(&histories)));
    let count = |user: &str| event_ids(&consent(&f.app, "line", user)).len();
    // (Other tests fire the job too: the chatty shopper's entries may already be going.)
    let left = || others.iter().filter(|u| count(u) > 0).count();
    let mut runs = 0;
    while left() > 0 || count(&chatty) > 0 {
        runs += 1;
        assert!(
            runs <= 8,
            "after 8 runs: {} of 16 histories and {} of the chatty shopper's entries left",
            left(),
            count(&chatty)
        );
        let fired = f.app.get("/__scheduled?cron=17+3+*+*+*");
        assert_eq!(fired.status, 200, "run {runs}: {}", fired.text());
    }
}

/// The feed's log holds copies of consent events, with the shopper's app ids: none outlives
/// `RETENTION_DAYS` (30 here). The export and replays never reach before the cut-off, and the
/// daily job deletes the older rows (its log line counts them).
fn the_feed_log_and_its_export_keep_nothing_older_than_retention(f: &Fixture) {
    let t = now_ms();
    let user = unique("Ufeedold");
    let mut follow = line_event(&user, "follow", t - 400 * DAY, json!({}));
    follow["replyToken"] = json!(unique("rt"));
    ok(&post_line(
        &f.app,
        &line_body(&[
            follow,
            line_event(&user, "unfollow", t - 300 * DAY, json!({})),
        ]),
    ));
    let member = consent(&f.app, "line", &user)["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_get = |path: &str| {
        f.app.get_with(
            path,
            &[("authorization", &format!("Bearer {}", harness::ADMIN_TOKEN))],
        )
    };
    let mine = |query: &str| -> Vec<Value> {
        let reply = admin_get(&format!("/api/admin/export?{query}"));
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply
            .text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["data"]["member_number"] == member.as_str())
            .collect()
    };
    let day = |ms: u64| crate::cards::rfc3339(ms)[..10].to_owned();
    // The member's creation (now) reaches the log with the old changes it came with.
    let started = std::time::Instant::now();
    while mine(&format!("from={}&to={}", day(t - DAY), day(t + DAY))).is_empty() {
        assert!(
            started.elapsed().as_secs() < 30,
            "the feed log recorded the member"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let old = mine(&format!(
        "from={}&to={}",
        day(t - 401 * DAY),
        day(t - 299 * DAY)
    ));
    assert!(
        old.is_empty(),
        "nothing older than the retention period is exported: {old:#?}"
    );
    let fired = f.app.get("/__scheduled?cron=17+3+*+*+*");
    assert_eq!(fired.status, 200, "{}", fired.text());
    let log = f.app.log();
    let purged: u64 = log
        .lines()
        .filter(|l| l.contains("\"msg\":\"retention\""))
        .filter_map(|l| {
            let start = l.find('{')?;
            serde_json::from_str::<Value>(&l[start..]).ok()
        })
        .filter_map(|v| v["feed_log_rows_deleted"].as_u64())
        .sum();
    assert!(
        purged >= 2,
        "the job deleted the log's old rows (this member's two at least): {purged}"
    );
}

/// Follows `next` from `first` (a path) until a page has none: each page's JSON.
fn pages(first: String, get: impl Fn(&str) -> harness::Reply, next: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = Some(first);
    while let Some(p) = path.take() {
        let reply = get(&p);
        assert_eq!(reply.status, 200, "{p}: {}", reply.text());
        let page = reply.json();
        path = page
            .pointer(next)
            .and_then(Value::as_str)
            .map(str::to_owned);
        out.push(page);
        assert!(out.len() < 100, "pages end");
    }
    out
}

/// A shopper who sent 10,000 STOPs and JOINs has more ledger entries than one invocation may
/// read (the Worker refuses past 900 KV operations, below Cloudflare's 1,000): the access export,
/// the admin's consent history and the receipts come in pages that together hold every entry
/// once; the data page shows the latest and links to older ones; erasure answers at once and
/// finishes by itself, every entry rewritten.
fn a_member_with_ten_thousand_entries_is_served_in_pages_and_erased_in_steps(f: &Fixture) {
    const ENTRIES: u64 = 10_000;
    const GRANT_EVERY: u64 = 10;
    let t = now_ms() - 3 * DAY;
    let user = unique("Ulong");
    let token = unique("rt-long");
    ok(&post_line(
        &f.app,
        &line_body(&[line_event(
            &user,
            "follow",
            t,
            json!({ "replyToken": token }),
        )]),
    ));
    let card = card_path_from_welcome(f, &token);
    // 100 webhooks of 100 events: one in ten a JOIN (a grant), the rest STOPs.
    let bodies: Vec<Vec<u8>> = (0..ENTRIES / 100)
        .map(|chunk| {
            let events: Vec<Value> = (0..100u64)
                .map(|i| {
                    let n = chunk * 100 + i + 1;
                    let text = if n % GRANT_EVERY == 5 { "JOIN" } else { "STOP" };
                    line_text(&user, text, t + n * 10)
                })
                .collect();
            line_body(&events)
        })
        .collect();
    // One after another, as LINE sends one user's events (~0.5 s each here).
    for body in &bodies {
        ok(&post_line(&f.app, body));
    }
    let total = ENTRIES as usize + 1;
    let grants = (ENTRIES / GRANT_EVERY) as usize + 1;
    let admin_get = |path: &str| crate::cards::admin(&f.app, "GET", path, None);

    // The admin's consent history: the state from every entry, the events in pages.
    let first = consent(&f.app, "line", &user);
    assert_eq!(first["state"], "withdrawn", "the last entry is a STOP");
    let number = first["member_number"].as_str().unwrap().to_owned();
    let history = pages(
        format!("/api/admin/consent?channel=line&subject={user}"),
        admin_get,
        "/older_events",
    );
    let mut ids: Vec<String> = history.iter().rev().flat_map(event_ids).collect();
    assert_eq!(
        ids.len(),
        total,
        "every entry once, in {} pages",
        history.len()
    );
    let listed = ids.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "no entry twice");

    // The access export: the same entries, page after page, newest first, receipts with them.
    let export = pages(
        format!("/api/admin/members/{number}"),
        admin_get,
        "/member/older_events",
    );
    assert!(export.len() > 1, "a history this long is paged");
    let times: Vec<u64> = export
        .iter()
        .rev()
        .flat_map(|p| {
            p["member"]["subjects"][0]["events"]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|e| e["occurred_at_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(times.len(), total);
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "pages in platform order, no overlap"
    );
    let export_receipts: usize = export
        .iter()
        .map(|p| p["member"]["receipts"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        export_receipts, grants,
        "one receipt per grant, across the pages"
    );
    assert_eq!(export[0]["member"]["redemptions"], json!([]));

    // The shopper's receipts: every grant, in pages.
    let receipts = pages(format!("{card}/receipts.json"), |p| f.app.get(p), "/next");
    let all: Vec<Value> = receipts
        .iter()
        .flat_map(|p| p["receipts"].as_array().unwrap().clone())
        .collect();
    assert_eq!(all.len(), grants, "{} pages", receipts.len());
    assert!(validate(&Value::Array(all[..50].to_vec())).0);

    // The data page: the latest entries, a link to older ones, and back.
    let page = f.app.get(&format!("{card}/data?lang=en"));
    ok(&page);
    let html = page.text();
    let older = html
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to older entries")
        .replace("&amp;", "&");
    assert!(
        html.matches("<li class=\"history-").count() == 50,
        "a page, not 10,001 entries"
    );
    let page = f.app.get(&older);
    ok(&page);
    assert!(page.text().contains("Latest entries"));
    assert_eq!(f.app.get(&format!("{card}/data?before=1-2-x")).status, 400);

    // Erasure: the first answer at once, the rest by itself, progress on every repeat.
    let erase = || {
        crate::cards::admin(
            &f.app,
            "DELETE",
            &format!("/api/admin/members/{number}"),
            None,
        )
    };
    let started = std::time::Instant::now();
    let first = erase();
    assert_eq!(first.status, 202, "{}", first.text());
    assert!(first.header("retry-after").is_some());
    let mut redacted = first.json()["erased"]["events_redacted"].as_u64().unwrap();
    assert!(redacted > 0 && redacted < total as u64, "{redacted}");
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let again = erase();
        let now = again.json()["erased"]["events_redacted"].as_u64().unwrap();
        assert!(
            now >= redacted,
            "progress never goes back: {now} < {redacted}"
        );
        redacted = now;
        if again.status == 200 {
            assert_eq!(again.json()["erased"]["complete"], true);
            break;
        }
        assert_eq!(again.status, 202, "{}", again.text());
        assert!(
            started.elapsed().as_secs() < 240,
            "erasure finished: {redacted} of {total}"
        );
    }
    assert_eq!(redacted, total as u64, "every entry rewritten once");
    assert_eq!(f.app.get(&card).status, 404, "the card is gone");
    let after = pages(
        format!("/api/admin/consent?channel=line&subject={user}"),
        admin_get,
        "/older_events",
    );
    let events: Vec<&Value> = after
        .iter()
        .flat_map(|p| p["events"].as_array().unwrap())
        .collect();
    assert_eq!(events.len(), total, "the evidence stays, pseudonymous");
    let kept: Vec<&&Value> = events
        .iter()
        .filter(|e| !e["subject"]["user_id"].as_str().unwrap_or("").is_empty())
        .chain(events.iter().filter(|e| !e["erased_at_ms"].is_u64()))
        .collect();
    assert!(
        kept.is_empty(),
        "{} not rewritten, e.g. {}",
        kept.len(),
        kept[0]
    );
    let ids_after: Vec<String> = after.iter().rev().flat_map(event_ids).collect();
    assert_eq!(ids_after, listed);
    assert!(
        !f.app.log().contains("KV budget spent"),
        "no request ran out of KV operations"
    );
}
