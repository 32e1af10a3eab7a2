//! Channel webhooks and the consent ledger, end to end: signatures made by `openssl`, payloads in
//! the platforms' documented shapes, replies captured by the recorder, the ledger read back
//! through the admin API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::harness::{
    self, Reply, Worker, ADMIN_TOKEN, LINE_ACCESS_TOKEN, LINE_CHANNEL_SECRET, LINE_SDK_SECRET,
    META_ACCESS_TOKEN, META_APP_SECRET, META_PUBLISHED_SECRET, META_VERIFY_TOKEN, SIGNING_KEY_TEXT,
    SIGNING_KID,
};
use crate::sign::{join_code, line_signature, meta_signature};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        line_sdk_published_body_is_accepted_with_a_rotated_secret,
        meta_published_delivery_is_accepted_with_a_rotated_secret,
        line_follow_grants_creates_a_member_and_replies_with_the_card_link,
        redelivered_line_event_changes_nothing_the_second_time,
        line_join_code_attributes_store_campaign_and_language,
        expired_or_forged_join_codes_grant_without_attribution,
        full_width_stop_keyword_withdraws_and_confirms_without_marketing,
        unicode_escaped_body_is_verified_over_its_exact_bytes,
        line_unfollow_withdraws_without_a_reply,
        line_group_and_room_events_never_create_consent,
        line_console_connection_check_answers_200,
        out_of_order_events_derive_state_from_platform_time,
        bad_signatures_are_401_and_store_nothing,
        malformed_json_with_a_valid_signature_is_400_and_stores_nothing,
        webhook_bodies_over_1_mib_are_413_declared_or_streamed,
        meta_handshake_echoes_the_challenge_only_for_the_verify_token,
        whatsapp_join_grants_and_replies_through_the_graph_api,
        whatsapp_status_callbacks_are_acknowledged_and_ignored,
        whatsapp_marketing_preference_stop_and_resume,
        messenger_referral_asks_for_optin_and_the_optin_grants_with_the_store,
        messenger_notification_status_stop_withdraws,
        instagram_comment_gets_one_private_reply,
        failed_reply_is_logged_and_loses_no_consent,
        webhooks_without_their_secret_answer_500_config,
        admin_consent_validates_its_query_and_needs_the_token,
        thousand_concurrent_webhooks_land_in_the_ledger_exactly_once,
    ]
}

// ---- helpers -------------------------------------------------------------------------------

/// A value no other test (or run) uses.
pub(crate) fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{:x}{:x}{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub(crate) fn line_event(user: &str, kind: &str, at: u64, extra: Value) -> Value {
    let mut event = json!({
        "type": kind,
        "mode": "active",
        "timestamp": at,
        "source": { "type": "user", "userId": user },
        "webhookEventId": unique("01LINE"),
        "deliveryContext": { "isRedelivery": false },
    });
    for (k, v) in extra.as_object().unwrap() {
        event[k] = v.clone();
    }
    event
}

pub(crate) fn line_text(user: &str, text: &str, at: u64) -> Value {
    line_event(
        user,
        "message",
        at,
        json!({
            "replyToken": unique("rt"),
            "message": { "type": "text", "id": unique("m"), "text": text, "quoteToken": "q" },
        }),
    )
}

pub(crate) fn line_body(events: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "destination": "U0000", "events": events })).unwrap()
}

pub(crate) fn post_line(worker: &Worker, body: &[u8]) -> Reply {
    let signature = line_signature(LINE_CHANNEL_SECRET, body);
    worker.send(
        "POST",
        "/webhooks/line",
        &[
            ("content-type", "application/json"),
            ("x-line-signature", &signature),
        ],
        body.to_vec(),
    )
}

pub(crate) fn post_meta(worker: &Worker, body: &[u8]) -> Reply {
    let signature = meta_signature(META_APP_SECRET, body);
    worker.send(
        "POST",
        "/webhooks/meta",
        &[
            ("content-type", "application/json"),
            ("x-hub-signature-256", &signature),
        ],
        body.to_vec(),
    )
}

