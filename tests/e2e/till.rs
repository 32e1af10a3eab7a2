//! The till, end to end: POS keys, scans, exactly-once redemption with replays and conflicts,
//! every refusal the contract names, 200 concurrent redeems from two stores, a withdrawal that
//! blocks the next redeem at once, the funnel per store day, and the till page in Chromium.
//! Barcodes are made here with `openssl` by the documented layout, never by the Worker.

use std::process::Command;
use std::sync::{Arc, Barrier};

use serde_json::{json, Value};

use crate::cards::{
    admin, coupon, coupon_id, create_store, join_line, member_export, put_coupon, DAY,
};
use crate::harness::{self, Reply, Worker, SIGNING_KEY_TEXT, SIGNING_KID};
use crate::sign::make_barcode;
use crate::webhooks::{consent, line_body, line_event, now_ms, post_line, unique};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        a_scan_shows_the_member_and_each_coupons_status_at_this_store,
        a_coupon_redeems_once_then_409_says_when_and_where_and_the_same_request_replays,
        a_transaction_belongs_to_one_member_and_may_redeem_several_of_its_coupons,
        every_refusal_the_contract_names_answers_its_status_and_code,
        malformed_till_requests_are_refused_with_a_clear_code,
        the_scan_and_the_access_export_show_each_redemption,
        an_erased_members_barcodes_are_dead_at_the_till,
        pos_keys_are_shown_once_listed_without_secrets_and_revoked,
        a_revoked_key_redeems_nothing_once_the_revocation_answered_and_redemptions_name_their_key,
        thousands_of_junk_keys_are_each_refused_and_a_real_key_still_works,
        a_key_or_a_card_past_its_rate_limit_is_told_when_to_try_again,
        two_hundred_concurrent_redeems_from_two_stores_make_one_redemption,
        a_withdrawal_blocks_the_next_redeem_of_a_consent_gated_coupon_at_once,
        stats_count_a_store_day_in_the_stores_own_time_zone,
        stats_come_as_csv_and_for_one_store,
        the_funnel_chart_gives_its_numbers_in_words_too,
        stats_without_a_range_take_each_stores_own_today,
        stats_refuse_bad_queries_and_answer_empty_and_long_ranges,
        till_page_in_headless_chromium_takes_a_scanner_not_a_typist,
    ]
}

/// A store id no other test (or run) uses.
pub(crate) fn store_id(prefix: &str) -> String {
    let id = unique(prefix);
    assert!(id.len() <= 32, "{id}");
    id
}

