//! The events feed, end to end: real events (a LINE opt-in, a till redemption, a card stop, an
//! erasure) go through the Worker's queue to a receiver that is not our code —
//! `scripts/feed_receiver.py`, which verifies every delivery with the `standardwebhooks`
//! library and parses it with the CloudEvents SDK. The app runs with a short retry schedule
//! (`FEED_RETRY_DELAYS`) so outages and dead letters fit in a test.
//!
//! Endpoints are global to the Worker, so every endpoint here receives every test's events;
//! each test looks only at its own members' events and deletes its endpoint at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cards::{admin, coupon, coupon_id, create_store, put_coupon, DAY};
use crate::harness::{self, free_port, repo_root, Reply};
use crate::till::{barcode, new_member, new_pos_key, redeem, store_id};
use crate::webhooks::{now_ms, unique};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        every_kind_of_event_arrives_verified_by_the_reference_libraries,
        a_receiver_down_for_a_while_then_up_gets_every_event,
        a_flaky_a_trickling_and_a_redirecting_receiver_hold_back_no_other,
        a_receiver_refusing_connections_then_listening_gets_each_event_without_a_storm,
        spent_retries_become_dead_letters_that_a_replay_delivers,
        a_410_disables_the_endpoint_and_nothing_more_is_sent,
        a_member_object_woken_after_its_events_went_does_not_send_them_again,
        rotation_signs_with_both_secrets_and_erasure_leaves_nothing_personal,
        the_export_streams_exactly_the_delivered_events_in_order,
        feed_admin_routes_check_the_token_the_url_and_never_show_a_secret,
    ]
}

/// The receiver process, stopped when dropped.
struct Receiver {
    base: String,
    child: Child,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    fn start() -> Receiver {
        Receiver::start_on(free_port())
    }