pub(crate) fn consent(worker: &Worker, channel: &str, subject: &str) -> Value {
    let path = format!("/api/admin/consent?channel={channel}&subject={subject}");
    let reply = worker.get_with(
        &path,
        &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn events_of(history: &Value) -> &Vec<Value> {
    history["events"].as_array().unwrap()
}

pub(crate) fn code_for(store: &str, campaign: &str, lang: u8) -> String {
    join_code(
        SIGNING_KID,
        SIGNING_KEY_TEXT,
        store,
        campaign,
        lang,
        (now_ms() / 1000) as u32,
    )
}

pub(crate) fn whatsapp_text(wa_id: &str, text: &str, at_secs: u64) -> Value {
    json!({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "contacts":[{"profile":{"name":"Shopper"},"wa_id":wa_id}],
        "messages":[{"from":wa_id,"id":unique("wamid."),"timestamp":at_secs.to_string(),"type":"text","text":{"body":text}}]
    }}]}]})
}

fn messenger(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(
        &json!({"object":"page","entry":[{"id":"PAGE1","time":now_ms(),"messaging":events}]}),
    )
    .unwrap()
}

// ---- tests ---------------------------------------------------------------------------------

fn line_sdk_published_body_is_accepted_with_a_rotated_secret(f: &Fixture) {
    // line-bot-sdk-nodejs test/middleware.spec.ts: secret `test_channel_secret`, raw UTF-8
    // emoji in the body, a group message (so nothing is recorded).
    let body = "{\"events\":[{\"message\":{\"id\":\"test_event_message_id\",\"text\":\"this is test message.\u{1F604}\u{1F605}\u{1F622}\u{1F61E}\u{1F604}\u{1F605}\u{1F622}\u{1F61E}\",\"quoteToken\":\"test_quote_token\",\"type\":\"text\"},\"replyToken\":\"test_reply_token\",\"source\":{\"groupId\":\"test_group_id\",\"type\":\"group\"},\"webhookEventId\":\"test_webhook_event_id\",\"deliveryContext\":{\"isRedelivery\":false},\"timestamp\":0,\"mode\":\"active\",\"type\":\"message\"}],\"destination\":\"Uaaaabbbbccccddddeeeeffff\"}";
    assert_eq!(LINE_SDK_SECRET, "test_channel_secret");
    let reply = f.app.send(
        "POST",
        "/webhooks/line",
        &[(
            "x-line-signature",
            "eRdWYcVCzZV3MVZ3M9/rHJCl/a3oSbsRb04cLovpVwM=",
        )],
        body.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["ignored"], 1);
    assert_eq!(reply.json()["recorded"], 0);
}

fn meta_published_delivery_is_accepted_with_a_rotated_secret(f: &Fixture) {
    // david-lev/pywa tests/test_server.py: a real Meta-signed WhatsApp delivery.
    let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"264937493375603","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550953877","phone_number_id":"277321005464405"},"contacts":[{"profile":{"name":"PyWa Tests"},"wa_id":"972544401243"}],"messages":[{"from":"972544401243","id":"wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA","timestamp":"1730231903","text":{"body":"Hey there! I am using PyWa."},"type":"text"}]},"field":"messages"}]}]}"#;
    assert_eq!(META_PUBLISHED_SECRET, "1222e786b144d0e85b9f365372d93676");
    let reply = f.app.send(
        "POST",
        "/webhooks/meta",
        &[(
            "X-Hub-Signature-256",
            "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441",
        )],
        body.as_bytes().to_vec(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    // An ordinary text: acknowledged, nothing to record.
    assert_eq!(reply.json()["recorded"], 0);
}

fn line_follow_grants_creates_a_member_and_replies_with_the_card_link(f: &Fixture) {
    let user = unique("Ufollow");
    let at = now_ms();
    let event = line_event(
        &user,
        "follow",
        at,
        json!({ "replyToken": "rt-follow-1", "follow": { "isUnblocked": false } }),
    );
    let reply = post_line(&f.app, &line_body(std::slice::from_ref(&event)));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["recorded"], 1);

    let history = consent(&f.app, "line", &user);
    assert_eq!(history["state"], "granted");
    let member = history["member_number"]
        .as_str()
        .expect("a member number")
        .to_owned();
    assert_eq!(member.len(), 12);
    let e = &events_of(&history)[0];
    assert_eq!(e["action"], "granted");
    assert_eq!(e["source"], "follow");
    assert_eq!(e["purpose"], "marketing");
    assert_eq!(e["occurred_at_ms"], at);
    assert_eq!(e["platform_event_id"], event["webhookEventId"]);
    assert_eq!(e["member_number"], member.as_str());
    assert!(e["recorded_at_ms"].as_u64().unwrap() >= at - 60_000);
    assert!(e["event_id"].as_str().unwrap().len() >= 16);

    // The welcome reply: LINE reply API, the reply token, the bearer token, the card link.
    let sent = f.platforms.settle("rt-follow-1", 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path, "/v2/bot/message/reply");
    assert_eq!(
        sent[0].header("authorization"),
        Some(&*format!("Bearer {LINE_ACCESS_TOKEN}"))
    );
    assert_eq!(sent[0].header("x-line-retry-key"), None);
    let body = sent[0].json();
    assert_eq!(body["replyToken"], "rt-follow-1");
    assert_eq!(body["messages"][0]["type"], "text");
    let text = body["messages"][0]["text"].as_str().unwrap();
    assert!(text.contains("https://shop.example/card/"), "{text}");

    // A second follow (unblock) by the same shopper reuses the member.
    let again = line_event(
        &user,
        "follow",
        at + 1000,
        json!({ "replyToken": "rt-follow-2" }),
    );
    assert_eq!(post_line(&f.app, &line_body(&[again])).status, 200);
    let history = consent(&f.app, "line", &user);
    assert_eq!(history["member_number"], member.as_str());
    assert_eq!(events_of(&history).len(), 2);
    assert_eq!(events_of(&history)[1]["member_number"], member.as_str());
    f.platforms.settle("rt-follow-2", 0);
}