pub(crate) fn new_pos_key(worker: &Worker, store: &str, label: &str) -> String {
    let reply = admin(
        worker,
        "POST",
        &format!("/api/admin/stores/{store}/pos-keys"),
        Some(json!({ "label": label })),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["key"].as_str().unwrap().to_owned()
}

fn pos(worker: &Worker, key: &str, path: &str, body: Value) -> Reply {
    let auth = format!("Bearer {key}");
    worker.send(
        "POST",
        path,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.to_string().into_bytes(),
    )
}

pub(crate) fn scan(worker: &Worker, key: &str, code: &str) -> Reply {
    pos(
        worker,
        key,
        "/api/pos/scan",
        json!({ "code": code, "lang": "en" }),
    )
}

pub(crate) fn redeem(
    worker: &Worker,
    key: &str,
    code: &str,
    coupon: &str,
    transaction: &str,
) -> Reply {
    pos(
        worker,
        key,
        "/api/pos/redeem",
        json!({"code": code, "coupon_id": coupon, "transaction_id": transaction, "register_id": "R1"}),
    )
}

/// A member joined on LINE at `store`: (LINE user id, member number, card path).
pub(crate) fn new_member(f: &Fixture, store: &str) -> (String, String, String) {
    let user = unique("Utill");
    let card = join_line(f, &user, store);
    let number = consent(&f.app, "line", &user)["member_number"]
        .as_str()
        .unwrap()
        .to_owned();
    (user, number, card)
}

/// A barcode of the member (and coupon) valid for a day, signed like the Worker's.
pub(crate) fn barcode(member: &str, coupon: &str) -> String {
    make_barcode(
        SIGNING_KID,
        SIGNING_KEY_TEXT,
        member,
        (now_ms() / 1000 + 86_400) as u32,
        coupon,
    )
}

fn statuses(scan: &Value) -> Vec<(String, String)> {
    scan["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn status_of(scan: &Value, id: &str) -> Option<String> {
    statuses(scan)
        .into_iter()
        .find(|(c, _)| c == id)
        .map(|(_, s)| s)
}

/// What the till cases share: two stores, a coupon open here, one valid only there, one ended
/// and one not yet valid, a POS key of this store and a member who joined here. Each case
/// makes its own, so each fails on its own.
struct TillScene {
    here: String,
    open: String,
    theirs: String,
    ended: String,
    soon: String,
    key: String,
    member: String,
    code: String,
}

impl TillScene {
    fn new(f: &Fixture) -> TillScene {
        let (here, there) = (store_id("till-a"), store_id("till-b"));
        create_store(&f.app, &here);
        create_store(&f.app, &there);
        let now = now_ms();
        let open = coupon_id("open");
        let theirs = coupon_id("theirs");
        let ended = coupon_id("ended");
        let soon = coupon_id("soon");
        for (id, from, until, stores) in [
            (&open, now - DAY, now + 30 * DAY, Some(vec![here.as_str()])),
            (
                &theirs,
                now - DAY,
                now + 30 * DAY,
                Some(vec![there.as_str()]),
            ),
            (&ended, now - 3 * DAY, now - DAY, None),
            (&soon, now + DAY, now + 3 * DAY, None),
        ] {
            let reply = put_coupon(&f.app, id, coupon(id, from, until, stores, true));
            assert_eq!(reply.status, 201, "{}", reply.text());
        }
        let key = new_pos_key(&f.app, &here, "Till 1");
        let (_, member, _) = new_member(f, &here);
        let code = barcode(&member, "");
        TillScene {
            here,
            open,
            theirs,
            ended,
            soon,
            key,
            member,
            code,
        }
    }

    fn redeem(&self, f: &Fixture, coupon: &str, transaction: &str) -> Reply {
        redeem(&f.app, &self.key, &self.code, coupon, transaction)
    }
}

fn a_scan_shows_the_member_and_each_coupons_status_at_this_store(f: &Fixture) {
    let t = TillScene::new(f);
    let seen = scan(&f.app, &t.key, &t.code);
    assert_eq!(seen.status, 200, "{}", seen.text());
    let seen = seen.json();
    assert_eq!(seen["member"]["number"], t.member.as_str());
    assert_eq!(seen["member"]["favourite_store"], t.here.as_str());
    assert_eq!(seen["member"]["consent"], "granted");
    assert_eq!(seen["store_id"], t.here.as_str());
    assert_eq!(seen["store_names"][&t.here], format!("Store {}", t.here));
    assert_eq!(seen["coupon"], Value::Null);
    assert_eq!(status_of(&seen, &t.open).as_deref(), Some("available"));
    assert_eq!(
        status_of(&seen, &t.theirs).as_deref(),
        Some("not_valid_here")
    );
    assert_eq!(status_of(&seen, &t.ended).as_deref(), Some("expired"));
    assert_eq!(status_of(&seen, &t.soon).as_deref(), Some("not_yet_valid"));
    // A scanner that types lower case, or a code with a stray space, is read all the same.
    let lower = scan(&f.app, &t.key, &format!(" {} ", t.code.to_lowercase()));
    assert_eq!(lower.status, 200, "{}", lower.text());
}

fn a_coupon_redeems_once_then_409_says_when_and_where_and_the_same_request_replays(f: &Fixture) {
    let t = TillScene::new(f);
    let t1 = unique("T1-");
    let first = t.redeem(f, &t.open, &t1);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let r = first.json()["redemption"].clone();
    assert_eq!(r["coupon_id"], t.open.as_str());
    assert_eq!(r["member_number"], t.member.as_str());
    assert_eq!(r["store_id"], t.here.as_str());
    assert_eq!(r["register_id"], "R1");
    assert_eq!(r["transaction_id"], t1.as_str());
    assert!(r["id"].as_str().unwrap().starts_with("rd_"));
    assert!(r["redeemed_at"].as_str().unwrap().ends_with('Z'));

    let again = t.redeem(f, &t.open, &unique("T2-"));
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (409, "already_redeemed")
    );
    let e = again.json()["error"].clone();
    assert_eq!(e["redeemed_at"], r["redeemed_at"]);
    assert_eq!(e["store_id"], t.here.as_str());
    assert_eq!(e["register_id"], "R1");

    let replay = t.redeem(f, &t.open, &t1);
    assert_eq!(replay.status, 200, "{}", replay.text());
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json(), first.json());
}

fn a_transaction_belongs_to_one_member_and_may_redeem_several_of_its_coupons(f: &Fixture) {
    let t = TillScene::new(f);
    let t1 = unique("T1-");
    assert_eq!(t.redeem(f, &t.open, &t1).status, 200);
    let (_, other, _) = new_member(f, &t.here);
    let conflict = redeem(&f.app, &t.key, &barcode(&other, ""), &t.open, &t1);
    assert_eq!(
        (conflict.status, conflict.error_code().as_str()),
        (409, "transaction_conflict")
    );
    let now = now_ms();
    let second = coupon_id("second");
    put_coupon(
        &f.app,
        &second,
        coupon("second", now - DAY, now + DAY, None, false),
    );
    let two = t.redeem(f, &second, &t1);
    assert_eq!(two.status, 200, "{}", two.text());
}

