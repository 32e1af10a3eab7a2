//! The foundation: health, routing, the error mapping, configuration, body limits, logs, assets.

use crate::harness::{self, ADMIN_TOKEN, LINE_CHANNEL_SECRET, META_APP_SECRET};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        healthz_answers_ok_json_with_a_request_id,
        head_healthz_answers_200_without_a_body,
        unknown_api_path_is_a_json_404,
        unknown_shopper_path_is_an_html_404_in_the_shoppers_language,
        wrong_method_is_405_with_an_allow_header,
        admin_config_rejects_missing_or_wrong_tokens,
        admin_config_reports_settings_and_never_their_values,
        missing_secret_answers_500_config_only_where_needed,
        declared_bodies_over_the_limit_are_413_before_routing,
        static_stylesheet_is_served_from_static,
        log_lines_are_json_with_request_ids_and_no_secrets,
        by_default_only_errors_get_a_log_line,
    ]
}

fn admin(token: &str) -> String {
    format!("Bearer {token}")
}

fn healthz_answers_ok_json_with_a_request_id(f: &Fixture) {
    let reply = f.app.get("/healthz");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"status": "ok"}));
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let id = reply.header("x-request-id").expect("a request id header");
    assert_eq!(id.len(), 16, "{id}");
    assert_ne!(f.app.get("/healthz").header("x-request-id"), Some(id));
}

fn head_healthz_answers_200_without_a_body(f: &Fixture) {
    let reply = f.app.send("HEAD", "/healthz", &[], Vec::new());
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
}

fn unknown_api_path_is_a_json_404(f: &Fixture) {
    for path in ["/api/nope", "/webhooks/unknown", "/api/admin/config/extra"] {
        let reply = f.app.get(path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.error_code(), "not_found");
        assert_eq!(reply.json()["error"]["message"], "No such resource.");
    }
}

fn unknown_shopper_path_is_an_html_404_in_the_shoppers_language(f: &Fixture) {
    let cases = [
        (
            vec![("accept-language", "ja-JP,ja;q=0.9,en;q=0.5")],
            "/nowhere",
            "lang=\"ja\"",
            "ページが見つかりません",
        ),
        (
            vec![("accept-language", "ja")],
            "/nowhere?lang=fr",
            "lang=\"fr\"",
            "Page introuvable",
        ),
        (vec![], "/nowhere", "lang=\"en\"", "Page not found"),
    ];
    for (headers, path, lang_attr, title) in cases {
        let reply = f.app.get_with(path, &headers);
        assert_eq!(reply.status, 404);
        assert!(reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html"));
        let page = reply.text();
        assert!(page.contains(lang_attr), "{page}");
        assert!(page.contains(title), "{page}");
    }
}

fn wrong_method_is_405_with_an_allow_header(f: &Fixture) {
    let reply = f.app.send("POST", "/healthz", &[], b"{}".to_vec());
    assert_eq!(reply.status, 405);
    assert_eq!(reply.error_code(), "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET"));
    // A method the runtime's bindings have no name for is not taken for a GET (ureq refuses
    // to send these, so they go over a plain socket).
    for method in ["QUERY", "PROPFIND"] {
        let head = raw_request_head(&f.app.base, method, "/api/admin/config");
        assert!(head.starts_with("HTTP/1.1 405"), "{method}: {head}");
        assert!(
            head.to_ascii_lowercase().contains("\r\nallow: get\r\n"),
            "{head}"
        );
    }
}