fn redelivered_line_event_changes_nothing_the_second_time(f: &Fixture) {
    let user = unique("Uredeliver");
    let mut event = line_text(&user, "JOIN", now_ms());
    event["replyToken"] = json!("rt-redeliver");
    let first = post_line(&f.app, &line_body(&[event.clone()]));
    assert_eq!(first.json()["recorded"], 1);
    event["deliveryContext"]["isRedelivery"] = json!(true);
    for _ in 0..3 {
        let again = post_line(&f.app, &line_body(&[event.clone()]));
        assert_eq!(again.status, 200);
        assert_eq!(
            (
                again.json()["recorded"].as_u64(),
                again.json()["duplicates"].as_u64()
            ),
            (Some(0), Some(1))
        );
    }
    let history = consent(&f.app, "line", &user);
    assert_eq!(events_of(&history).len(), 1);
    f.platforms.settle("rt-redeliver", 1);
}

fn line_join_code_attributes_store_campaign_and_language(f: &Fixture) {
    let user = unique("Ujoin");
    let code = code_for("shibuya-01", "spring", 3);
    let mut event = line_text(&user, &format!("JOIN {code}"), now_ms());
    event["replyToken"] = json!("rt-join-fr");
    let reply = post_line(&f.app, &line_body(&[event]));
    assert_eq!(reply.json()["recorded"], 1, "{}", reply.text());
    let history = consent(&f.app, "line", &user);
    let e = &events_of(&history)[0];
    assert_eq!(e["source"], "join_code");
    assert_eq!(e["store_id"], "shibuya-01");
    assert_eq!(e["campaign_id"], "spring");
    assert_eq!(e["lang"], "fr");
    // The welcome speaks the language of the landing page the code came from.
    let sent = f.platforms.settle("rt-join-fr", 1);
    let text = sent[0].json()["messages"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.starts_with("Bienvenue"), "{text}");
}

fn expired_or_forged_join_codes_grant_without_attribution(f: &Fixture) {
    let eight_days_ago = (now_ms() / 1000 - 8 * 24 * 3600) as u32;
    let expired = join_code(
        SIGNING_KID,
        SIGNING_KEY_TEXT,
        "umeda",
        "",
        1,
        eight_days_ago,
    );
    let forged = join_code(
        SIGNING_KID,
        "not-the-real-key-0123456789abcdef",
        "umeda",
        "",
        1,
        (now_ms() / 1000) as u32,
    );
    for code in [expired, forged, "AAAA!!!<script>".to_owned()] {
        let user = unique("Ubadcode");
        let reply = post_line(
            &f.app,
            &line_body(&[line_text(&user, &format!("JOIN {code}"), now_ms())]),
        );
        assert_eq!(reply.status, 200);
        let history = consent(&f.app, "line", &user);
        assert_eq!(history["state"], "granted");
        let e = &events_of(&history)[0];
        assert_eq!(e.get("store_id"), None, "{e}");
        assert_eq!(e["source"], "join_code");
    }
}