fn every_refusal_the_contract_names_answers_its_status_and_code(f: &Fixture) {
    let t = TillScene::new(f);
    let now = now_ms();
    for (coupon, code_text, status, error) in [
        (&t.ended, t.code.clone(), 422, "expired"),
        (&t.soon, t.code.clone(), 422, "not_yet_valid"),
        (&t.theirs, t.code.clone(), 422, "not_valid_here"),
        (
            &t.open,
            barcode(&t.member, &t.ended),
            422,
            "coupon_mismatch",
        ),
        (&coupon_id("ghost"), t.code.clone(), 404, "unknown_coupon"),
        (
            &t.open,
            make_barcode(
                SIGNING_KID,
                "another-key-entirely-0123456789ab",
                &t.member,
                u32::MAX / 2,
                "",
            ),
            422,
            "invalid_code",
        ),
        (
            &t.open,
            make_barcode(
                SIGNING_KID,
                SIGNING_KEY_TEXT,
                &t.member,
                (now / 1000 - 60) as u32,
                "",
            ),
            422,
            "invalid_code",
        ),
        (&t.open, "NOTABARCODE".to_owned(), 422, "invalid_code"),
    ] {
        let reply = redeem(&f.app, &t.key, &code_text, coupon, &unique("TX-"));
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, error.to_owned()),
            "{coupon}: {}",
            reply.text()
        );
    }
    // A valid signature for a number that never was a member.
    let unknown = scan(&f.app, &t.key, &barcode("000000000018", ""));
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (404, "unknown_member")
    );
    // Nothing was redeemed by any of them.
    assert_eq!(
        status_of(&scan(&f.app, &t.key, &t.code).json(), &t.open).as_deref(),
        Some("available")
    );
}

fn malformed_till_requests_are_refused_with_a_clear_code(f: &Fixture) {
    let t = TillScene::new(f);
    let (code, open) = (&t.code, &t.open);
    for (body, status, error) in [
        (
            json!({"code": code, "coupon_id": open, "transaction_id": "T 1", "register_id": "R1"}),
            422,
            "invalid_transaction_id",
        ),
        (
            json!({"code": code, "coupon_id": open, "transaction_id": "T1", "register_id": ""}),
            422,
            "invalid_register_id",
        ),
        (
            json!({"code": code, "coupon_id": open}),
            400,
            "invalid_body",
        ),
        (
            json!({"code": code, "coupon_id": open, "transaction_id": "T", "register_id": "R", "x": 1}),
            400,
            "invalid_body",
        ),
    ] {
        let reply = pos(&f.app, &t.key, "/api/pos/redeem", body);
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, error.to_owned())
        );
    }
    let malformed = f.app.send(
        "POST",
        "/api/pos/scan",
        &[("authorization", &format!("Bearer {}", t.key))],
        b"{not json".to_vec(),
    );
    assert_eq!(
        (malformed.status, malformed.error_code().as_str()),
        (400, "invalid_json")
    );
    let huge = pos(
        &f.app,
        &t.key,
        "/api/pos/scan",
        json!({"code": "A".repeat(70_000)}),
    );
    assert_eq!(huge.status, 413);
}

