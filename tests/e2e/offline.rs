//! The till when the network drops, end to end: redemptions sent later with `offline_at` are
//! decided as of then, exactly once by transaction id; refusals become conflicts, kept once by
//! the store's `Till` object, listed for the console and put on the feed; offline limits per POS
//! key. Then the till page itself in Chromium with `context.setOffline(true)`: the journey, two
//! tills redeeming the same coupon, and a sync cut halfway (tests/browser/offline.mjs).
//! Barcodes are made here by the documented layout (`crate::sign`), never by the Worker.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cards::{
    admin, coupon, coupon_id, create_store, member_export, put_coupon, rfc3339, DAY,
};
use crate::harness::{self, Reply, Worker, SIGNING_KEY_TEXT, SIGNING_KID};
use crate::sign::make_barcode;
use crate::till::{barcode, new_member, new_pos_key, store_id};
use crate::webhooks::{line_body, line_event, now_ms, post_line};
use crate::{Fixture, Test};

const HOUR: u64 = 3_600_000;

pub fn tests() -> Vec<Test> {
    crate::tests![
        offline_redemptions_are_decided_as_of_their_moment_once_and_refusals_are_conflicts,
        offline_limits_are_set_per_key_and_the_till_learns_them_with_its_coupons,
        offline_till_in_chromium_queues_survives_a_reload_and_syncs_once,
        offline_tills_redeeming_the_same_coupon_make_one_redemption_and_one_conflict,
        offline_till_sync_cut_halfway_and_repeated_doubles_nothing,
    ]
}

pub(crate) fn queued(
    worker: &Worker,
    key: &str,
    code: &str,
    coupon: &str,
    txn: &str,
    at_ms: u64,
) -> Reply {
    let auth = format!("Bearer {key}");
    let body = json!({
        "code": code, "coupon_id": coupon, "transaction_id": txn, "register_id": "R7",
        "offline_at": rfc3339(at_ms),
    });
    worker.send(
        "POST",
        "/api/pos/redeem",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.to_string().into_bytes(),
    )
}

fn conflicts_of(f: &Fixture, store: &str) -> Vec<Value> {
    let reply = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stores/{store}/offline-conflicts"),
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["conflicts"].as_array().unwrap().clone()
}