fn full_width_stop_keyword_withdraws_and_confirms_without_marketing(f: &Fixture) {
    let user = unique("Ustop");
    let t = now_ms();
    post_line(
        &f.app,
        &line_body(&[line_event(
            &user,
            "follow",
            t,
            json!({"replyToken": unique("rt")}),
        )]),
    );
    let mut stop = line_text(&user, "　ＳＴＯＰ ", t + 1000);
    stop["replyToken"] = json!("rt-stop-fw");
    assert_eq!(post_line(&f.app, &line_body(&[stop])).json()["recorded"], 1);
    let history = consent(&f.app, "line", &user);
    assert_eq!(history["state"], "withdrawn");
    assert_eq!(events_of(&history)[1]["source"], "keyword");
    let sent = f.platforms.settle("rt-stop-fw", 1);
    let text = sent[0].json()["messages"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !text.contains("http") && !text.to_lowercase().contains("coupon"),
        "{text}"
    );
}

fn unicode_escaped_body_is_verified_over_its_exact_bytes(f: &Fixture) {
    // "\u0053TOP" is STOP; "\u914d\u4fe1\u505c\u6b62" is 配信停止. Re-serialising would change
    // the bytes and break the signature.
    for escaped in [r"\u0053TOP", r"\u914d\u4fe1\u505c\u6b62"] {
        let user = unique("Uescaped");
        let body = format!(
            r#"{{"destination":"U0","events":[{{"type":"message","mode":"active","timestamp":{},"source":{{"type":"user","userId":"{user}"}},"webhookEventId":"{}","deliveryContext":{{"isRedelivery":false}},"replyToken":"{}","message":{{"type":"text","id":"1","text":"{escaped}"}}}}]}}"#,
            now_ms(),
            unique("01ESC"),
            unique("rt"),
        );
        let reply = post_line(&f.app, body.as_bytes());
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            consent(&f.app, "line", &user)["state"],
            "withdrawn",
            "{escaped}"
        );
    }
}

fn line_unfollow_withdraws_without_a_reply(f: &Fixture) {
    let user = unique("Uunfollow");
    let t = now_ms();
    post_line(
        &f.app,
        &line_body(&[line_event(
            &user,
            "follow",
            t,
            json!({"replyToken": unique("rt")}),
        )]),
    );
    post_line(
        &f.app,
        &line_body(&[line_event(&user, "unfollow", t + 1000, json!({}))]),
    );
    let history = consent(&f.app, "line", &user);
    assert_eq!(history["state"], "withdrawn");
    assert_eq!(events_of(&history)[1]["source"], "unfollow");
    // Nothing is pushed to a shopper who blocked the account.
    f.platforms.settle(&format!("\"to\":\"{user}\""), 0);
}

fn line_group_and_room_events_never_create_consent(f: &Fixture) {
    let user = unique("Ugroup");
    let mut group = line_text(&user, "JOIN", now_ms());
    group["source"] = json!({ "type": "group", "groupId": "Cgroup", "userId": user });
    let mut room = line_event(&user, "follow", now_ms(), json!({}));
    room["source"] = json!({ "type": "room", "roomId": "Rroom", "userId": user });
    let reply = post_line(&f.app, &line_body(&[group, room]));
    assert_eq!(reply.status, 200);
    assert_eq!(
        (
            reply.json()["recorded"].as_u64(),
            reply.json()["ignored"].as_u64()
        ),
        (Some(0), Some(2))
    );
    let history = consent(&f.app, "line", &user);
    assert_eq!(history["state"], "unknown");
    assert!(events_of(&history).is_empty());
}