fn the_scan_and_the_access_export_show_each_redemption(f: &Fixture) {
    let t = TillScene::new(f);
    let t1 = unique("T1-");
    let first = t.redeem(f, &t.open, &t1);
    assert_eq!(first.status, 200, "{}", first.text());
    let r = first.json()["redemption"].clone();
    let after = scan(&f.app, &t.key, &t.code).json();
    assert_eq!(status_of(&after, &t.open).as_deref(), Some("redeemed"));
    let used = after["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == t.open.as_str())
        .unwrap();
    assert_eq!(used["redemption"]["transaction_id"], t1.as_str());
    let export = member_export(&f.app, &t.member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    assert_eq!(redemptions.len(), 1);
    assert_eq!(redemptions[0], r);
}

fn an_erased_members_barcodes_are_dead_at_the_till(f: &Fixture) {
    let t = TillScene::new(f);
    assert_eq!(t.redeem(f, &t.open, &unique("T1-")).status, 200);
    let erased = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/members/{}", t.member),
        None,
    );
    assert_eq!(erased.status, 200, "{}", erased.text());
    let gone = scan(&f.app, &t.key, &t.code);
    assert_eq!(
        (gone.status, gone.error_code().as_str()),
        (404, "unknown_member")
    );
    let gone = t.redeem(f, &t.open, &unique("TE-"));
    assert_eq!(
        (gone.status, gone.error_code().as_str()),
        (404, "unknown_member")
    );
}

fn pos_keys_are_shown_once_listed_without_secrets_and_revoked(f: &Fixture) {
    let store = store_id("keys");
    create_store(&f.app, &store);
    let (_, member, _) = new_member(f, &store);
    let code = barcode(&member, "");
    let key = new_pos_key(&f.app, &store, "Front till");
    let spare = new_pos_key(&f.app, &store, "Spare");
    assert!(key.starts_with("pk_") && key != spare);
    assert_eq!(scan(&f.app, &key, &code).status, 200);
    // The till's set-up check: which store and key this is.
    let who = f.app.get_with(
        "/api/pos/whoami",
        &[
            ("authorization", &format!("Bearer {key}")),
            ("accept-language", "ja"),
        ],
    );
    assert_eq!(who.status, 200, "{}", who.text());
    let who = who.json();
    assert_eq!(
        (&who["store_id"], &who["store_name"], &who["label"]),
        (&json!(store), &json!("店"), &json!("Front till"))
    );
    assert_eq!(who["key_id"], &key[3..11]);

    let listed = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stores/{store}/pos-keys"),
        None,
    );
    assert_eq!(listed.status, 200);
    let text = listed.text();
    assert!(
        !text.contains(&key[12..]) && !text.contains("hash"),
        "{text}"
    );
    let keys = listed.json()["pos_keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["label"], "Front till");
    let id = keys[0]["id"].as_str().unwrap();
    assert_eq!(&key[3..11], id);

    let revoked = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/stores/{store}/pos-keys/{id}"),
        None,
    );
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    assert!(revoked.json()["pos_key"]["revoked_at"].is_string());
    let wrong_key = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('a') { 'b' } else { 'a' }
    );
    for (name, header) in [
        ("revoked", Some(format!("Bearer {key}"))),
        ("wrong", Some(format!("Bearer {wrong_key}"))),
        (
            "admin token",
            Some(format!("Bearer {}", harness::ADMIN_TOKEN)),
        ),
        ("not bearer", Some(format!("Basic {spare}"))),
        ("missing", None),
    ] {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(h) = &header {
            headers.push(("authorization", h.as_str()));
        }
        for path in ["/api/pos/scan", "/api/pos/redeem"] {
            let reply = f.app.send(
                "POST",
                path,
                &headers,
                json!({"code": code}).to_string().into_bytes(),
            );
            assert_eq!(
                (reply.status, reply.error_code().as_str()),
                (401, "unauthorized"),
                "{name} {path}"
            );
        }
    }
    assert_eq!(
        scan(&f.app, &spare, &code).status,
        200,
        "the other key still works"
    );
    let who = f.app.get_with(
        "/api/pos/whoami",
        &[("authorization", &format!("Bearer {key}"))],
    );
    assert_eq!(who.status, 401, "a revoked key fails the set-up check too");

    // Unknown stores and keys; no admin token.
    let none = admin(
        &f.app,
        "POST",
        "/api/admin/stores/no-such-store-x/pos-keys",
        None,
    );
    assert_eq!(none.status, 404);
    let none = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/stores/{store}/pos-keys/zzzzzzzz"),
        None,
    );
    assert_eq!(none.status, 404);
    let bad = admin(
        &f.app,
        "POST",
        &format!("/api/admin/stores/{store}/pos-keys"),
        Some(json!({"label": ""})),
    );
    assert_eq!(bad.status, 422);
    let anonymous = f.app.send(
        "POST",
        &format!("/api/admin/stores/{store}/pos-keys"),
        &[],
        Vec::new(),
    );
    assert_eq!(anonymous.status, 401);
    let bare = f.bare.send(
        "POST",
        "/api/pos/scan",
        &[("authorization", &format!("Bearer {spare}"))],
        b"{}".to_vec(),
    );
    assert_eq!(
        bare.status, 401,
        "a Worker without that key's record refuses it"
    );
}

/// A leaked key leaves a trace (every redemption names its key) and stops redeeming the moment
/// its revocation answers. The store's `Till` object checks it, not the isolate's key cache.
fn a_revoked_key_redeems_nothing_once_the_revocation_answered_and_redemptions_name_their_key(
    f: &Fixture,
) {
    let store = store_id("leak");
    create_store(&f.app, &store);
    let (_, member, _) = new_member(f, &store);
    let key = new_pos_key(&f.app, &store, "Leaked till");
    let key_id = &key[3..11];
    let now = now_ms();
    let coupons: Vec<String> = (0..3).map(|_| coupon_id("lk")).collect();
    for id in &coupons {
        let put = put_coupon(
            &f.app,
            id,
            coupon("Leak", now - DAY, now + DAY, Some(vec![&store]), true),
        );
        assert!(matches!(put.status, 200 | 201), "{}", put.text());
    }
    let code = barcode(&member, "");
    let first = redeem(&f.app, &key, &code, &coupons[0], &unique("T"));
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["redemption"]["pos_key_id"], key_id);
    // The key is in this isolate's cache now; revoke it and use it at once, twice at the same
    // instant as a thief would.
    let revoked = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/stores/{store}/pos-keys/{key_id}"),
        None,
    );
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let attempts: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = coupons[1..]
            .iter()
            .map(|c| s.spawn(|| redeem(&f.app, &key, &code, c, &unique("T"))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for reply in &attempts {
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (401, "unauthorized"),
            "{}",
            reply.text()
        );
    }
    let again = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/stores/{store}/pos-keys/{key_id}"),
        None,
    );
    assert_eq!(again.status, 200, "revoking twice is the same as once");
    let export = member_export(&f.app, &member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    assert_eq!(redemptions.len(), 1, "{redemptions:#?}");
    assert_eq!(redemptions[0]["pos_key_id"], key_id);
    assert_eq!(redemptions[0]["coupon_id"], coupons[0].as_str());
}

