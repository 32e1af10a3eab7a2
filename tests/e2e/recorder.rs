//! A small local HTTP server standing in for the LINE and Graph APIs (the real platforms are
//! unreachable here): it records every request and answers 200 `{}`, or 500 when the body
//! mentions `FAIL-ME` (to prove a failed send loses nothing).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the recorder received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Where the recorder stands in for Google's OAuth token endpoint, and what it answers.
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const TOKEN_ANSWER: &str =
    r#"{"access_token":"e2e-google-access-token","expires_in":3599,"token_type":"Bearer"}"#;

pub struct Recorder {
    pub base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    pub fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared);
                });
            }
        });
        Recorder { base, requests }
    }

    /// Every request so far whose body contains `needle`.
    pub fn matching(&self, needle: &str) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| String::from_utf8_lossy(&r.body).contains(needle))
            .cloned()
            .collect()
    }

    /// Waits (up to 10 s) until `count` requests went to a path starting with `prefix`.
    pub fn wait_for_path(&self, prefix: &str, count: usize) -> Vec<Recorded> {
        let started = Instant::now();
        loop {
            let found: Vec<Recorded> = self
                .requests
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r.path.starts_with(prefix))
                .cloned()
                .collect();
            if found.len() >= count || started.elapsed() > Duration::from_secs(10) {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (up to 10 s) until `count` requests mention `needle`; returns them.
    pub fn wait_for(&self, needle: &str, count: usize) -> Vec<Recorded> {
        let started = Instant::now();
        loop {
            let found = self.matching(needle);
            if found.len() >= count || started.elapsed() > Duration::from_secs(10) {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asserts that, after a grace period for late sends, exactly `count` requests mention
    /// `needle`.
    pub fn settle(&self, needle: &str, count: usize) -> Vec<Recorded> {
        let found = self.wait_for(needle, count);
        std::thread::sleep(Duration::from_millis(700));
        let found_later = self.matching(needle);
        assert_eq!(
            found_later.len(),
            count,
            "requests mentioning {needle}: {found:#?}"
        );
        found_later
    }
}

fn serve(stream: TcpStream, requests: &Mutex<Vec<Recorded>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let fail = String::from_utf8_lossy(&body).contains("FAIL-ME");
    let is_token = path == TOKEN_PATH;
    requests.lock().unwrap().push(Recorded {
        method,
        path,
        headers,
        body,
    });
    let status = if fail {
        "500 Internal Server Error"
    } else {
        "200 OK"
    };
    // Google's token endpoint answers a token (the test checks the grant's JWT itself).
    let answer = if is_token { TOKEN_ANSWER } else { "{}" };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    stream.flush()
}