fn line_console_connection_check_answers_200(f: &Fixture) {
    let reply = post_line(&f.app, br#"{"destination":"xxxxxxxxxx","events":[]}"#);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["status"], "ok");
}

fn out_of_order_events_derive_state_from_platform_time(f: &Fixture) {
    let user = unique("Uorder");
    let t = now_ms();
    let mut late_grant = line_text(&user, "JOIN", t);
    late_grant["replyToken"] = json!("rt-late-grant");
    // The withdrawal (later on the platform) arrives first.
    post_line(&f.app, &line_body(&[line_text(&user, "STOP", t + 5_000)]));
    post_line(&f.app, &line_body(&[late_grant]));
    let history = consent(&f.app, "line", &user);
    assert_eq!(history["state"], "withdrawn");
    let actions: Vec<&str> = events_of(&history)
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["granted", "withdrawn"],
        "history in platform-time order"
    );
    // The late grant earns no welcome: the shopper's last word was STOP.
    f.platforms.settle("rt-late-grant", 0);
}

fn bad_signatures_are_401_and_store_nothing(f: &Fixture) {
    let user = unique("Uforged");
    let body = line_body(&[line_text(&user, "JOIN", now_ms())]);
    let good = line_signature(LINE_CHANNEL_SECRET, &body);
    let mut tampered = body.clone();
    let at = tampered.len() - 5;
    tampered[at] ^= 0x01;
    let wrong_secret = line_signature("another-secret", &body);
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        ("tampered byte", tampered, Some(good.clone())),
        (
            "truncated signature",
            body.clone(),
            Some(good[..good.len() - 4].to_owned()),
        ),
        ("missing header", body.clone(), None),
        ("wrong secret", body.clone(), Some(wrong_secret)),
        (
            "hex instead of base64",
            body.clone(),
            Some(meta_signature(LINE_CHANNEL_SECRET, &body)),
        ),
    ];
    for (what, bytes, signature) in cases {
        let headers: Vec<(&str, &str)> = signature
            .as_deref()
            .map(|s| vec![("x-line-signature", s)])
            .unwrap_or_default();
        let reply = f.app.send("POST", "/webhooks/line", &headers, bytes);
        assert_eq!(reply.status, 401, "{what}");
        assert!(["missing_signature", "invalid_signature"].contains(&reply.error_code().as_str()));
    }
    // Meta: wrong prefix, LINE's format, empty.
    let wa = unique("4477");
    let meta_body = serde_json::to_vec(&whatsapp_text(&wa, "JOIN", now_ms() / 1000)).unwrap();
    let hex = meta_signature(META_APP_SECRET, &meta_body);
    for (what, header) in [
        ("wrong prefix", hex.replacen("sha256=", "sha1=", 1)),
        ("no prefix", hex["sha256=".len()..].to_owned()),
        ("base64", line_signature(META_APP_SECRET, &meta_body)),
        ("empty", String::new()),
    ] {
        let reply = f.app.send(
            "POST",
            "/webhooks/meta",
            &[("x-hub-signature-256", &header)],
            meta_body.clone(),
        );
        assert_eq!(reply.status, 401, "{what}");
    }
    assert!(events_of(&consent(&f.app, "line", &user)).is_empty());
    assert!(events_of(&consent(&f.app, "whatsapp", &wa)).is_empty());
}

fn malformed_json_with_a_valid_signature_is_400_and_stores_nothing(f: &Fixture) {
    for (body, code) in [
        (&b"{\"events\": [ {"[..], "invalid_json"),
        (b"[1,2,3]", "invalid_payload"),
        (b"", "invalid_json"),
    ] {
        let reply = post_line(&f.app, body);
        assert_eq!(reply.status, 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(reply.error_code(), code);
    }
    let reply = post_meta(&f.app, br#"{"object":"whatsapp_business_account""#);
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "invalid_json")
    );
    let reply = post_meta(&f.app, br#"{"object":"page"}"#);
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "invalid_payload")
    );
    // A verified notification of an object we do not act on is acknowledged, not refused.
    let reply = post_meta(&f.app, br#"{"object":"permissions","entry":[{"id":"1"}]}"#);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["ignored"], 1);
}

fn webhook_bodies_over_1_mib_are_413_declared_or_streamed(f: &Fixture) {
    let two_mib = vec![b' '; 2 * 1024 * 1024];
    let signature = line_signature(LINE_CHANNEL_SECRET, &two_mib);
    let reply = f.app.send(
        "POST",
        "/webhooks/line",
        &[("x-line-signature", &signature)],
        two_mib,
    );
    assert_eq!(reply.status, 413);
    assert_eq!(reply.error_code(), "payload_too_large");
    let status = harness::send_chunked(
        &f.app.base,
        "/webhooks/line",
        &[("x-line-signature", &signature)],
        2 * 1024 * 1024,
    );
    assert_eq!(status, 413, "a chunked body is cut off while it streams");
    let status = harness::send_chunked(
        &f.app.base,
        "/webhooks/meta",
        &[("x-hub-signature-256", "sha256=00")],
        1024 * 1024 + 1,
    );
    assert_eq!(status, 413);
}