/// Well-formed keys that do not exist are each refused (401, never a 5xx), and a real key used
/// before and after them still works. That junk never pushes a real key out of an isolate's
/// cache is `pos_keys::KeyCache`'s unit test.
fn thousands_of_junk_keys_are_each_refused_and_a_real_key_still_works(f: &Fixture) {
    let store = store_id("junk");
    create_store(&f.app, &store);
    let (_, member, _) = new_member(f, &store);
    let key = new_pos_key(&f.app, &store, "Real");
    let code = barcode(&member, "");
    assert_eq!(scan(&f.app, &key, &code).status, 200);
    let code = &code;
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                for i in 0..300 {
                    let junk = format!("pk_{}_{}", to_base32(t * 1000 + i), "a".repeat(40));
                    let reply = scan(&f.app, &junk, code);
                    assert_eq!(reply.status, 401, "{junk}: {}", reply.text());
                }
            });
        }
    });
    let reply = scan(&f.app, &key, code);
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// A leaked key, or a card tapped by a script, costs at most its limit (120 a minute per POS
/// key, 10 per card: `wrangler.toml`), and is told when to come back; others go on.
fn a_key_or_a_card_past_its_rate_limit_is_told_when_to_try_again(f: &Fixture) {
    let store = store_id("limit");
    create_store(&f.app, &store);
    let (_, _, card) = new_member(f, &store);
    let key = new_pos_key(&f.app, &store, "Hammered");
    let other = new_pos_key(&f.app, &store, "Next till");
    let whoami = |key: &str| {
        f.app.get_with(
            "/api/pos/whoami",
            &[("authorization", &format!("Bearer {key}"))],
        )
    };
    // A fixed window may end during the run: two windows' worth at most.
    let mut ok = 0;
    let limited = loop {
        let reply = whoami(&key);
        match reply.status {
            200 => ok += 1,
            429 => break reply,
            other => panic!("{other}: {}", reply.text()),
        }
        assert!(ok <= 240, "no limit after {ok} requests");
    };
    assert!(ok >= 1, "the limit is not zero");
    assert_eq!(limited.error_code(), "rate_limited");
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert_eq!(whoami(&other).status, 200, "another key goes on");

    let tap = || {
        f.app.send(
            "POST",
            &format!("{card}/favourite?lang=fr"),
            &[("content-type", "application/x-www-form-urlencoded")],
            format!("store={store}").into_bytes(),
        )
    };
    let mut taps = 0;
    let limited = loop {
        let reply = tap();
        match reply.status {
            200 => taps += 1,
            429 => break reply,
            other => panic!("{other}: {}", reply.text()),
        }
        assert!(taps <= 20, "no limit after {taps} taps");
    };
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(
        limited.text().contains("Veuillez patienter"),
        "the card's page asks to wait, in French: {}",
        limited.text()
    );
}

/// `n` in lower-case base32 digits (`a`–`z`, `2`–`7`), the alphabet of key ids.
fn to_base32(mut n: u32) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = Vec::new();
    loop {
        out.push(ALPHABET[(n % 32) as usize]);
        n /= 32;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    let s = String::from_utf8(out).unwrap();
    format!("{s:a>8}")
}

