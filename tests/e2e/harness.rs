//! Spawns the built Worker under `wrangler dev` (the real workerd runtime, local KV and Durable
//! Objects in a fresh state directory) on a free loopback port, and talks to it over HTTP.
//!
//! The server runs behind a small shell watchdog in its own process group: when the test process
//! ends in any way (even killed), the watchdog's stdin closes and it stops the whole group, so no
//! wrangler or workerd is ever left serving a port.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The controller and jurisdiction the app runs with (not `wrangler.toml`'s demo values, so
/// receipts that name them prove they come from the configuration).
pub const E2E_CONTROLLER: &str = "E2E Retail SAS";
pub const E2E_JURISDICTION: &str = "FR";

/// Secrets of the test environment (demo values that exist only in this file).
pub const ADMIN_TOKEN: &str = "e2e-admin-token-0f3a9c";
pub const LINE_CHANNEL_SECRET: &str = "e2e-line-channel-secret";
/// The secret of LINE's published SDK vectors, configured second (as during a rotation).
pub const LINE_SDK_SECRET: &str = "test_channel_secret";
pub const META_APP_SECRET: &str = "e2e-meta-app-secret";
/// The app secret of a real Meta-signed delivery published by pywa, configured second.
pub const META_PUBLISHED_SECRET: &str = "1222e786b144d0e85b9f365372d93676";
pub const LINE_ACCESS_TOKEN: &str = "e2e-line-access-token";
pub const META_ACCESS_TOKEN: &str = "e2e-meta-access-token";
/// The signing key of [`SIGNING_KEYS`], as text (for the independent join-code maker).
pub const SIGNING_KID: &str = "e2ekey1";
pub const SIGNING_KEY_TEXT: &str = "e2e-signing-key-0123456789abcdef";
pub const META_VERIFY_TOKEN: &str = "e2e-meta-verify-token";
/// `e2ekey1` = base64 of 32 bytes "e2e-signing-key-0123456789abcdef".
pub const SIGNING_KEYS: &str = "e2ekey1:ZTJlLXNpZ25pbmcta2V5LTAxMjM0NTY3ODlhYmNkZWY=";

pub const PSEUDONYM_KEY: &str = "e2e-pseudonym-key-0123456789abcdef";

/// A running Worker.
pub struct Worker {
    pub base: String,
    pub log_path: PathBuf,
    child: Mutex<Option<Child>>,
    state_dir: PathBuf,
}