fn meta_handshake_echoes_the_challenge_only_for_the_verify_token(f: &Fixture) {
    let ok = f.app.get(&format!(
        "/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={META_VERIFY_TOKEN}"
    ));
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), "1158201444");
    assert!(ok.header("content-type").unwrap().starts_with("text/plain"));
    for query in [
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong".to_owned(),
        format!("hub.mode=unsubscribe&hub.challenge=1&hub.verify_token={META_VERIFY_TOKEN}"),
        format!("hub.mode=subscribe&hub.verify_token={META_VERIFY_TOKEN}"),
        String::new(),
    ] {
        let reply = f.app.get(&format!("/webhooks/meta?{query}"));
        assert_eq!(reply.status, 403, "{query}");
        assert_eq!(reply.error_code(), "verification_failed");
    }
}

fn whatsapp_join_grants_and_replies_through_the_graph_api(f: &Fixture) {
    let wa = format!("81{}", now_ms() % 10_000_000_000);
    let code = code_for("umeda", "", 1);
    let reply = post_meta(
        &f.app,
        &serde_json::to_vec(&whatsapp_text(
            &wa,
            &format!("JOIN {code}"),
            now_ms() / 1000,
        ))
        .unwrap(),
    );
    assert_eq!(reply.json()["recorded"], 1, "{}", reply.text());
    let history = consent(&f.app, "whatsapp", &wa);
    assert_eq!(history["state"], "granted");
    assert_eq!(events_of(&history)[0]["store_id"], "umeda");
    let sent = f.platforms.settle(&format!("\"to\":\"{wa}\""), 1);
    assert_eq!(sent[0].path, "/v24.0/106540352242922/messages");
    assert_eq!(
        sent[0].header("authorization"),
        Some(&*format!("Bearer {META_ACCESS_TOKEN}"))
    );
    let body = sent[0].json();
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["type"], "text");
    let text = body["text"]["body"].as_str().unwrap();
    assert!(
        text.contains("会員証") && text.contains("https://shop.example/card/"),
        "{text}"
    );
}

fn whatsapp_status_callbacks_are_acknowledged_and_ignored(f: &Fixture) {
    let body = json!({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "statuses":[{"id":unique("wamid."),"status":"delivered","timestamp":"1698266945","recipient_id":"16505551234",
          "conversation":{"id":"c","origin":{"type":"marketing"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"marketing"}}]
    }}]}]});
    let reply = post_meta(&f.app, &serde_json::to_vec(&body).unwrap());
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["ignored"], 1);
    assert_eq!(reply.json()["recorded"], 0);
}

fn whatsapp_marketing_preference_stop_and_resume(f: &Fixture) {
    let wa = format!("33{}", now_ms() % 10_000_000_000);
    let pref = |value: &str, at: u64| {
        serde_json::to_vec(&json!({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"user_preferences","value":{
            "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
            "contacts":[{"wa_id":wa}],
            "user_preferences":[{"wa_id":wa,"detail":"User requested to stop marketing messages","category":"marketing_messages","value":value,"timestamp":at}]
        }}]}]})).unwrap()
    };
    let t = now_ms() / 1000;
    assert_eq!(post_meta(&f.app, &pref("stop", t)).json()["recorded"], 1);
    assert_eq!(consent(&f.app, "whatsapp", &wa)["state"], "withdrawn");
    assert_eq!(
        post_meta(&f.app, &pref("resume", t + 10)).json()["recorded"],
        1
    );
    let history = consent(&f.app, "whatsapp", &wa);
    assert_eq!(history["state"], "granted");
    assert!(events_of(&history)
        .iter()
        .all(|e| e["source"] == "preference"));
    // The same preference webhook again is the same event.
    assert_eq!(
        post_meta(&f.app, &pref("resume", t + 10)).json()["duplicates"],
        1
    );
}