fn two_hundred_concurrent_redeems_from_two_stores_make_one_redemption(f: &Fixture) {
    let (a, b) = (store_id("race-a"), store_id("race-b"));
    create_store(&f.app, &a);
    create_store(&f.app, &b);
    let prize = coupon_id("race");
    let now = now_ms();
    assert_eq!(
        put_coupon(
            &f.app,
            &prize,
            coupon("race", now - DAY, now + DAY, None, true)
        )
        .status,
        201
    );
    let (key_a, key_b) = (new_pos_key(&f.app, &a, "A"), new_pos_key(&f.app, &b, "B"));
    let (_, member, _) = new_member(f, &a);
    let code = barcode(&member, &prize);
    const N: usize = 200;
    let barrier = Arc::new(Barrier::new(N));
    let base = f.app.base.clone();
    let run = unique("R");
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let (key, store) = if i % 2 == 0 { (&key_a, &a) } else { (&key_b, &b) };
            let auth = format!("Bearer {key}");
            // 20 transactions per store, each sent about five times: replays among the race.
            let transaction = format!("{run}-{store}-{}", i % 20);
            let body = json!({"code": code, "coupon_id": prize, "transaction_id": transaction, "register_id": "R1"}).to_string();
            let base = base.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let reply = harness::send_to(
                    &base,
                    "POST",
                    "/api/pos/redeem",
                    &[("authorization", auth.as_str()), ("content-type", "application/json")],
                    body.into_bytes(),
                )
                .expect("the Worker answers");
                (transaction, reply)
            })
        })
        .collect();
    let replies: Vec<(String, Reply)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok: Vec<&(String, Reply)> = replies.iter().filter(|(_, r)| r.status == 200).collect();
    let refused = replies
        .iter()
        .filter(|(_, r)| r.status == 409 && r.error_code() == "already_redeemed")
        .count();
    let other: Vec<String> = replies
        .iter()
        .filter(|(_, r)| {
            r.status != 200 && !(r.status == 409 && r.error_code() == "already_redeemed")
        })
        .map(|(_, r)| format!("{} {}", r.status, r.text()))
        .collect();
    assert!(
        other.is_empty(),
        "only 200 and 409 already_redeemed: {other:?}"
    );
    assert!(!ok.is_empty(), "one transaction won");
    let winner = &ok[0].0;
    assert!(
        ok.iter()
            .all(|(t, r)| t == winner && r.json() == ok[0].1.json()),
        "every 200 is the winning transaction's one redemption, replayed"
    );
    let fresh = ok
        .iter()
        .filter(|(_, r)| r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(fresh, 1, "exactly one answer is not a replay");
    assert_eq!(ok.len() + refused, N);
    let sent_with_winner = replies.iter().filter(|(t, _)| t == winner).count();
    assert!(ok.len() <= sent_with_winner);
    // Count it back through the access export.
    let export = member_export(&f.app, &member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    assert_eq!(redemptions.len(), 1, "{redemptions:?}");
    assert_eq!(redemptions[0]["transaction_id"], winner.as_str());
    eprintln!(
        "race: {N} requests, 1 redemption, {} replays, {refused} already_redeemed",
        ok.len() - 1
    );
}

fn a_withdrawal_blocks_the_next_redeem_of_a_consent_gated_coupon_at_once(f: &Fixture) {
    let store = store_id("stop");
    create_store(&f.app, &store);
    let now = now_ms();
    let (gated, open) = (coupon_id("gated"), coupon_id("ungated"));
    put_coupon(
        &f.app,
        &gated,
        coupon("gated", now - DAY, now + DAY, None, true),
    );
    put_coupon(
        &f.app,
        &open,
        coupon("ungated", now - DAY, now + DAY, None, false),
    );
    let key = new_pos_key(&f.app, &store, "T");
    let (user, member, card) = new_member(f, &store);
    let code = barcode(&member, "");
    // The shopper blocks the account on LINE; the till redeems right after.
    let unfollow = post_line(
        &f.app,
        &line_body(&[line_event(&user, "unfollow", now_ms(), json!({}))]),
    );
    assert_eq!(unfollow.status, 200, "{}", unfollow.text());
    let refused = redeem(&f.app, &key, &code, &gated, &unique("TW-"));
    assert_eq!(
        (refused.status, refused.error_code().as_str()),
        (422, "consent_withdrawn"),
        "{}",
        refused.text()
    );
    let seen = scan(&f.app, &key, &code).json();
    assert_eq!(seen["member"]["consent"], "withdrawn");
    assert_eq!(
        status_of(&seen, &gated),
        None,
        "a gated coupon is not offered"
    );
    assert_eq!(
        redeem(&f.app, &key, &code, &open, &unique("TW-")).status,
        200
    );
    // The card's one-tap stop blocks as well (second member).
    let (_, member2, card2) = new_member(f, &store);
    let _ = card;
    let stop = f
        .app
        .send("POST", &format!("{card2}/stop"), &[], Vec::new());
    assert_eq!(stop.status, 200);
    let refused = redeem(&f.app, &key, &barcode(&member2, ""), &gated, &unique("TW-"));
    assert_eq!(refused.error_code(), "consent_withdrawn");
}

/// What the stats cases share: a store in UTC+14 (for ten hours of every UTC day, its calendar
/// day is already the next one) with two landing views, a LINE opt-in, a redemption and an
/// unfollow on its own today, counted.
struct StatsScene {
    store: String,
    day: String,
    path: String,
    row: Value,
}

impl StatsScene {
    fn new(f: &Fixture) -> StatsScene {
        let store = store_id("kiri");
        let reply = admin(
            &f.app,
            "PUT",
            &format!("/api/admin/stores/{store}"),
            Some(
                json!({"names": {"en": "Kiritimati"}, "address": "Line Islands", "timezone": "Pacific/Kiritimati"}),
            ),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        let day = crate::cards::rfc3339(now_ms() + 14 * 3_600_000)[..10].to_owned();
        assert_eq!(f.app.get(&format!("/s/{store}")).status, 200);
        assert_eq!(f.app.get(&format!("/s/{store}")).status, 200);
        let now = now_ms();
        let c = coupon_id("stat");
        put_coupon(&f.app, &c, coupon("stat", now - DAY, now + DAY, None, true));
        let key = new_pos_key(&f.app, &store, "T");
        let (user, member, _) = new_member(f, &store);
        assert_eq!(
            redeem(&f.app, &key, &barcode(&member, ""), &c, &unique("TS-")).status,
            200
        );
        post_line(
            &f.app,
            &line_body(&[line_event(&user, "unfollow", now_ms(), json!({}))]),
        );

        let path = format!("/api/admin/stats?from={day}&to={day}");
        let mut row = Value::Null;
        // Counts travel in coalesced batches after the responses: wait for them.
        for _ in 0..50 {
            let stats = admin(&f.app, "GET", &path, None);
            assert_eq!(stats.status, 200, "{}", stats.text());
            row = stats.json()["stats"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["store_id"] == store.as_str())
                .cloned()
                .unwrap_or(Value::Null);
            if row["redemptions"] == 1
                && row["withdrawals"]["line"] == 1
                && row["landing_views"] == 2
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        StatsScene {
            store,
            day,
            path,
            row,
        }
    }
}

fn stats_count_a_store_day_in_the_stores_own_time_zone(f: &Fixture) {
    let StatsScene {
        store, day, row, ..
    } = StatsScene::new(f);
    assert_eq!(
        row,
        json!({
            "store_id": store, "time_zone": "Pacific/Kiritimati", "day": day,
            "landing_views": 2,
            "grants": {"line": 1, "whatsapp": 0, "messenger": 0, "instagram": 0},
            "card_only_grants": {"line": 0, "whatsapp": 0, "messenger": 0, "instagram": 0},
            "withdrawals": {"line": 1, "whatsapp": 0, "messenger": 0, "instagram": 0},
            "cards_issued": 1, "redemptions": 1, "offline_redemptions": 0,
        })
    );
    let mars = admin(
        &f.app,
        "PUT",
        &format!("/api/admin/stores/{store}-x"),
        Some(
            json!({"names": {"en": "Mars"}, "address": "Olympus Mons", "timezone": "Mars/Olympus_Mons"}),
        ),
    );
    assert_eq!(
        (mars.status, mars.error_code().as_str()),
        (422, "invalid_timezone")
    );
}

fn stats_come_as_csv_and_for_one_store(f: &Fixture) {
    let StatsScene {
        store,
        day,
        path,
        row,
    } = StatsScene::new(f);
    let csv = admin(&f.app, "GET", &format!("{path}&format=csv"), None);
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("store_id,time_zone,day,landing_views,grants_line,"));
    assert!(
        text.contains(&format!(
            "\r\n{store},Pacific/Kiritimati,{day},2,1,0,0,0,1,0,0,0,1,1,0,0,0,0,0\r\n"
        )),
        "{text}"
    );
    // One store: its rows only, not the other stores' nor those of no store.
    let one = admin(&f.app, "GET", &format!("{path}&store={store}"), None);
    assert_eq!(one.status, 200, "{}", one.text());
    let one = one.json();
    assert_eq!(one["stats"], json!([row.clone()]), "{one}");
    assert_eq!(
        (one["from"].as_str(), one["to"].as_str()),
        (Some(day.as_str()), Some(day.as_str()))
    );
    let unknown = admin(&f.app, "GET", "/api/admin/stats?store=nosuch-xyz", None);
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (404, "not_found")
    );
}

fn the_funnel_chart_gives_its_numbers_in_words_too(f: &Fixture) {
    let StatsScene {
        store, day, path, ..
    } = StatsScene::new(f);
    // The same store and day as a chart: the funnel's numbers and conversions, in words too.
    let chart = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stats?format=svg&store={store}&from={day}&to={day}"),
        None,
    );
    assert_eq!(chart.status, 200, "{}", chart.text());
    assert_eq!(
        chart.header("content-type"),
        Some("image/svg+xml; charset=utf-8")
    );
    let svg = chart.text();
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"), "{svg}");
    assert!(svg.contains(r#"role="img""#), "{svg}");
    assert!(svg.contains(">2</text>"), "two landing views: {svg}");
    assert!(
        svg.contains(">50%</text>"),
        "one opt-in of two views: {svg}"
    );
    assert!(
        svg.contains(&format!(
            "Store {store}, {day}: 2 landing views, 1 opt-in (LINE 1, WhatsApp 0, Messenger 0, \
             Instagram 0), 1 card issued, 1 redemption."
        )),
        "{svg}"
    );
    let ja = admin(
        &f.app,
        "GET",
        &format!("{path}&store={store}&format=svg&lang=ja"),
        None,
    );
    assert_eq!(ja.status, 200);
    assert!(ja.text().contains(">ページ閲覧</text>"), "{}", ja.text());
}

fn stats_without_a_range_take_each_stores_own_today(f: &Fixture) {
    let StatsScene {
        store, day, row, ..
    } = StatsScene::new(f);
    // With no range, each store is asked for its own today: Kiritimati (UTC+14) and Pago Pago
    // (UTC−11) are never both on UTC's day, so one of them always tells the two apart.
    let pago = format!("{store}-pago");
    let reply = admin(
        &f.app,
        "PUT",
        &format!("/api/admin/stores/{pago}"),
        Some(
            json!({"names": {"en": "Pago Pago"}, "address": "Tutuila", "timezone": "Pacific/Pago_Pago"}),
        ),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let pago_day = crate::cards::rfc3339(now_ms() - 11 * 3_600_000)[..10].to_owned();
    assert_eq!(f.app.get(&format!("/s/{pago}")).status, 200);
    let mut answer = Value::Null;
    let rows_of = |answer: &Value, id: &str| -> Vec<Value> {
        answer["stats"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["store_id"] == id)
            .cloned()
            .collect()
    };
    for _ in 0..50 {
        let stats = admin(&f.app, "GET", "/api/admin/stats", None);
        assert_eq!(stats.status, 200, "{}", stats.text());
        answer = stats.json();
        if rows_of(&answer, &pago)
            .first()
            .is_some_and(|r| r["landing_views"] == 1)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        rows_of(&answer, &store),
        vec![row.clone()],
        "Kiritimati's today"
    );
    let pago_rows = rows_of(&answer, &pago);
    assert_eq!(
        pago_rows
            .iter()
            .map(|r| (
                r["day"].as_str().unwrap(),
                r["landing_views"].as_i64().unwrap()
            ))
            .collect::<Vec<_>>(),
        vec![(pago_day.as_str(), 1)],
        "Pago Pago's today"
    );
    assert_eq!(
        (answer["from"].as_str(), answer["to"].as_str()),
        (Some(pago_day.as_str()), Some(day.as_str()))
    );
}

fn stats_refuse_bad_queries_and_answer_empty_and_long_ranges(f: &Fixture) {
    let store = store_id("range");
    create_store(&f.app, &store);
    for (query, code) in [
        ("from=2026-02-30", "invalid_date"),
        ("format=xml", "invalid_format"),
        ("store=Bad!", "invalid_store"),
    ] {
        let reply = admin(&f.app, "GET", &format!("/api/admin/stats?{query}"), None);
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, code.to_owned()),
            "{query}"
        );
    }
    // Not errors: a reversed range has no row; of a year, the answer holds the last 92 days.
    let reversed = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stats?from=2026-11-02&to=2026-11-01&store={store}"),
        None,
    );
    assert_eq!(reversed.status, 200, "{}", reversed.text());
    assert_eq!(reversed.json()["stats"], json!([]));
    let year = admin(
        &f.app,
        "GET",
        &format!("/api/admin/stats?from=2026-01-01&to=2026-12-31&store={store}"),
        None,
    );
    assert_eq!(year.status, 200, "{}", year.text());
    assert_eq!(
        (year.json()["from"].as_str(), year.json()["to"].as_str()),
        (Some("2026-10-01"), Some("2026-12-31"))
    );
    assert_eq!(year.json()["stats"].as_array().unwrap().len(), 92);
}