/// The feed's log, as the export streams it, for `type`, until `want` holds (the queue
/// consumer records events a moment after they happen).
fn feed_until(f: &Fixture, kind: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (from, to) = (rfc3339(now_ms() - DAY), rfc3339(now_ms() + DAY));
        let reply = admin(
            &f.app,
            "GET",
            &format!("/api/admin/export?from={from}&to={to}&type={kind}"),
            None,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        let lines: Vec<Value> = reply
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if want(&lines) {
            return lines;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "feed {kind}: {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn for_store<'a>(lines: &'a [Value], store: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|e| e["data"]["store_id"] == store)
        .collect()
}

fn offline_redemptions_are_decided_as_of_their_moment_once_and_refusals_are_conflicts(f: &Fixture) {
    let store = store_id("offl");
    create_store(&f.app, &store);
    let key = new_pos_key(&f.app, &store, "offline");
    let now = now_ms();
    let (open, ended) = (coupon_id("offo"), coupon_id("offe"));
    put_coupon(
        &f.app,
        &open,
        coupon("Open", now - DAY, now + DAY, None, true),
    );
    // It ended half an hour ago: a till that redeemed it an hour ago, offline, was right.
    put_coupon(
        &f.app,
        &ended,
        coupon("Ended", now - DAY, now - HOUR / 2, None, true),
    );
    let (user, member, _) = new_member(f, &store);
    let linked = now_ms();
    let code = barcode(&member, "");

    // Queued an hour ago, sent now: redeemed as of then, once.
    let first = queued(&f.app, &key, &code, &open, "TQ1", now - HOUR);
    assert_eq!(first.status, 200, "{}", first.text());
    let r = &first.json()["redemption"];
    assert_eq!(r["offline"], true);
    assert_eq!(r["offline_at"], rfc3339(now - HOUR));
    assert_eq!(r["redeemed_at"], rfc3339(now - HOUR));
    assert!(r["synced_at"].as_str().is_some(), "{r}");
    let again = queued(&f.app, &key, &code, &open, "TQ1", now - HOUR);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["redemption"]["id"], r["id"]);

    let ended_then = queued(&f.app, &key, &code, &ended, "TQ2", now - HOUR);
    assert_eq!(ended_then.status, 200, "{}", ended_then.text());

    // A barcode that expired ten minutes ago was valid when the till took it.
    let stale = make_barcode(
        SIGNING_KID,
        SIGNING_KEY_TEXT,
        &member,
        ((now - 10 * 60_000) / 1000) as u32,
        "",
    );
    let late = coupon_id("offl");
    put_coupon(
        &f.app,
        &late,
        coupon("Late", now - DAY, now + DAY, None, false),
    );
    let stale_ok = queued(&f.app, &key, &stale, &late, "TQ3", now - HOUR);
    assert_eq!(stale_ok.status, 200, "{}", stale_ok.text());

    // The same coupon under another transaction: a conflict naming the first, kept once.
    let twice = queued(&f.app, &key, &code, &open, "TQ9", now - HOUR / 2);
    assert_eq!(
        (twice.status, twice.error_code().as_str()),
        (409, "already_redeemed"),
        "{}",
        twice.text()
    );
    let conflict_id = twice.json()["error"]["conflict_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let repeat = queued(&f.app, &key, &code, &open, "TQ9", now - HOUR / 2);
    assert_eq!(repeat.status, 409);
    assert_eq!(repeat.json()["error"]["conflict_id"], conflict_id.as_str());

    // Forged, too old, dated ahead: conflicts too; a malformed offline_at is only a bad request.
    let mut forged: Vec<char> = code.chars().collect();
    let i = forged.len() - 4;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    for (code, txn, at, status, reason) in [
        (forged.as_str(), "TQF", now - HOUR, 422, "invalid_code"),
        (
            code.as_str(),
            "TQO",
            now - 73 * HOUR,
            422,
            "offline_too_old",
        ),
        (code.as_str(), "TQZ", now + HOUR, 422, "offline_in_future"),
    ] {
        let reply = queued(&f.app, &key, code, &late, txn, at);
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (status, reason),
            "{}",
            reply.text()
        );
        assert!(reply.json()["error"]["conflict_id"].is_string());
    }
    let auth = format!("Bearer {key}");
    let bad = f.app.send(
        "POST",
        "/api/pos/redeem",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        json!({"code": code, "coupon_id": late, "transaction_id": "TQB", "register_id": "R7",
               "offline_at": "yesterday"})
        .to_string()
        .into_bytes(),
    );
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (422, "invalid_offline_at")
    );

    // Consent withdrawn now: a redemption taken before stands, one taken after is a conflict.
    let gated = coupon_id("offg");
    put_coupon(
        &f.app,
        &gated,
        coupon("Gated", now - DAY, now + DAY, None, true),
    );
    let other = coupon_id("offh");
    put_coupon(
        &f.app,
        &other,
        coupon("Gated 2", now - DAY, now + DAY, None, true),
    );
    // The account was linked at `linked` (server time): a moment after it, before the stop.
    std::thread::sleep(Duration::from_millis(1500));
    let withdrawn_at = now_ms();
    let unfollow = post_line(
        &f.app,
        &line_body(&[line_event(&user, "unfollow", withdrawn_at, json!({}))]),
    );
    assert_eq!(unfollow.status, 200, "{}", unfollow.text());
    // `offline_at` goes in whole seconds: the next whole second after the link, not one
    // truncated to before it.
    let before = queued(
        &f.app,
        &key,
        &code,
        &gated,
        "TQC1",
        (linked / 1000 + 1) * 1000,
    );
    assert_eq!(before.status, 200, "{}", before.text());
    let after = queued(&f.app, &key, &code, &other, "TQC2", withdrawn_at + 1000);
    assert_eq!(after.error_code(), "consent_withdrawn", "{}", after.text());

    // The console's list: each once, newest first, with both transactions where there are two.
    let listed = conflicts_of(f, &store);
    let reasons: Vec<&str> = listed
        .iter()
        .map(|c| c["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        vec![
            "consent_withdrawn",
            "offline_in_future",
            "offline_too_old",
            "invalid_code",
            "already_redeemed"
        ],
        "{listed:?}"
    );
    let twice = listed
        .iter()
        .find(|c| c["id"] == conflict_id.as_str())
        .unwrap();
    assert_eq!(twice["transaction_id"], "TQ9");
    assert_eq!(twice["first"]["transaction_id"], "TQ1");
    assert_eq!(twice["member_number"], member.as_str());
    let forged_one = listed
        .iter()
        .find(|c| c["reason"] == "invalid_code")
        .unwrap();
    assert_eq!(
        forged_one["member_number"],
        Value::Null,
        "a forged code names no one"
    );
    assert!(conflicts_of(f, &store_id("offn")).is_empty());
    let anonymous = f
        .app
        .get(&format!("/api/admin/stores/{store}/offline-conflicts"));
    assert_eq!(anonymous.status, 401);

    // The member's record, the feed and the stats say which were made offline.
    let export = member_export(&f.app, &member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    assert_eq!(redemptions.len(), 4, "{redemptions:?}");
    assert!(redemptions.iter().all(|r| r["offline"] == true));
    let redeemed = feed_until(f, "coupon.redeemed", |l| for_store(l, &store).len() == 4);
    for e in for_store(&redeemed, &store) {
        assert_eq!(e["data"]["offline"], true, "{e}");
        assert!(e["data"]["offline_at"].is_string(), "{e}");
    }
    let conflicts = feed_until(f, "coupon.redemption_conflict", |l| {
        for_store(l, &store).len() == 5
    });
    let on_feed = for_store(&conflicts, &store);
    let first_too = on_feed
        .iter()
        .find(|e| e["data"]["reason"] == "already_redeemed")
        .unwrap();
    assert_eq!(first_too["data"]["transaction_id"], "TQ9");
    assert_eq!(first_too["data"]["first_transaction_id"], "TQ1");
    assert_eq!(first_too["data"]["conflict_id"], conflict_id.as_str());
    let stats = admin(
        &f.app,
        "GET",
        &format!(
            "/api/admin/stats?store={store}&from={}&to={}",
            &rfc3339(now - 2 * DAY)[..10],
            &rfc3339(now + DAY)[..10]
        ),
        None,
    )
    .json();
    let offline: i64 = stats["stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["offline_redemptions"].as_i64().unwrap())
        .sum();
    assert_eq!(offline, 4, "{stats}");
}

fn offline_limits_are_set_per_key_and_the_till_learns_them_with_its_coupons(f: &Fixture) {
    let store = store_id("offk");
    create_store(&f.app, &store);
    let now = now_ms();
    let here = coupon_id("offk");
    put_coupon(
        &f.app,
        &here,
        coupon("Here", now - DAY, now + DAY, Some(vec![&store]), true),
    );
    let elsewhere = coupon_id("offx");
    put_coupon(
        &f.app,
        &elsewhere,
        coupon(
            "Elsewhere",
            now - DAY,
            now + DAY,
            Some(vec!["nowhere"]),
            true,
        ),
    );
    let made = admin(
        &f.app,
        "POST",
        &format!("/api/admin/stores/{store}/pos-keys"),
        Some(json!({ "label": "small", "offline_limit": 3 })),
    );
    assert_eq!(made.status, 201, "{}", made.text());
    assert_eq!(made.json()["pos_key"]["offline_limit"], 3);
    let key = made.json()["key"].as_str().unwrap().to_owned();
    let key_id = made.json()["pos_key"]["id"].as_str().unwrap().to_owned();
    let plain = new_pos_key(&f.app, &store, "plain");
    let whoami = |key: &str| {
        let auth = format!("Bearer {key}");
        f.app
            .get_with("/api/pos/whoami", &[("authorization", auth.as_str())])
    };
    let seen = whoami(&key).json();
    assert_eq!(seen["offline_limit"], 3);
    assert_eq!(seen["offline_max_hours"], 72);
    let ids: Vec<&str> = seen["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&here.as_str()), "{ids:?}");
    assert!(!ids.contains(&elsewhere.as_str()), "{ids:?}");
    assert_eq!(whoami(&plain).json()["offline_limit"], 50, "the default");

    let patch = |body: Value| {
        admin(
            &f.app,
            "PATCH",
            &format!("/api/admin/stores/{store}/pos-keys/{key_id}"),
            Some(body),
        )
    };
    let set = patch(json!({ "offline_limit": 0 }));
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(whoami(&key).json()["offline_limit"], 0);
    let too_many = patch(json!({ "offline_limit": 5000 }));
    assert_eq!(
        (too_many.status, too_many.error_code().as_str()),
        (422, "invalid_offline_limit")
    );
    let unknown = patch(json!({ "limit": 1 }));
    assert_eq!(unknown.status, 400, "{}", unknown.text());
    let listed = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stores/{store}/pos-keys"),
        None,
    )
    .json();
    let limits: Vec<(String, i64)> = listed["pos_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["label"].as_str().unwrap().to_owned(),
                k["offline_limit"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(limits, vec![("small".into(), 0), ("plain".into(), 50)]);
    // Another store's key id is not this store's.
    let other = store_id("offj");
    create_store(&f.app, &other);
    let foreign = admin(
        &f.app,
        "PATCH",
        &format!("/api/admin/stores/{other}/pos-keys/{key_id}"),
        Some(json!({ "offline_limit": 9 })),
    );
    assert_eq!(foreign.status, 404);
}

/// Runs the page driver and fails on any console error, foreign request or axe violation.
fn drive(mode: &str, args: Value) -> Value {
    let seen = harness::browser("offline.mjs", &[mode, &args.to_string()]);
    eprintln!("offline {mode}: {seen}");
    assert_eq!(seen["failure"], Value::Null, "{seen}");
    assert_eq!(seen["errors"], json!([]), "no console errors: {seen}");
    assert_eq!(seen["foreignRequests"], json!([]));
    for (state, violations) in seen["axe"].as_object().unwrap() {
        assert_eq!(violations, &json!([]), "axe-core, {state}: {violations}");
    }
    seen
}

fn shots() -> String {
    let dir = harness::artifact_path("offline");
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

fn offline_till_in_chromium_queues_survives_a_reload_and_syncs_once(f: &Fixture) {
    let store = store_id("offb");
    create_store(&f.app, &store);
    let now = now_ms();
    let c = coupon_id("0offb");
    put_coupon(
        &f.app,
        &c,
        coupon(
            "Rainy day 15% off",
            now - DAY,
            now + DAY,
            Some(vec![&store]),
            true,
        ),
    );
    let key = new_pos_key(&f.app, &store, "Chromium offline");
    let (_, member, _) = new_member(f, &store);
    let seen = drive(
        "journey",
        json!({
            "base": f.app.base, "shots": shots(),
            "tills": [{ "key": key, "register": "R1" }],
            "codes": { "coupon": barcode(&member, &c) },
        }),
    );
    let steps = &seen["steps"];
    assert_eq!(steps["online"]["state"], "online");
    assert_eq!(steps["offlineScan"]["net"]["state"], "offline");
    assert_eq!(
        steps["offlineScan"]["result"]["state"], "offline",
        "{steps}"
    );
    assert_eq!(steps["offlineScan"]["coupons"][0]["id"], c.as_str());
    assert_eq!(steps["redeem"]["state"], "queued", "{steps}");
    assert_eq!(steps["afterRedeem"]["net"]["queued"], 1);
    assert_eq!(steps["reloadOffline"]["workShown"], true, "{steps}");
    assert_eq!(steps["reloadOffline"]["controlled"], true);
    assert_eq!(
        steps["reloadOffline"]["net"]["queued"], 1,
        "the queue survived"
    );
    assert_eq!(steps["synced"], true, "{steps}");
    assert_eq!(steps["afterSync"]["conflicts"], json!([]));
    // Sent with offline_at, and redeemed once, marked offline in the member's export.
    let sent: Vec<&Value> = seen["redeemBodies"].as_array().unwrap().iter().collect();
    assert!(
        !sent.is_empty() && sent.iter().all(|b| b["offline_at"].is_string()),
        "{sent:?}"
    );
    let export = member_export(&f.app, &member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    assert_eq!(redemptions.len(), 1, "{redemptions:?}");
    assert_eq!(redemptions[0]["coupon_id"], c.as_str());
    assert_eq!(redemptions[0]["offline"], true);
    assert_eq!(redemptions[0]["offline_at"], sent[0]["offline_at"]);
    let feed = feed_until(f, "coupon.redeemed", |l| for_store(l, &store).len() == 1);
    assert_eq!(for_store(&feed, &store)[0]["data"]["offline"], true);
}

fn offline_tills_redeeming_the_same_coupon_make_one_redemption_and_one_conflict(f: &Fixture) {
    let store = store_id("off2");
    create_store(&f.app, &store);
    let now = now_ms();
    let c = coupon_id("0off2");
    put_coupon(
        &f.app,
        &c,
        coupon("Two tills", now - DAY, now + DAY, Some(vec![&store]), true),
    );
    let (k1, k2) = (
        new_pos_key(&f.app, &store, "Till A"),
        new_pos_key(&f.app, &store, "Till B"),
    );
    let (_, member, _) = new_member(f, &store);
    let seen = drive(
        "two-tills",
        json!({
            "base": f.app.base, "shots": shots(),
            "tills": [{ "key": k1, "register": "RA" }, { "key": k2, "register": "RB" }],
            "codes": { "coupon": barcode(&member, &c) },
        }),
    );
    let steps = &seen["steps"];
    assert_eq!(steps["queued"][0]["queued"], 1, "{steps}");
    assert_eq!(steps["queued"][1]["queued"], 1, "{steps}");
    assert_eq!(steps["firstSynced"], true);
    assert_eq!(steps["secondSynced"], true);
    assert_eq!(steps["conflicts"][0], json!([]), "the first till has none");
    let on_b = steps["conflicts"][1].as_array().unwrap();
    assert_eq!(on_b.len(), 1, "{steps}");
    assert_eq!(on_b[0]["code"], "already_redeemed");
    let export = member_export(&f.app, &member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    assert_eq!(redemptions.len(), 1, "one redemption: {redemptions:?}");
    assert_eq!(redemptions[0]["register_id"], "RA");
    let listed = conflicts_of(f, &store);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["register_id"], "RB");
    assert_eq!(listed[0]["first"]["register_id"], "RA");
    assert_eq!(listed[0]["transaction_id"], on_b[0]["transactionId"]);
    let feed = feed_until(f, "coupon.redemption_conflict", |l| {
        for_store(l, &store).len() == 1
    });
    let event = &for_store(&feed, &store)[0]["data"];
    assert_eq!(event["register_id"], "RB");
    assert_eq!(event["first_register_id"], "RA");
    assert_eq!(
        event["first_transaction_id"],
        redemptions[0]["transaction_id"]
    );
}

fn offline_till_sync_cut_halfway_and_repeated_doubles_nothing(f: &Fixture) {
    let store = store_id("offc");
    create_store(&f.app, &store);
    let now = now_ms();
    let (c1, c2, c3, c4) = (
        coupon_id("0offc1"),
        coupon_id("0offc2"),
        coupon_id("0offc3"),
        coupon_id("0offc4"),
    );
    for (c, title) in [
        (&c1, "First"),
        (&c2, "Second"),
        (&c3, "Third"),
        (&c4, "Fourth"),
    ] {
        put_coupon(
            &f.app,
            c,
            coupon(title, now - DAY, now + DAY, Some(vec![&store]), true),
        );
    }
    let made = admin(
        &f.app,
        "POST",
        &format!("/api/admin/stores/{store}/pos-keys"),
        Some(json!({ "label": "three", "offline_limit": 3 })),
    );
    assert_eq!(made.status, 201, "{}", made.text());
    let key = made.json()["key"].as_str().unwrap().to_owned();
    let (_, member, _) = new_member(f, &store);
    let (_, other, _) = new_member(f, &store);
    // A coupon barcode of another member with its signature altered: the right shape, forged.
    let real = barcode(&other, &c3);
    let mut forged: Vec<char> = real.chars().collect();
    let i = forged.len() - 4;
    forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    let seen = drive(
        "cut",
        json!({
            "base": f.app.base, "shots": shots(),
            "tills": [{ "key": key, "register": "R1" }],
            "codes": {
                "member": barcode(&member, ""),
                "forged": forged,
                "extra": barcode(&other, &c4),
            },
        }),
    );
    let steps = &seen["steps"];
    assert_eq!(
        steps["offlineMember"]["result"]["state"], "offline",
        "{steps}"
    );
    assert_eq!(steps["redeem1"]["state"], "queued", "{steps}");
    assert_eq!(steps["redeem2"]["state"], "queued", "{steps}");
    assert_eq!(
        steps["redeemForged"]["state"], "queued",
        "the shape is right: {steps}"
    );
    assert_eq!(steps["redeemPastLimit"]["state"], "refused", "{steps}");
    assert_eq!(steps["beforeSync"]["queued"], 3, "the limit held: {steps}");
    assert_eq!(steps["afterProxyPage"]["cuts"], 1, "{steps}");
    assert_eq!(
        steps["afterProxyPage"]["net"]["queued"], 3,
        "a page not of ours is no answer: all stays kept: {steps}"
    );
    assert_eq!(steps["afterProxyPage"]["conflicts"], json!([]));
    assert_eq!(steps["cuts"], 2);
    assert_eq!(steps["afterCut"]["state"], "offline", "{steps}");
    assert_eq!(steps["synced"], true, "{steps}");
    let on_till = steps["afterSync"]["conflicts"].as_array().unwrap();
    assert_eq!(on_till.len(), 1, "{steps}");
    assert_eq!(on_till[0]["code"], "invalid_code");
    // The first kept redemption was sent three times: answered by a proxy's page, redeemed
    // with its answer lost, replayed.
    let sent = seen["redeemBodies"].as_array().unwrap();
    let first_txn = &sent[0]["transaction_id"];
    assert_eq!(
        sent.iter()
            .filter(|b| &b["transaction_id"] == first_txn)
            .count(),
        3,
        "{sent:?}"
    );
    let export = member_export(&f.app, &member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    let mut ids: Vec<&str> = redemptions
        .iter()
        .map(|r| r["coupon_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        vec![c1.as_str(), c2.as_str()],
        "once each: {redemptions:?}"
    );
    let other_export = member_export(&f.app, &other).json();
    assert_eq!(other_export["member"]["redemptions"], json!([]));
    let listed = conflicts_of(f, &store);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["reason"], "invalid_code");
}