fn messenger_referral_asks_for_optin_and_the_optin_grants_with_the_store(f: &Fixture) {
    let psid = unique("PSID");
    let code = code_for("namba", "autumn", 2);
    let t = now_ms();
    let referral = json!({"sender":{"id":psid},"recipient":{"id":"PAGE1"},"timestamp":t,
        "referral":{"ref":code,"source":"SHORTLINK","type":"OPEN_THREAD"}});
    let reply = post_meta(&f.app, &messenger(vec![referral.clone()]));
    assert_eq!(reply.status, 200);
    // A referral is not consent yet: the bot asks for the platform's marketing opt-in.
    assert_eq!(consent(&f.app, "messenger", &psid)["state"], "unknown");
    let sent = f.platforms.settle(&psid, 1);
    assert_eq!(sent[0].path, "/v24.0/me/messages");
    let payload = &sent[0].json()["message"]["attachment"]["payload"];
    assert_eq!(payload["template_type"], "notification_messages");
    assert_eq!(payload["payload"], code.as_str());
    // A redelivered referral does not ask twice.
    post_meta(&f.app, &messenger(vec![referral]));
    f.platforms.settle(&psid, 1);

    let optin = json!({"sender":{"id":psid},"recipient":{"id":"PAGE1"},"timestamp":t + 2000,
        "optin":{"type":"notification_messages","payload":code,"notification_messages_token":"tok","notification_messages_timezone":"Asia/Tokyo","user_token_status":"NOT_REFRESHED","title":"Deals"}});
    assert_eq!(
        post_meta(&f.app, &messenger(vec![optin])).json()["recorded"],
        1
    );
    let history = consent(&f.app, "messenger", &psid);
    assert_eq!(history["state"], "granted");
    let e = &events_of(&history)[0];
    assert_eq!(
        (
            e["source"].as_str(),
            e["store_id"].as_str(),
            e["campaign_id"].as_str()
        ),
        (Some("optin"), Some("namba"), Some("autumn"))
    );
    let sent = f.platforms.settle(&psid, 2);
    assert!(sent[1].json()["message"]["text"]
        .as_str()
        .unwrap()
        .contains("/card/"));
}

fn messenger_notification_status_stop_withdraws(f: &Fixture) {
    let psid = unique("PSIDstop");
    let t = now_ms();
    let optin = json!({"sender":{"id":psid},"recipient":{"id":"PAGE1"},"timestamp":t,
        "optin":{"type":"notification_messages","notification_messages_token":"tok"}});
    let stop = json!({"sender":{"id":psid},"recipient":{"id":"PAGE1"},"timestamp":t + 1000,
        "optin":{"type":"notification_messages","notification_messages_status":"STOP_NOTIFICATIONS","notification_messages_token":"tok"}});
    let reply = post_meta(&f.app, &messenger(vec![optin, stop]));
    assert_eq!(reply.json()["recorded"], 2);
    let history = consent(&f.app, "messenger", &psid);
    assert_eq!(history["state"], "withdrawn");
    assert_eq!(events_of(&history)[1]["source"], "preference");
}

fn instagram_comment_gets_one_private_reply(f: &Fixture) {
    let comment = unique("1786");
    let body = serde_json::to_vec(&json!({"object":"instagram","entry":[{"id":"IGACCOUNT","time":now_ms(),"changes":[
        {"field":"comments","value":{"id":comment,"text":"Love this!","from":{"id":unique("IGSID"),"username":"shopper"},"media":{"id":"1","media_product_type":"FEED"}}}
    ]}]})).unwrap();
    assert_eq!(post_meta(&f.app, &body).status, 200);
    assert_eq!(post_meta(&f.app, &body).json()["duplicates"], 1);
    let sent = f.platforms.settle(&comment, 1);
    assert_eq!(sent[0].path, "/v24.0/me/messages");
    let body = sent[0].json();
    assert_eq!(body["recipient"]["comment_id"], comment.as_str());
    assert!(body["message"]["text"].as_str().unwrap().contains("JOIN"));
}