    fn start_on(port: u16) -> Receiver {
        let root = repo_root();
        let child = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("scripts/feed_receiver.py"))
            .args(["--port", &port.to_string(), "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the feed receiver starts (.venv: make setup)");
        let receiver = Receiver {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        eventually(Duration::from_secs(20), "receiver up", || {
            harness::send_to(&receiver.base, "GET", "/_received", &[], Vec::new())
                .map_err(|e| e.to_string())
        });
        receiver
    }

    fn url(&self) -> String {
        format!("{}/feed", self.base)
    }

    fn control(&self, settings: Value) {
        let reply = harness::send_to(
            &self.base,
            "POST",
            "/_control",
            &[("content-type", "application/json")],
            settings.to_string().into_bytes(),
        )
        .unwrap();
        assert_eq!(reply.status, 204);
    }

    /// Every delivery that verified, and how many did not.
    fn received(&self) -> (Vec<Value>, u64) {
        let reply = harness::send_to(&self.base, "GET", "/_received", &[], Vec::new()).unwrap();
        let v = reply.json();
        (
            v["deliveries"].as_array().unwrap().clone(),
            v["rejected"].as_u64().unwrap(),
        )
    }

    /// The verified deliveries of these members' events.
    fn of_members(&self, members: &BTreeSet<String>) -> Vec<Value> {
        self.received()
            .0
            .into_iter()
            .filter(|d| {
                d["data"]["member_number"]
                    .as_str()
                    .is_some_and(|m| members.contains(m))
            })
            .collect()
    }

    /// Waits until `done` holds of the members' deliveries (or fails after `limit`).
    fn wait_until(
        &self,
        members: &BTreeSet<String>,
        limit: Duration,
        what: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        eventually(limit, what, || {
            let deliveries = self.of_members(members);
            if done(&deliveries) {
                Ok(deliveries)
            } else {
                Err(format!("{deliveries:#?}"))
            }
        })
    }
}

/// Asks `probe` every 200 ms until it answers `Ok`; fails after `limit`, saying `what` and the
/// last `Err` (what was seen so far).
fn eventually<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let started = Instant::now();
    loop {
        match probe() {
            Ok(value) => return value,
            Err(seen) => assert!(
                started.elapsed() < limit,
                "{what}: not within {limit:?}; {seen}"
            ),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A probe of [`eventually`] for a condition.
fn holds(condition: bool) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err("not yet".into())
    }
}

/// Adds an endpoint for the receiver: (id, secret).
fn add_feed(f: &Fixture, receiver: &Receiver) -> (String, String) {
    let reply = admin(
        &f.app,
        "POST",
        "/api/admin/feeds",
        Some(json!({ "url": receiver.url() })),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let v = reply.json();
    assert_eq!(v["url"], receiver.url());
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (v["id"].as_str().unwrap().to_owned(), secret)
}

fn delete_feed(f: &Fixture, id: &str) {
    let reply = admin(&f.app, "DELETE", &format!("/api/admin/feeds/{id}"), None);
    assert_eq!(reply.status, 204, "{}", reply.text());
}

/// The endpoint as `GET /api/admin/feeds` lists it.
fn feed_status(f: &Fixture, id: &str) -> Value {
    let reply = admin(&f.app, "GET", "/api/admin/feeds", None);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("feed {id} listed"))
}

fn new_store(f: &Fixture) -> String {
    let store = store_id("feed");
    create_store(&f.app, &store);
    store
}

/// Event ids by type among deliveries.
fn types(deliveries: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_type: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in deliveries {
        by_type
            .entry(d["type"].as_str().unwrap().to_owned())
            .or_default()
            .insert(d["id"].as_str().unwrap().to_owned());
    }
    by_type
}

/// The ids of deliveries answered 2xx.
fn delivered_ids(deliveries: &[Value]) -> BTreeSet<String> {
    deliveries
        .iter()
        .filter(|d| {
            d["answered"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s))
        })
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A redemption at `store` of a new coupon of that store by `member`.
fn redeem_at(f: &Fixture, store: &str, member: &str) -> Value {
    let key = new_pos_key(&f.app, store, "feed");
    let id = coupon_id("fd");
    let now = now_ms();
    let put = put_coupon(
        &f.app,
        &id,
        coupon("Feed coupon", now - DAY, now + DAY, Some(vec![store]), true),
    );
    assert!(matches!(put.status, 200 | 201), "{}", put.text());
    let reply = redeem(&f.app, &key, &barcode(member, ""), &id, &unique("T"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["redemption"].clone()
}

fn members(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn every_kind_of_event_arrives_verified_by_the_reference_libraries(f: &Fixture) {
    let receiver = Receiver::start();
    let (feed, secret) = add_feed(f, &receiver);
    // First with a secret that is not the endpoint's: the library refuses every delivery.
    receiver.control(json!({ "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }));
    let store = new_store(f);
    let (user, number, card) = new_member(f, &store);
    let mine = members(&[&number]);
    eventually(Duration::from_secs(20), "a rejected delivery", || {
        holds(receiver.received().1 > 0)
    });
    assert!(
        receiver.of_members(&mine).is_empty(),
        "nothing verified under a wrong secret"
    );
    // Now the right secret: the refused deliveries are retried and verify.
    receiver.control(json!({ "secrets": [secret] }));
    let redemption = redeem_at(f, &store, &number);
    // The same coupon, kept by an offline till under another transaction: a conflict.
    let offline_key = new_pos_key(&f.app, &store, "feed offline");
    let conflict = crate::offline::queued(
        &f.app,
        &offline_key,
        &barcode(&number, ""),
        redemption["coupon_id"].as_str().unwrap(),
        &unique("TO"),
        now_ms() - 60_000,
    );
    assert_eq!(
        conflict.error_code(),
        "already_redeemed",
        "{}",
        conflict.text()
    );
    let stop = f.app.send("POST", &format!("{card}/stop"), &[], Vec::new());
    assert_eq!(stop.status, 200, "{}", stop.text());
    let deliveries = receiver.wait_until(&mine, Duration::from_secs(60), "every kind", |d| {
        let t = types(d);
        [
            "member.created",
            "member.consent.granted",
            "coupon.redeemed",
            "member.consent.withdrawn",
            "coupon.redemption_conflict",
        ]
        .iter()
        .all(|k| t.contains_key(*k))
    });
    for d in &deliveries {
        assert_eq!(d["webhook_id"], d["id"], "webhook-id is the event id");
        assert_eq!(d["verified_with"], json!([0]));
        assert_eq!(d["source"], "https://shop.example");
        assert!(d["content_type"]
            .as_str()
            .unwrap()
            .starts_with("application/cloudevents+json"));
        let data = d["data"].as_object().unwrap();
        assert!(
            data.values().all(|v| !v.is_object() && !v.is_array()),
            "{d}"
        );
        assert_eq!(data["member_number"], number.as_str());
        if d["type"] == "coupon.redemption_conflict" {
            assert!(!data.contains_key("line_user_id"), "no channel id: {d}");
        } else {
            assert_eq!(data["line_user_id"], user.as_str());
        }
    }
    let conflicted = deliveries
        .iter()
        .find(|d| d["type"] == "coupon.redemption_conflict")
        .unwrap();
    assert_eq!(conflicted["data"]["reason"], "already_redeemed");
    assert_eq!(
        conflicted["data"]["first_transaction_id"],
        redemption["transaction_id"]
    );
    assert_eq!(conflicted["data"]["offline"], true);
    let granted = deliveries
        .iter()
        .find(|d| d["type"] == "member.consent.granted")
        .unwrap();
    assert_eq!(granted["data"]["store_id"], store.as_str());
    assert_eq!(granted["data"]["channel"], "line");
    assert_eq!(granted["data"]["consent_state"], "granted");
    assert_eq!(granted["data"]["source"], "join_code");
    let redeemed = deliveries
        .iter()
        .find(|d| d["type"] == "coupon.redeemed")
        .unwrap();
    for field in ["coupon_id", "transaction_id", "register_id", "store_id"] {
        assert_eq!(redeemed["data"][field], redemption[field], "{field}");
    }
    let withdrawn = deliveries
        .iter()
        .find(|d| d["type"] == "member.consent.withdrawn")
        .unwrap();
    assert_eq!(withdrawn["data"]["source"], "card_page");
    // Each event once per cause: the card's stop is one withdrawal, the join one grant.
    let t = types(&deliveries);
    assert_eq!(t["member.consent.withdrawn"].len(), 1);
    assert_eq!(t["member.consent.granted"].len(), 1);
    delete_feed(f, &feed);
}

fn a_receiver_down_for_a_while_then_up_gets_every_event(f: &Fixture) {
    let receiver = Receiver::start();
    let (feed, secret) = add_feed(f, &receiver);
    receiver.control(json!({ "secrets": [secret], "mode": "status", "status": 503 }));
    let store = new_store(f);
    let numbers: Vec<String> = (0..4).map(|_| new_member(f, &store).1).collect();
    let mine: BTreeSet<String> = numbers.iter().cloned().collect();
    // Down: 503s for a while, then no answer at all (the Worker gives up after 2 s). Each event
    // keeps its own schedule, so each is refused more than once before the receiver is back.
    let want = 2 * numbers.len(); // member.created and member.consent.granted each
    eventually(Duration::from_secs(40), "each event refused twice", || {
        let mut refused: BTreeMap<String, usize> = BTreeMap::new();
        for d in receiver.of_members(&mine) {
            if d["answered"] == 503 {
                *refused
                    .entry(d["id"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
        let backlog = feed_status(f, &feed)["backlog"].as_u64().unwrap();
        holds(refused.len() == want && refused.values().all(|n| *n >= 2) && backlog >= 8)
            .map_err(|_| format!("refused {refused:?}, backlog {backlog}"))
    });
    receiver.control(json!({ "mode": "hang", "hang_secs": 3 }));
    std::thread::sleep(Duration::from_secs(4));
    receiver.control(json!({ "mode": "ok" }));
    let deliveries = receiver.wait_until(&mine, Duration::from_secs(90), "all delivered", |d| {
        delivered_ids(d).len() == want
    });
    assert!(
        receiver.received().0.iter().any(|d| d["mode"] == "hang"),
        "some delivery timed out while the receiver hung"
    );
    // At least once, and every copy of an event carries the same webhook-id.
    let mut by_id: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for d in &deliveries {
        by_id.entry(d["id"].as_str().unwrap()).or_default().push(d);
    }
    assert_eq!(by_id.len(), want, "no event lost, none invented");
    for (id, copies) in &by_id {
        assert!(copies.iter().all(|c| c["webhook_id"] == *id));
    }
    assert!(
        by_id.values().all(|copies| copies.len() >= 3),
        "every event was refused twice before it was delivered"
    );
    let status = eventually(Duration::from_secs(30), "backlog drains", || {
        let status = feed_status(f, &feed);
        if status["last_success_at"].is_string() && status["backlog"] == 0 {
            Ok(status)
        } else {
            Err(status.to_string())
        }
    });
    assert!(status["last_failure"].is_string());
    delete_feed(f, &feed);
}

/// A member's object drops the events it sent from its row soon after the send, even when no
/// later change writes the row: its object, evicted while idle (local workerd drops an object
/// about 10 s after its last call) and woken by a read, does not send them again.
fn a_member_object_woken_after_its_events_went_does_not_send_them_again(f: &Fixture) {
    let receiver = Receiver::start();
    let (feed, secret) = add_feed(f, &receiver);
    receiver.control(json!({ "secrets": [secret] }));
    let store = new_store(f);
    let number = new_member(f, &store).1;
    let mine = members(&[&number]);
    // member.created and member.consent.granted.
    receiver.wait_until(&mine, Duration::from_secs(30), "both delivered", |d| {
        delivered_ids(d).len() == 2
    });
    // Past the row's rewrite (within 5 s of the send) and the object's eviction; a read wakes it.
    std::thread::sleep(Duration::from_secs(25));
    let read = admin(&f.app, "GET", &format!("/api/admin/members/{number}"), None);
    assert_eq!(read.status, 200, "{}", read.text());
    // A second send would arrive in this time (the first ones took well under it).
    std::thread::sleep(Duration::from_secs(8));
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    for d in receiver.of_members(&mine) {
        *copies
            .entry(d["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert!(
        copies.values().all(|n| *n == 1),
        "each event delivered once: {copies:?}"
    );
    delete_feed(f, &feed);
}

/// Receivers as they are in the wild, side by side with a healthy one: one fails the first try
/// of one event in five, one sends its headers and then trickles its body, one redirects to a
/// second receiver that nobody registered. The healthy and the flaky ones get every event
/// promptly; the redirect's target gets nothing.
fn a_flaky_a_trickling_and_a_redirecting_receiver_hold_back_no_other(f: &Fixture) {
    let healthy = Receiver::start();
    let flaky = Receiver::start();
    let trickle = Receiver::start();
    let redirect = Receiver::start();
    let target = Receiver::start();
    let mut feeds = Vec::new();
    for (receiver, mode) in [
        (&healthy, "ok"),
        (&flaky, "flaky"),
        (&trickle, "trickle"),
        (&redirect, "redirect"),
    ] {
        let (feed, secret) = add_feed(f, receiver);
        receiver.control(json!({ "secrets": [secret], "mode": mode, "location": target.url() }));
        if mode == "redirect" {
            // Whatever reached the target would verify: it is the same signed delivery.
            target.control(json!({ "secrets": [secret] }));
        }
        feeds.push(feed);
    }
    let store = new_store(f);
    let started = now_ms();
    let numbers: Vec<String> = (0..12).map(|_| new_member(f, &store).1).collect();
    let mine: BTreeSet<String> = numbers.iter().cloned().collect();
    let want = 2 * numbers.len(); // member.created and member.consent.granted each
    for (name, receiver) in [("healthy", &healthy), ("flaky", &flaky)] {
        let deliveries = receiver.wait_until(&mine, Duration::from_secs(60), name, |d| {
            delivered_ids(d).len() == want
        });
        // Cause → the attempt that delivered: the event's own time to its arrival.
        let mut late: Vec<u64> = deliveries
            .iter()
            .filter(|d| d["answered"].as_u64().is_some_and(|s| s < 300))
            .map(|d| {
                let at = d["received_at_ms"].as_u64().unwrap();
                at.saturating_sub(d["time_ms"].as_u64().unwrap())
            })
            .collect();
        late.sort_unstable();
        let worst = *late.last().unwrap();
        assert!(
            worst < 20_000,
            "{name}: every event within seconds of its cause, not behind another's retries \
             (worst {worst} ms; all {late:?})"
        );
    }
    let refused_first = flaky
        .of_members(&mine)
        .iter()
        .filter(|d| d["answered"] == 503)
        .count();
    assert!(
        refused_first >= 2,
        "the flaky receiver refused some first tries ({refused_first})"
    );
    let status = eventually(Duration::from_secs(30), "the redirect refused", || {
        let status = feed_status(f, &feeds[3]);
        let reason = status["last_failure"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if reason.contains("307") {
            Ok(reason)
        } else {
            Err(status.to_string())
        }
    });
    assert_eq!(status, "HTTP 307: redirects are not followed");
    let trickled = eventually(Duration::from_secs(30), "the trickle cut off", || {
        let status = feed_status(f, &feeds[2]);
        holds(status["last_failure"] == "timeout").map(|()| status)
    });
    assert_eq!(trickled["delivered"], 0, "{trickled}");
    assert!(
        !redirect.of_members(&mine).is_empty(),
        "the redirecting receiver was asked"
    );
    let (leaked, rejected) = target.received();
    assert!(
        leaked.is_empty() && rejected == 0,
        "nothing reaches the redirect's target: {leaked:#?}"
    );
    for feed in &feeds {
        delete_feed(f, feed);
    }
    assert!(now_ms() - started < 120_000);
}

/// A connection refused (or a DNS failure) must be one failed delivery, not a failed queue
/// batch whose messages all come back: that would multiply deliveries with every retry.
fn a_receiver_refusing_connections_then_listening_gets_each_event_without_a_storm(f: &Fixture) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/feed");
    let reply = admin(
        &f.app,
        "POST",
        "/api/admin/feeds",
        Some(json!({ "url": url })),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    let (feed, secret) = (
        reply.json()["id"].as_str().unwrap().to_owned(),
        reply.json()["secret"].as_str().unwrap().to_owned(),
    );
    let store = new_store(f);
    let numbers: Vec<String> = (0..2).map(|_| new_member(f, &store).1).collect();
    let mine: BTreeSet<String> = numbers.iter().cloned().collect();
    eventually(Duration::from_secs(20), "a refused connection", || {
        let status = feed_status(f, &feed);
        holds(
            status["last_failure"]
                .as_str()
                .is_some_and(|r| r.ends_with("network error")),
        )
    });
    std::thread::sleep(Duration::from_secs(3));
    let receiver = Receiver::start_on(port);
    receiver.control(json!({ "secrets": [secret] }));
    let deliveries = receiver.wait_until(&mine, Duration::from_secs(60), "delivered", |d| {
        delivered_ids(d).len() == 2 * numbers.len()
    });
    std::thread::sleep(Duration::from_secs(3));
    let copies = receiver.of_members(&mine).len();
    assert!(
        copies <= 2 * deliveries.len().max(4),
        "a few copies at most, not a storm: {copies} for {} events",
        2 * numbers.len()
    );
    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for d in receiver.of_members(&mine) {
        *per_event
            .entry(d["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(
        per_event.values().all(|n| *n <= 2),
        "each event once (twice at most): {per_event:?}"
    );
    delete_feed(f, &feed);
}

fn spent_retries_become_dead_letters_that_a_replay_delivers(f: &Fixture) {
    let receiver = Receiver::start();
    let (feed, secret) = add_feed(f, &receiver);
    receiver.control(json!({ "secrets": [secret], "mode": "status", "status": 500 }));
    let store = new_store(f);
    let (_, number, _) = new_member(f, &store);
    let mine = members(&[&number]);
    // The member's two events, from the log (some may never reach the receiver: once it fails,
    // the rest of a batch waits for the next retry).
    let range = format!(
        "from={}&to={}",
        iso(now_ms() - 60_000),
        iso(now_ms() + 60_000)
    );
    let ids: BTreeSet<String> = eventually(Duration::from_secs(20), "logged", || {
        let ids: BTreeSet<String> = export_lines(f, &range)
            .iter()
            .filter(|l| l["data"]["member_number"] == number.as_str())
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect();
        if ids.len() == 2 {
            Ok(ids)
        } else {
            Err(format!("{ids:?}"))
        }
    });
    let limit = Duration::from_secs(120);
    let dead = eventually(
        limit,
        "the member's two events die after the schedule",
        || {
            let reply = admin(
                &f.app,
                "GET",
                &format!("/api/admin/feeds/{feed}/dead-letters?limit=1000"),
                None,
            );
            assert_eq!(reply.status, 200, "{}", reply.text());
            let mine_dead: Vec<Value> = reply.json()["dead_letters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| ids.contains(d["event_id"].as_str().unwrap()))
                .cloned()
                .collect();
            if mine_dead.len() == 2 {
                Ok(mine_dead)
            } else {
                Err(format!("{mine_dead:?}"))
            }
        },
    );
    for d in &dead {
        // The last attempt's answer, or "not tried: HTTP 500" when an earlier delivery of the
        // batch had just found the receiver down.
        assert!(d["reason"].as_str().unwrap().ends_with("HTTP 500"), "{d}");
        assert!(d["attempts"].as_u64().unwrap() > 1);
    }
    let refused = receiver
        .received()
        .0
        .iter()
        .filter(|x| x["answered"] == 500)
        .count();
    assert!(
        refused >= 4,
        "the receiver was tried along the schedule: {refused}"
    );
    // Up again: replaying the dead letters delivers them.
    receiver.control(json!({ "mode": "ok" }));
    let replay = admin(
        &f.app,
        "POST",
        &format!("/api/admin/feeds/{feed}/replay"),
        Some(json!({ "dead_letters": true })),
    );
    assert_eq!(replay.status, 202, "{}", replay.text());
    assert!(replay.json()["queued"].as_u64().unwrap() >= 2);
    receiver.wait_until(&mine, Duration::from_secs(30), "replayed", |d| {
        delivered_ids(d).len() == 2
    });
    let both = admin(
        &f.app,
        "POST",
        &format!("/api/admin/feeds/{feed}/replay"),
        Some(json!({ "dead_letters": true, "from": "2026-01-01", "to": "2026-01-02" })),
    );
    assert_eq!(both.status, 400, "{}", both.text());
    assert_eq!(both.error_code(), "invalid_replay");
    delete_feed(f, &feed);
}

fn a_410_disables_the_endpoint_and_nothing_more_is_sent(f: &Fixture) {
    let receiver = Receiver::start();
    let (feed, secret) = add_feed(f, &receiver);
    receiver.control(json!({ "secrets": [secret], "mode": "status", "status": 410 }));
    let store = new_store(f);
    new_member(f, &store);
    // The 410 may answer any test's event (endpoints receive them all): once a delivery of a
    // batch is gone, the rest of the batch is not sent.
    eventually(Duration::from_secs(30), "a 410", || {
        holds(!receiver.received().0.is_empty())
    });
    eventually(Duration::from_secs(20), "disabled", || {
        holds(feed_status(f, &feed)["status"] == "disabled")
    });
    let status = feed_status(f, &feed);
    assert!(status["disabled_at"].is_string());
    assert_eq!(status["backlog"], 0);
    // The courier sends up to 10 deliveries at once: each of those may get its own 410, but none
    // is tried again and nothing new is sent.
    let gone = receiver.received().0;
    let gone_tries = gone.len();
    let distinct: BTreeSet<&str> = gone.iter().filter_map(|d| d["id"].as_str()).collect();
    assert_eq!(distinct.len(), gone_tries, "no retry after a 410");
    assert!(
        gone_tries <= 10,
        "at most one batch in flight: {gone_tries}"
    );
    receiver.control(json!({ "mode": "ok" }));
    let (_, second, _) = new_member(f, &store);
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        receiver.of_members(&members(&[&second])).is_empty(),
        "a disabled endpoint receives nothing more"
    );
    assert_eq!(
        receiver.received().0.len(),
        gone_tries,
        "nothing at all after the 410"
    );
    let replay = admin(
        &f.app,
        "POST",
        &format!("/api/admin/feeds/{feed}/replay"),
        Some(json!({ "from": "2026-01-01", "to": "2026-12-31" })),
    );
    assert_eq!(replay.status, 409, "{}", replay.text());
    assert_eq!(replay.error_code(), "feed_disabled");
    delete_feed(f, &feed);
}

fn rotation_signs_with_both_secrets_and_erasure_leaves_nothing_personal(f: &Fixture) {
    let receiver = Receiver::start();
    let (feed, old) = add_feed(f, &receiver);
    let rotated = admin(
        &f.app,
        "POST",
        &format!("/api/admin/feeds/{feed}/rotate"),
        None,
    );
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let new = rotated.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.json()["previous_secret_expires_at"].is_string());
    assert_eq!(feed_status(f, &feed)["signing_secrets"], 2);
    receiver.control(json!({ "secrets": [old, new] }));
    let store = new_store(f);
    let (user, number, _) = new_member(f, &store);
    let mine = members(&[&number]);
    let deliveries = receiver.wait_until(&mine, Duration::from_secs(30), "grant", |d| {
        types(d).contains_key("member.consent.granted")
    });
    for d in &deliveries {
        assert_eq!(d["verified_with"], json!([0, 1]), "both secrets verify");
        assert_eq!(d["signatures"].as_array().unwrap().len(), 2);
    }
    // Erasure: an event with the number only, and the log (the export) scrubbed of user ids.
    let from = now_ms() - 60_000;
    let erased = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/members/{number}"),
        None,
    );
    assert_eq!(erased.status, 200, "{}", erased.text());
    let deliveries = receiver.wait_until(&mine, Duration::from_secs(30), "erased", |d| {
        types(d).contains_key("member.erased")
    });
    let event = deliveries
        .iter()
        .find(|d| d["type"] == "member.erased")
        .unwrap();
    assert_eq!(event["data"], json!({ "member_number": number }));
    let of_member = eventually(Duration::from_secs(20), "erasure in the log", || {
        let range = format!("from={}&to={}", iso(from), iso(now_ms() + 60_000));
        let of_member: Vec<Value> = export_lines(f, &range)
            .into_iter()
            .filter(|l| l["data"]["member_number"] == number.as_str())
            .collect();
        if of_member.iter().any(|l| l["type"] == "member.erased") {
            Ok(of_member)
        } else {
            Err(format!("{of_member:?}"))
        }
    });
    assert!(of_member.len() >= 3, "{of_member:?}");
    for line in of_member {
        assert!(
            !line.to_string().contains(&user),
            "the log keeps no user id of an erased member: {line}"
        );
    }
    assert!(
        !f.app.log().contains(&new) && !f.app.log().contains(&old),
        "a feed secret reached the log"
    );
    delete_feed(f, &feed);
}

fn iso(ms: u64) -> String {
    crate::cards::rfc3339(ms)
}

fn export(f: &Fixture, query: &str) -> Reply {
    admin(&f.app, "GET", &format!("/api/admin/export?{query}"), None)
}

fn export_lines(f: &Fixture, query: &str) -> Vec<Value> {
    let reply = export(f, query);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/x-ndjson"));
    reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn the_export_streams_exactly_the_delivered_events_in_order(f: &Fixture) {
    let receiver = Receiver::start();
    let (feed, secret) = add_feed(f, &receiver);
    receiver.control(json!({ "secrets": [secret] }));
    let from = now_ms() - 1000;
    let store = new_store(f);
    let numbers: Vec<String> = (0..3).map(|_| new_member(f, &store).1).collect();
    redeem_at(f, &store, &numbers[0]);
    let mine: BTreeSet<String> = numbers.iter().cloned().collect();
    let delivered = receiver.wait_until(&mine, Duration::from_secs(30), "delivered", |d| {
        delivered_ids(d).len() == 2 * numbers.len() + 1
    });
    let to = now_ms() + 1000;
    let lines = export_lines(f, &format!("from={}&to={}", iso(from), iso(to)));
    let exported: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["data"]["member_number"]
                .as_str()
                .is_some_and(|m| mine.contains(m))
        })
        .collect();
    let exported_ids: BTreeSet<String> = exported
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exported_ids, delivered_ids(&delivered), "the same events");
    // In order of time, then id, over everything in the range. Times of whole seconds are
    // written without a fraction (`…:21Z`), so they are compared with `.000` put back.
    let keys: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            let time = l["time"].as_str().unwrap();
            let time = match time.strip_suffix('Z') {
                Some(t) if !t.contains('.') => format!("{t}.000Z"),
                _ => time.to_owned(),
            };
            (time, l["id"].as_str().unwrap().to_owned())
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ordered by time then id");
    for line in &exported {
        let delivery = delivered.iter().find(|d| d["id"] == line["id"]).unwrap();
        assert_eq!(
            delivery["data"], line["data"],
            "the body delivered is the body exported"
        );
        assert_eq!(line["specversion"], "1.0");
    }
    // A type filter, and a range before any of them.
    let redeemed = export_lines(
        f,
        &format!("from={}&to={}&type=coupon.redeemed", iso(from), iso(to)),
    );
    assert!(redeemed.iter().all(|l| l["type"] == "coupon.redeemed"));
    assert!(redeemed
        .iter()
        .any(|l| l["data"]["member_number"] == numbers[0].as_str()));
    let before = export_lines(f, "from=2020-01-01&to=2020-01-31");
    assert!(before.is_empty());
    // A reversed range is empty; one as long as you like is cut to what retention keeps (30
    // days here: no more than one answer's span, so no `Link` to a rest).
    assert!(export_lines(f, &format!("from={}&to={}", iso(to), iso(from))).is_empty());
    let long = export(f, "from=1066-10-14T09:00:00Z&to=9999-12-31");
    assert_eq!(long.status, 200, "{}", long.text());
    assert_eq!(long.header("link"), None);
    let everything = export_lines(f, "from=1066-10-14T09:00:00Z&to=9999-12-31");
    assert!(exported
        .iter()
        .all(|e| everything.iter().any(|l| l["id"] == e["id"])));
    for (query, code) in [
        ("from=2026-11-02", "invalid_range"),
        ("from=1969-12-31&to=2026-11-01", "invalid_range"),
        ("from=2026-11-01&to=2026-11-02&type=coupon", "invalid_type"),
    ] {
        let reply = export(f, query);
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
        assert_eq!(reply.error_code(), code, "{query}");
    }
    // A range replay to this endpoint sends the same events again, same webhook-ids.
    let replay = admin(
        &f.app,
        "POST",
        &format!("/api/admin/feeds/{feed}/replay"),
        Some(json!({ "from": iso(from), "to": iso(to), "type": "coupon.redeemed" })),
    );
    assert_eq!(replay.status, 202, "{}", replay.text());
    receiver.wait_until(&mine, Duration::from_secs(30), "replayed", |d| {
        d.iter().filter(|x| x["type"] == "coupon.redeemed").count() >= 2
    });
    delete_feed(f, &feed);
}

fn feed_admin_routes_check_the_token_the_url_and_never_show_a_secret(f: &Fixture) {
    for (method, path) in [
        ("GET", "/api/admin/feeds"),
        ("POST", "/api/admin/feeds"),
        ("DELETE", "/api/admin/feeds/fe_aaaaaaaaaaaaaaaa"),
        ("POST", "/api/admin/feeds/fe_aaaaaaaaaaaaaaaa/rotate"),
        ("GET", "/api/admin/export?from=2026-11-01&to=2026-11-02"),
    ] {
        let reply = f.app.send(
            method,
            path,
            &[("authorization", "Bearer nope")],
            Vec::new(),
        );
        assert_eq!(reply.status, 401, "{method} {path}");
    }
    for url in [
        "http://tool.example/feed",
        "ftp://tool.example",
        "https://user:pw@tool.example/",
        "not a url",
    ] {
        let reply = admin(
            &f.app,
            "POST",
            "/api/admin/feeds",
            Some(json!({ "url": url })),
        );
        assert_eq!(reply.status, 422, "{url}: {}", reply.text());
        assert_eq!(reply.error_code(), "invalid_url");
    }
    let bad = admin(
        &f.app,
        "POST",
        "/api/admin/feeds",
        Some(json!({ "uri": "x" })),
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    for path in [
        "/api/admin/feeds/fe_aaaaaaaaaaaaaaaa",
        "/api/admin/feeds/../../x",
        "/api/admin/feeds/nope",
    ] {
        let reply = admin(&f.app, "DELETE", path, None);
        assert!(matches!(reply.status, 404), "{path}: {}", reply.text());
    }
    let receiver = Receiver::start();
    let (feed, secret) = add_feed(f, &receiver);
    let listed = admin(&f.app, "GET", "/api/admin/feeds", None).text();
    assert!(!listed.contains("whsec_"), "{listed}");
    assert!(!listed.contains(&secret[6..]), "{listed}");
    let status = feed_status(f, &feed);
    assert_eq!(status["status"], "active");
    assert_eq!(status["signing_secrets"], 1);
    delete_feed(f, &feed);
    let again = admin(&f.app, "DELETE", &format!("/api/admin/feeds/{feed}"), None);
    assert_eq!(again.status, 404);
    assert_eq!(again.error_code(), "unknown_feed");
}