/// Sends `{method} {path}` with no body over a raw socket; returns the answer's status line and
/// headers.
fn raw_request_head(base: &str, method: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn admin_config_rejects_missing_or_wrong_tokens(f: &Fixture) {
    let wrong_tokens = [
        None,
        Some(String::from("Bearer")),
        Some(format!("Basic {ADMIN_TOKEN}")),
        Some(admin("e2e-admin-token-0f3a9")),
        Some(admin("e2e-admin-token-0f3a9c0")),
        Some(admin(LINE_CHANNEL_SECRET)),
    ];
    for header in wrong_tokens {
        let headers: Vec<(&str, &str)> = header
            .as_deref()
            .map(|h| vec![("authorization", h)])
            .unwrap_or_default();
        let reply = f.app.get_with("/api/admin/config", &headers);
        assert_eq!(reply.status, 401, "{header:?}");
        assert_eq!(reply.error_code(), "unauthorized");
    }
}

fn admin_config_reports_settings_and_never_their_values(f: &Fixture) {
    let reply = f.app.get_with(
        "/api/admin/config",
        &[("authorization", &admin(ADMIN_TOKEN))],
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let settings = &reply.json()["settings"];
    assert_eq!(settings["ADMIN_TOKEN"], "set");
    assert_eq!(settings["SIGNING_KEYS"], "set");
    assert_eq!(settings["META_APP_SECRET"], "set");
    assert_eq!(settings["PUBLIC_BASE_URL"], "set");
    assert_eq!(settings["LOG_REQUESTS"], "set");
    assert_eq!(settings["FEED_RETRY_DELAYS"], "set");
    assert_eq!(settings["JURISDICTION"], "set");
    assert_eq!(settings["RETENTION_DAYS"], "set");
    assert_eq!(settings["APPLE_PASS_KEY"], "set");
    assert_eq!(settings["GOOGLE_WALLET_SERVICE_ACCOUNT"], "set");
    assert_eq!(settings["APNS_BASE"], "set");
    assert_eq!(settings.as_object().unwrap().len(), 37);
    let text = reply.text();
    let pass_key = crate::harness::wallet_setting("APPLE_PASS_KEY");
    let key_body = &pass_key[200..240];
    for secret in [
        ADMIN_TOKEN,
        LINE_CHANNEL_SECRET,
        META_APP_SECRET,
        "e2ekey1",
        key_body,
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

fn missing_secret_answers_500_config_only_where_needed(f: &Fixture) {
    let reply = f.bare.get_with(
        "/api/admin/config",
        &[("authorization", &admin(ADMIN_TOKEN))],
    );
    assert_eq!(reply.status, 500);
    assert_eq!(reply.error_code(), "config");
    assert!(
        !reply.text().contains("ADMIN_TOKEN"),
        "the client is not told which"
    );
    // Routes that need no secret keep working.
    assert_eq!(f.bare.get("/healthz").status, 200);
    // The log names the setting (and never a value).
    let request_id = reply.header("x-request-id").unwrap().to_owned();
    let line = wait_for_log_line(&f.bare, &request_id);
    assert_eq!(line["error_code"], "config");
    assert_eq!(line["level"], "error");
    assert_eq!(line["detail"], "ADMIN_TOKEN: missing");
}

fn declared_bodies_over_the_limit_are_413_before_routing(f: &Fixture) {
    let cases: [(&str, &str, usize, u16); 4] = [
        ("POST", "/api/admin/config", 64 * 1024 + 1, 413),
        ("POST", "/api/admin/config", 64 * 1024, 405),
        ("POST", "/webhooks/nowhere", 1024 * 1024 + 1, 413),
        ("POST", "/webhooks/nowhere", 1024 * 1024, 404),
    ];
    for (method, path, size, status) in cases {
        let reply = f.app.send(
            method,
            path,
            &[("content-type", "application/json")],
            vec![b' '; size],
        );
        assert_eq!(reply.status, status, "{method} {path} with {size} bytes");
        if status == 413 {
            assert_eq!(reply.error_code(), "payload_too_large");
        }
    }
}

fn static_stylesheet_is_served_from_static(f: &Fixture) {
    let reply = f.app.get("/assets/site.css");
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/css"));
    let on_disk =
        std::fs::read_to_string(harness::repo_root().join("static/assets/site.css")).unwrap();
    assert_eq!(reply.text(), on_disk);
}

fn log_lines_are_json_with_request_ids_and_no_secrets(f: &Fixture) {
    let reply = f.app.get("/healthz");
    let request_id = reply.header("x-request-id").unwrap().to_owned();
    let line = wait_for_log_line(&f.app, &request_id);
    assert_eq!(line["route"], "healthz");
    assert_eq!(line["status"], 200);
    assert_eq!(line["method"], "GET");
    let log = f.app.log();
    for secret in [
        ADMIN_TOKEN,
        LINE_CHANNEL_SECRET,
        META_APP_SECRET,
        "ZTJlLXNpZ25pbmcta2V5",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
}

fn by_default_only_errors_get_a_log_line(f: &Fixture) {
    let ok_id = f
        .bare
        .get("/healthz")
        .header("x-request-id")
        .unwrap()
        .to_owned();
    let error_id = f
        .bare
        .get("/api/nope")
        .header("x-request-id")
        .unwrap()
        .to_owned();
    let line = wait_for_log_line(&f.bare, &error_id);
    assert_eq!(
        (line["status"].as_u64(), line["level"].as_str()),
        (Some(404), Some("warn"))
    );
    // The error's line is written, so the earlier success's would be too if it were logged.
    assert!(!f.bare.log().contains(&ok_id));
}

/// The Worker's JSON log line for a request id (logs reach the file a moment after the answer).
pub fn wait_for_log_line(worker: &harness::Worker, request_id: &str) -> serde_json::Value {
    for _ in 0..50 {
        let found = worker
            .log()
            .lines()
            // wrangler wraps console.error lines in a coloured marker: keep the JSON object.
            .filter_map(|l| Some(&l[l.find('{')?..=l.rfind('}')?]))
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["request_id"] == request_id);
        if let Some(line) = found {
            return line;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no log line for {request_id} in:\n{}", worker.log());
}