fn failed_reply_is_logged_and_loses_no_consent(f: &Fixture) {
    // The recorder answers 500 to any body mentioning FAIL-ME.
    let user = unique("UFAIL-ME");
    let reply = post_line(
        &f.app,
        &line_body(&[line_event(
            &user,
            "follow",
            now_ms(),
            json!({"replyToken": "rt-FAIL-ME"}),
        )]),
    );
    assert_eq!(reply.status, 200);
    f.platforms.wait_for(&user, 1);
    assert_eq!(consent(&f.app, "line", &user)["state"], "granted");
    let request_id = reply.header("x-request-id").unwrap().to_owned();
    let logged = (0..50).any(|_| {
        let found = f.app.log().lines().any(|l| {
            l.contains(&request_id) && l.contains("reply failed") && l.contains("line answered 500")
        });
        if !found {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        found
    });
    assert!(logged, "{}", f.app.log());
    assert!(
        !f.app.log().contains(LINE_ACCESS_TOKEN),
        "the token never reaches the log"
    );
}

fn webhooks_without_their_secret_answer_500_config(f: &Fixture) {
    let body = line_body(&[line_text("Ux", "JOIN", now_ms())]);
    let reply = f.bare.send(
        "POST",
        "/webhooks/line",
        &[(
            "x-line-signature",
            &line_signature(LINE_CHANNEL_SECRET, &body),
        )],
        body,
    );
    assert_eq!((reply.status, reply.error_code().as_str()), (500, "config"));
    let reply = f.bare.send(
        "POST",
        "/webhooks/meta",
        &[("x-hub-signature-256", "sha256=00")],
        b"{}".to_vec(),
    );
    assert_eq!((reply.status, reply.error_code().as_str()), (500, "config"));
    let reply = f
        .bare
        .get("/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x");
    assert_eq!((reply.status, reply.error_code().as_str()), (500, "config"));
}

fn admin_consent_validates_its_query_and_needs_the_token(f: &Fixture) {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    for (query, code) in [
        ("channel=sms&subject=U1", "invalid_channel"),
        ("subject=U1", "invalid_channel"),
        ("channel=line", "invalid_subject"),
        ("channel=line&subject=", "invalid_subject"),
    ] {
        let reply = f.app.get_with(
            &format!("/api/admin/consent?{query}"),
            &[("authorization", &auth)],
        );
        assert_eq!(
            (reply.status, reply.error_code()),
            (400, code.to_owned()),
            "{query}"
        );
    }
    let reply = f.app.get("/api/admin/consent?channel=line&subject=U1");
    assert_eq!(reply.status, 401);
}

fn thousand_concurrent_webhooks_land_in_the_ledger_exactly_once(f: &Fixture) {
    // 900 distinct events (LINE and WhatsApp, 60 shoppers) plus 100 redeliveries of some of
    // them, sent from 16 threads at once.
    let run = unique("bulk");
    let t = now_ms();
    let mut bodies: Vec<(bool, Vec<u8>)> = Vec::new();
    for i in 0..900u64 {
        let shopper = i % 60;
        if i % 2 == 0 {
            let user = format!("U{run}x{shopper}");
            let text = if i % 6 == 0 { "STOP" } else { "JOIN" };
            bodies.push((true, line_body(&[line_text(&user, text, t + i)])));
        } else {
            let wa = format!("{run}w{shopper}");
            let body = whatsapp_text(
                &wa,
                if i % 5 == 0 { "STOP" } else { "JOIN" },
                (t / 1000) + i,
            );
            bodies.push((false, serde_json::to_vec(&body).unwrap()));
        }
    }
    for i in 0..100 {
        let again = bodies[i * 9].clone();
        bodies.push(again);
    }
    let next = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some((is_line, body)) = bodies.get(i) else {
                    break;
                };
                let reply = if *is_line {
                    post_line(&f.app, body)
                } else {
                    post_meta(&f.app, body)
                };
                if reply.status != 200 {
                    failures.fetch_add(1, Ordering::Relaxed);
                    eprintln!("{}: {}", reply.status, reply.text());
                }
            });
        }
    });
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    let mut total = 0;
    let mut ids = std::collections::HashSet::new();
    for shopper in 0..60 {
        for (channel, user) in [
            ("line", format!("U{run}x{shopper}")),
            ("whatsapp", format!("{run}w{shopper}")),
        ] {
            let history = consent(&f.app, channel, &user);
            for e in events_of(&history) {
                total += 1;
                assert!(
                    ids.insert(e["platform_event_id"].as_str().unwrap().to_owned()),
                    "duplicate {e}"
                );
            }
        }
    }
    assert_eq!(total, 900, "every distinct event exactly once");
}