fn till_page_in_headless_chromium_takes_a_scanner_not_a_typist(f: &Fixture) {
    let store = store_id("page");
    create_store(&f.app, &store);
    let now = now_ms();
    // Keys 1-9 go to the usable coupons in id order, and parallel tests add coupons valid
    // everywhere: an id that sorts first keeps this one on key 1.
    let c = coupon_id("0page");
    put_coupon(
        &f.app,
        &c,
        coupon("Autumn 10% off", now - DAY, now + DAY, None, true),
    );
    let key = new_pos_key(&f.app, &store, "Chromium");
    let (_, member, _) = new_member(f, &store);
    let code = barcode(&member, "");
    let shots = harness::artifact_path("till");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(harness::repo_root().join("tests/browser/pos.mjs"))
        .arg(&f.app.base)
        .arg(&key)
        .arg(&code)
        .arg(&c)
        .arg(&shots)
        .arg("en-GB")
        .current_dir(harness::repo_root())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("till page: {seen}");
    assert_eq!(seen["status"], 200);
    assert_eq!(seen["errors"], json!([]), "no console errors");
    assert_eq!(
        seen["axe"],
        json!([]),
        "axe-core: no serious or critical violation"
    );
    assert_eq!(seen["keyKept"], true);
    assert_eq!(
        seen["memberNumber"]
            .as_str()
            .map(|s| s.replace([' ', '-'], "")),
        Some(member.clone())
    );
    assert_eq!(seen["slowTypingTakenForScan"], false);
    assert_eq!(
        seen["scanRequests"], 1,
        "one scan, from the scanner's keystrokes"
    );
    assert_eq!(
        seen["scan"]["textLeftInField"], "",
        "the scanned text left no trace in a field"
    );
    assert_eq!(seen["redeemResult"], "ok", "redeemed with the keyboard");
    assert_eq!(seen["foreignRequests"], json!([]));
    // The redemption really happened, once.
    let export = member_export(&f.app, &member).json();
    let redemptions = export["member"]["redemptions"].as_array().unwrap();
    assert_eq!(redemptions.len(), 1, "{seen}");
    assert_eq!(redemptions[0]["coupon_id"], c.as_str());
    assert_eq!(redemptions[0]["store_id"], store.as_str());
}