/// The secrets and vars one Worker starts with.
pub struct Setup {
    /// Written to an env file (replaces any `.dev.vars` of the checkout).
    pub secrets: Vec<(&'static str, String)>,
    /// `--var` overrides of `wrangler.toml`'s `[vars]`.
    pub vars: Vec<(&'static str, String)>,
}

impl Setup {
    /// Every secret set, as a production deployment would have, with the platform APIs at
    /// `platform_base` (the recorder).
    pub fn complete(platform_base: &str) -> Setup {
        let mut setup = Setup {
            secrets: vec![
                ("ADMIN_TOKEN", ADMIN_TOKEN.into()),
                (
                    "LINE_CHANNEL_SECRET",
                    format!("{LINE_CHANNEL_SECRET},{LINE_SDK_SECRET}"),
                ),
                ("LINE_CHANNEL_ACCESS_TOKEN", LINE_ACCESS_TOKEN.into()),
                (
                    "META_APP_SECRET",
                    format!("{META_APP_SECRET},{META_PUBLISHED_SECRET}"),
                ),
                ("META_VERIFY_TOKEN", META_VERIFY_TOKEN.into()),
                ("META_ACCESS_TOKEN", META_ACCESS_TOKEN.into()),
                ("SIGNING_KEYS", SIGNING_KEYS.into()),
                ("PSEUDONYM_KEY", PSEUDONYM_KEY.into()),
            ],
            vars: vec![
                ("LOG_REQUESTS", "all".into()),
                ("LINE_API_BASE", platform_base.into()),
                ("GRAPH_API_BASE", platform_base.into()),
                ("PUBLIC_BASE_URL", "https://shop.example".into()),
                // The feed's retries in seconds, not hours: 12 retries over 29 s, so an outage
                // and spent retries fit in a test. Deliveries time out after 2 s.
                ("FEED_RETRY_DELAYS", "1,1,1,1,2,2,2,3,3,3,5,5".into()),
                ("FEED_TIMEOUT_SECS", "2".into()),
                ("CONTROLLER_NAME", E2E_CONTROLLER.into()),
                ("JURISDICTION", E2E_JURISDICTION.into()),
                // Evidence of consents ended over 30 days ago goes at the scheduled run.
                ("RETENTION_DAYS", "30".into()),
                // APNs, Google's token endpoint and Wallet API: the recorder.
                ("APNS_BASE", platform_base.into()),
                ("GOOGLE_WALLET_API_BASE", platform_base.into()),
                (
                    "GOOGLE_OAUTH_TOKEN_URL",
                    format!("{platform_base}{}", crate::recorder::TOKEN_PATH),
                ),
            ],
        };
        setup.secrets.extend(wallet_settings());
        setup
    }

    /// No secret at all: every route that needs one must answer 500 `config`.
    pub fn without_secrets() -> Setup {
        Setup {
            secrets: Vec::new(),
            vars: Vec::new(),
        }
    }
}

/// The wallet settings of the local test keys (`scripts/wallet-keys.sh`, run by set-up):
/// a test CA playing WWDR, a pass certificate it issued, a service account.
pub fn wallet_settings() -> Vec<(&'static str, String)> {
    let path = repo_root().join(".wallet-dev/wallet.env");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run scripts/setup.sh", path.display()));
    let names = [
        "APPLE_PASS_TYPE_ID",
        "APPLE_TEAM_ID",
        "APPLE_PASS_CERT",
        "APPLE_PASS_KEY",
        "APPLE_WWDR_CERT",
        "GOOGLE_WALLET_ISSUER_ID",
        "GOOGLE_WALLET_SERVICE_ACCOUNT",
    ];
    text.lines()
        .filter_map(|line| line.split_once('='))
        .filter_map(|(k, v)| names.iter().find(|n| **n == k).map(|n| (*n, v.to_owned())))
        .collect()
}

/// One wallet setting's value (see [`wallet_settings`]).
pub fn wallet_setting(name: &str) -> String {
    wallet_settings()
        .into_iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A loopback port free now and never handed out before by this process (two Workers started
/// at once must not both get the port the kernel gave one of them a moment ago).
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// What wrangler prints when another process took the port between our choice and its bind.
const PORT_TAKEN: &str = "Address already in use";

impl Worker {
    /// Starts a Worker and waits until `/healthz` answers; on a port another process took in the
    /// meantime, starts it again on other ports.
    pub fn start(name: &str, setup: Setup) -> Worker {
        for _ in 0..3 {
            match Worker::start_once(name, &setup) {
                Ok(worker) => return worker,
                Err(_) => eprintln!("{name}: its port was taken, starting again on another"),
            }
        }
        panic!("{name}: three ports in a row were taken");
    }

    /// One start; `Err(log)` when its port was taken, a panic on any other failure.
    fn start_once(name: &str, setup: &Setup) -> Result<Worker, String> {
        let root = repo_root();
        assert!(
            root.join("build/index.js").exists(),
            "build/index.js is missing: run `make test` (it builds the Worker first)"
        );
        let port = free_port();
        let state_dir =
            std::env::temp_dir().join(format!("optin-e2e-{name}-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state_dir);
        std::fs::create_dir_all(&state_dir).unwrap();
        let env_file = state_dir.join("secrets.env");
        let env_text: String = setup
            .secrets
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        std::fs::write(&env_file, env_text).unwrap();
        let artifacts = root.join("test-artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        let log_path = artifacts.join(format!("wrangler-{name}.log"));

        let mut args: Vec<String> = vec![
            "dev".into(),
            "--ip".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--persist-to".into(),
            state_dir.join("state").display().to_string(),
            "--env-file".into(),
            env_file.display().to_string(),
            "--show-interactive-dev-session=false".into(),
            // `GET /__scheduled` fires the Worker's scheduled handler (the retention job).
            "--test-scheduled".into(),
            "--inspector-port".into(),
            free_port().to_string(),
        ];
        for (k, v) in &setup.vars {
            args.push("--var".into());
            args.push(format!("{k}:{v}"));
        }
        // The watchdog: start wrangler in the background, then block on stdin; EOF (the test
        // process ended) or a line stops the whole process group.
        let script = r#"
            "$WRANGLER" "$@" >"$LOG" 2>&1 &
            read -r _ || true
            kill -TERM 0
        "#;
        let child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("watchdog")
            .args(&args)
            .env("WRANGLER", root.join("node_modules/.bin/wrangler"))
            .env("LOG", &log_path)
            .env("SKIP_WORKER_BUILD", "1")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("WRANGLER_SEND_ERROR_REPORTS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("CI", "true")
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("bash starts the wrangler watchdog");
        let worker = Worker {
            base: format!("http://127.0.0.1:{port}"),
            log_path,
            child: Mutex::new(Some(child)),
            state_dir,
        };
        match worker.wait_ready(Duration::from_secs(60)) {
            Ok(()) => Ok(worker),
            Err(log) => {
                worker.shutdown();
                Err(log)
            }
        }
    }

    /// `Err(log)` when wrangler could not bind its ports.
    fn wait_ready(&self, limit: Duration) -> Result<(), String> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Ok(reply) = self.try_send("GET", "/healthz", &[], Vec::new()) {
                if reply.status == 200 {
                    return Ok(());
                }
            }
            let log = self.log();
            if log.contains(PORT_TAKEN) {
                return Err(log);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the Worker did not answer /healthz within {limit:?}; its log:\n{}",
            self.log()
        );
    }

    /// What wrangler and the Worker printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], Vec::new())
    }

    /// A GET whose redirect is answered, not followed (the test reads `location`).
    pub fn get_unfollowed(&self, path: &str) -> Reply {
        NO_FOLLOW.with(|f| f.set(true));
        let reply = self.try_send("GET", path, &[], Vec::new());
        NO_FOLLOW.with(|f| f.set(false));
        reply.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, headers, Vec::new())
    }

    /// Sends a request and reads the whole answer; panics on a transport error.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        self.try_send(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply, ureq::Error> {
        send_to(&self.base, method, path, headers, body)
    }

    /// Stops the server and its whole process group (idempotent).
    pub fn shutdown(&self) {
        let taken = self.child.lock().map(|mut c| c.take()).unwrap_or(None);
        if let Some(mut child) = taken {
            drop(child.stdin.take());
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// One HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `error.code` of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.text()))
            .to_owned()
    }
}

thread_local! {
    /// Set by [`Worker::get_unfollowed`] for its one request.
    static NO_FOLLOW: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sends one request to `base` (a Worker or any loopback server).
pub fn send_to(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Reply, ureq::Error> {
    // wrangler's dev proxy (not the Worker) answers this 503 when it lost a request to a runtime
    // reset under load, and retries only GET and HEAD itself; a till or a platform sends again,
    // so the tests do too (each route answers the same request the same way).
    const PROXY_RESET: &str = "Your worker restarted mid-request";
    let mut tries = 0;
    loop {
        let reply = send_once(base, method, path, headers, body.clone())?;
        tries += 1;
        if reply.status != 503 || tries == 3 || !reply.text().contains(PROXY_RESET) {
            return Ok(reply);
        }
        eprintln!("{method} {path}: wrangler's proxy lost the request; sent again");
    }
}

fn send_once(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Reply, ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(if NO_FOLLOW.with(|f| f.get()) { 0 } else { 10 })
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request.body(body).expect("a well-formed request");
    let mut response = agent.run(request)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let mut body = Vec::new();
    response
        .body_mut()
        .as_reader()
        .read_to_end(&mut body)
        .map_err(ureq::Error::Io)?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Sends a body with `Transfer-Encoding: chunked` (no `Content-Length`) over a raw socket and
/// returns the status code: proves the limit holds while the body streams.
pub fn send_chunked(base: &str, path: &str, headers: &[(&str, &str)], total: usize) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        let n = chunk.len().min(total - sent);
        // The server may answer 413 and close before everything is sent.
        if stream.write_all(format!("{n:x}\r\n").as_bytes()).is_err()
            || stream.write_all(&chunk[..n]).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
        sent += n;
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).unwrap();
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"))
}

/// Where a test saves an artifact for people to look at (screenshots, posters).
pub fn artifact_path(name: &str) -> PathBuf {
    let dir = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs a page check of `tests/browser/` (`node {script} {args}`) and returns the JSON it prints.
pub fn browser(script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg(repo_root().join("tests/browser").join(script))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
