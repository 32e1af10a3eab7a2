//! The `Courier` Durable Object (SQLite-backed): one per feed endpoint, that endpoint's own
//! delivery queue (see [`optin_core::feed::delivery`]). The queue consumer hands it deliveries and is
//! answered at once; the courier keeps them as jobs, sends the due ones in rounds on its alarm,
//! retries each on its own schedule, and reports every outcome to the `Feeds` object. A slow,
//! failing or hostile receiver therefore holds up only its own courier.
//!
//! Each HTTP request is made in a request of its own to this object (`CourierRequest::Post`),
//! under one deadline for the whole exchange and without following redirects. A fetch that
//! fails before any answer (DNS, connection refused) leaves workerd with a promise rejection of
//! its own that no code can await; in a request it only costs a log line, where in an alarm or
//! a queue handler it would mark the whole invocation failed.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, AbortController, Date, Delay, DurableObject, Env, Fetch, Headers, Method,
    Request, RequestInit, RequestRedirect, Response, State,
};

use crate::edge::feed::consumer::log;
use crate::edge::runtime::env;
use crate::edge::runtime::objects;
use crate::edge::runtime::sql::{int, text};
use optin_core::conversation::Step;
use optin_core::error::Error;
use optin_core::feed::delivery::{self, Answer, Job, Next, Send, Sent, ROUND_MAX};
use optin_core::feed::endpoints::{Endpoint, FeedsAnswer, FeedsRequest, Reported};
use optin_core::feed::log::{month_of, LogAnswer, LogRequest};
use optin_core::feed::queue::Delivery;
use optin_core::feed::retry::reason;
use optin_core::feed::signature::{
    signature_header, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use optin_core::log::Level;

/// The binding of the couriers.
pub const COURIERS: &str = "COURIERS";
/// How much of a receiver's answer is read before it is dropped.
const ANSWER_READ_MAX: usize = 4096;
/// How many deliveries of a round are in flight at once (a round is at most [`ROUND_MAX`]):
/// enough to hide one slow answer, few enough not to flood one receiver's connection backlog.
const POSTS_IN_FLIGHT: usize = 10;
/// When a round that could not read the endpoint, the log or report runs again.
const ROUND_RETRY_MS: u64 = 30_000;

/// What a courier is asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CourierRequest {
    /// Keep these deliveries to the endpoint and send them.
    Take {
        endpoint: String,
        deliveries: Vec<Delivery>,
    },
    /// Make this HTTP request (the courier asks itself, one request per delivery).
    Post(SignedPost),
}

/// A request to make.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedPost {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub timeout_ms: u64,
}

/// How it went: the status, or none and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Posted {
    pub status: Option<u16>,
    pub reason: String,
}

#[durable_object]
pub struct Courier {
    state: State,
    env: Env,
}

#[derive(Deserialize)]
struct JobRow {
    event_id: String,
    time_ms: i64,
    attempts: i64,
    due: i64,
}

#[derive(Deserialize)]
struct Meta {
    v: String,
}

#[derive(Deserialize)]
struct Due {
    due: Option<i64>,
}

impl Courier {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn endpoint_id(&self) -> worker::Result<Option<String>> {
        let rows: Vec<Meta> = self
            .sql()
            .exec("SELECT v FROM meta WHERE k = 'endpoint'", None)?
            .to_array()?;
        Ok(rows.into_iter().next().map(|r| r.v))
    }

    fn due_jobs(&self, now_ms: u64) -> worker::Result<Vec<Job>> {
        let rows: Vec<JobRow> = self
            .sql()
            .exec(
                "SELECT event_id, time_ms, attempts, due FROM jobs WHERE due <= ? \
                 ORDER BY due, time_ms, event_id LIMIT ?",
                vec![int(now_ms), int(ROUND_MAX as u64)],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| Job {
                event_id: r.event_id,
                time_ms: u64::try_from(r.time_ms).unwrap_or_default(),
                attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                due_ms: u64::try_from(r.due).unwrap_or_default(),
            })
            .collect())
    }

    fn put_job(&self, job: &Job, replace: bool) -> worker::Result<()> {
        let verb = if replace { "REPLACE" } else { "IGNORE" };
        self.sql().exec(
            &format!(
                "INSERT OR {verb} INTO jobs (event_id, time_ms, attempts, due) VALUES (?, ?, ?, ?)"
            ),
            vec![
                text(&job.event_id),
                int(job.time_ms),
                int(u64::from(job.attempts)),
                int(job.due_ms),
            ],
        )?;
        Ok(())
    }

    fn drop_job(&self, event_id: &str) -> worker::Result<()> {
        self.sql()
            .exec("DELETE FROM jobs WHERE event_id = ?", vec![text(event_id)])?;
        Ok(())
    }

    /// Wakes at the next due job, or for reports still owed (at `at_least_ms` at the
    /// earliest); with neither, sleeps.
    async fn schedule(&self, at_least_ms: u64) -> worker::Result<()> {
        let rows: Vec<Due> = self
            .sql()
            .exec(
                "SELECT MIN(due) AS due FROM (SELECT due FROM jobs UNION ALL \
                 SELECT 0 AS due FROM reports)",
                None,
            )?
            .to_array()?;
        if let Some(due) = rows.first().and_then(|r| r.due) {
            let at = u64::try_from(due).unwrap_or_default().max(at_least_ms);
            // An offset from now: `ScheduledTime` reads a plain integer as one.
            let wait = at.saturating_sub(Date::now().as_millis());
            self.state
                .storage()
                .set_alarm(Duration::from_millis(wait))
                .await?;
        }
        Ok(())
    }

    /// One round: the reports still owed, then the due jobs (at most [`ROUND_MAX`]) sent,
    /// settled and reported.
    async fn round(&self, id: &str) -> Result<(), Error> {
        self.send_reports(id).await?;
        let now_ms = Date::now().as_millis();
        let jobs = self.due_jobs(now_ms).map_err(Error::internal)?;
        if jobs.is_empty() {
            return Ok(());
        }
        let Some(endpoint) = endpoint(&self.env, id).await? else {
            // Deleted or disabled: nothing more goes there.
            self.sql()
                .exec("DELETE FROM jobs", None)
                .map_err(Error::internal)?;
            return Ok(());
        };
        let config = env::config(&self.env);
        let bodies = bodies(&self.env, &jobs).await?;
        let mut reports = Vec::new();
        let mut sendable = Vec::new();
        for job in &jobs {
            match bodies.get(&job.event_id) {
                Some(body) => sendable.push((job, body.as_str())),
                None => {
                    log(
                        Level::Error,
                        "feed event missing from the log; delivery dropped",
                        Some(job.event_id.clone()),
                    );
                    reports.push(delivery::missing(job));
                    self.drop_job(&job.event_id).map_err(Error::internal)?;
                }
            }
        }
        let timeout = config.feed_timeout_ms;
        let (jobs, bodies): (Vec<Job>, Vec<&str>) = sendable
            .into_iter()
            .map(|(job, body)| (job.clone(), body))
            .unzip();
        let mut round = delivery::round(&jobs, endpoint.circuit, now_ms, &config.feed_retry_delays);
        let mut sent = None;
        let settled = loop {
            match round.step(sent.take()) {
                Step::Ask(Send(batch)) => {
                    let list = batch
                        .into_iter()
                        .map(|i| (i, &jobs[i], bodies[i]))
                        .collect();
                    let answers = post_all(&self.env, &endpoint, list, timeout).await;
                    let done_ms = Date::now().as_millis();
                    sent = Some(Sent { answers, done_ms });
                }
                Step::Done(settled) => break settled,
            }
        };
        let done_ms = Date::now().as_millis();
        for (i, next) in settled.next {
            match next {
                Next::Done => self.drop_job(&jobs[i].event_id),
                Next::Again(again) => self.put_job(&again, true),
            }
            .map_err(Error::internal)?;
        }
        reports.extend(settled.reports);
        if settled.gone {
            self.sql()
                .exec("DELETE FROM jobs", None)
                .map_err(Error::internal)?;
        }
        // Kept until `Feeds` has them, in the same step as the jobs they settled: a report
        // that fails goes with the next round, so the endpoint's status and backlog never drift.
        self.sql()
            .exec(
                "INSERT INTO reports (at_ms, body) VALUES (?, ?)",
                vec![
                    int(done_ms),
                    text(&serde_json::to_string(&reports).map_err(Error::internal)?),
                ],
            )
            .map_err(Error::internal)?;
        self.send_reports(&endpoint.id).await
    }

    /// Sends the reports `Feeds` does not have yet, oldest first.
    async fn send_reports(&self, id: &str) -> Result<(), Error> {
        let rows: Vec<ReportRow> = self
            .sql()
            .exec("SELECT seq, at_ms, body FROM reports ORDER BY seq", None)
            .and_then(|c| c.to_array())
            .map_err(Error::internal)?;
        for row in rows {
            let results: Vec<Reported> = serde_json::from_str(&row.body).unwrap_or_default();
            objects::call::<FeedsAnswer>(
                &self.env,
                crate::edge::feed::consumer::FEEDS,
                crate::edge::feed::consumer::FEEDS_NAME,
                &FeedsRequest::Report {
                    endpoint: id.to_owned(),
                    results,
                    at_ms: u64::try_from(row.at_ms).unwrap_or_default(),
                },
            )
            .await?;
            self.sql()
                .exec(
                    "DELETE FROM reports WHERE seq = ?",
                    vec![int(row.seq as u64)],
                )
                .map_err(Error::internal)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ReportRow {
    seq: i64,
    at_ms: i64,
    body: String,
}

/// The endpoint as the `Feeds` object has it now (secrets, circuit), if it still receives.
async fn endpoint(env: &Env, id: &str) -> Result<Option<Endpoint>, Error> {
    let answer = objects::call(
        env,
        crate::edge::feed::consumer::FEEDS,
        crate::edge::feed::consumer::FEEDS_NAME,
        &FeedsRequest::Active,
    )
    .await?;
    match answer {
        FeedsAnswer::Endpoints { endpoints } => Ok(endpoints.into_iter().find(|e| e.id == id)),
        other => Err(Error::internal(format!("Feeds answered {other:?}"))),
    }
}

/// The bodies of the jobs' events, read from their months' logs at sending time (so an
/// erasure's scrub reaches a delivery still waiting).
async fn bodies(env: &Env, jobs: &[Job]) -> Result<BTreeMap<String, String>, Error> {
    let mut months: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for job in jobs {
        months
            .entry(month_of(job.time_ms))
            .or_default()
            .push(job.event_id.clone());
    }
    let mut found = BTreeMap::new();
    for (month, ids) in months {
        let answer: LogAnswer = objects::call(
            env,
            crate::edge::feed::consumer::FEED_LOG,
            &month,
            &LogRequest::Get { ids },
        )
        .await?;
        found.extend(answer.rows.into_iter().map(|r| (r.id, r.body)));
    }
    Ok(found)
}

/// Sends `list` concurrently, at most [`POSTS_IN_FLIGHT`] at a time.
async fn post_all(
    env: &Env,
    endpoint: &Endpoint,
    list: Vec<(usize, &Job, &str)>,
    timeout_ms: u64,
) -> Vec<(usize, Answer)> {
    stream::iter(list)
        .map(|(i, job, body)| async move { (i, post(env, endpoint, job, body, timeout_ms).await) })
        .buffer_unordered(POSTS_IN_FLIGHT)
        .collect()
        .await
}

/// POSTs one delivery, signed, through a request of its own to this courier.
async fn post(env: &Env, endpoint: &Endpoint, job: &Job, body: &str, timeout_ms: u64) -> Answer {
    let now_ms = Date::now().as_millis();
    let timestamp = now_ms / 1000;
    let secrets = endpoint.signing(now_ms);
    let signature = signature_header(&secrets, &job.event_id, timestamp, body.as_bytes());
    let outgoing = SignedPost {
        url: endpoint.url.clone(),
        headers: vec![
            (
                "content-type".into(),
                "application/cloudevents+json; charset=utf-8".into(),
            ),
            ("user-agent".into(), "optin-edge-feed/1".into()),
            (HEADER_ID.into(), job.event_id.clone()),
            (HEADER_TIMESTAMP.into(), timestamp.to_string()),
            (HEADER_SIGNATURE.into(), signature),
        ],
        body: body.to_owned(),
        timeout_ms,
    };
    match objects::call::<Posted>(env, COURIERS, &endpoint.id, &CourierRequest::Post(outgoing))
        .await
    {
        Ok(posted) => (posted.status, posted.reason),
        Err(e) => (
            None,
            format!("courier: {}", e.log_detail().unwrap_or_default()),
        ),
    }
}

/// Makes the HTTP request: one deadline for the headers and the first [`ANSWER_READ_MAX`]
/// bytes of the answer; a 3xx is answered as it is.
async fn send(outgoing: &SignedPost) -> Posted {
    let request = (|| -> worker::Result<Request> {
        let headers = Headers::new();
        for (k, v) in &outgoing.headers {
            headers.set(k, v)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            // The signed event, with the shopper's channel ids, never goes on to an address
            // nobody registered.
            .with_redirect(RequestRedirect::Manual)
            .with_body(Some(
                js_sys::Uint8Array::from(outgoing.body.as_bytes()).into(),
            ));
        Request::new_with_init(&outgoing.url, &init)
    })();
    let Ok(request) = request else {
        return Posted {
            status: None,
            reason: "request could not be built".into(),
        };
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    // A receiver that trickles its answer is cut off like one that never answers.
    let exchange = Box::pin(async {
        let mut response = Fetch::Request(request).send_with_signal(&signal).await?;
        let status = response.status_code();
        if let Ok(mut body) = response.stream() {
            let mut read = 0;
            while read < ANSWER_READ_MAX {
                match body.next().await {
                    Some(Ok(chunk)) => read += chunk.len(),
                    _ => break,
                }
            }
        }
        Ok::<u16, worker::Error>(status)
    });
    let timer = Box::pin(Delay::from(Duration::from_millis(outgoing.timeout_ms)));
    let (status, reason) = match select(exchange, timer).await {
        Either::Left((Ok(status), _)) => (Some(status), reason(status)),
        Either::Left((Err(_), _)) => (None, "network error".to_owned()),
        Either::Right(_) => (None, "timeout".to_owned()),
    };
    // Whatever is left of the answer is dropped, and a request still running is cancelled.
    controller.abort();
    Posted { status, reason }
}

impl DurableObject for Courier {
    fn new(state: State, env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let sql = state.storage().sql();
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS jobs (event_id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, \
             attempts INTEGER NOT NULL, due INTEGER NOT NULL)",
            None,
        );
        let _ = sql.exec("CREATE INDEX IF NOT EXISTS jobs_due ON jobs (due)", None);
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
            None,
        );
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
             at_ms INTEGER NOT NULL, body TEXT NOT NULL)",
            None,
        );
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        objects::fetch_answer(&mut req, |r| self.handle(r)).await
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let Some(id) = self.endpoint_id()? else {
            return Response::ok("");
        };
        let mut next = Date::now().as_millis();
        if let Err(e) = self.round(&id).await {
            log(
                Level::Error,
                "feed delivery round failed; tried again",
                e.log_detail(),
            );
            next += ROUND_RETRY_MS;
        }
        self.schedule(next).await?;
        Response::ok("")
    }
}

objects::answer_calls!(Courier, handle);

impl Courier {
    async fn handle(&self, request: CourierRequest) -> objects::Answered {
        match request {
            CourierRequest::Post(outgoing) => objects::json(&send(&outgoing).await),
            CourierRequest::Take {
                endpoint,
                deliveries,
            } => {
                self.sql().exec(
                    "INSERT OR REPLACE INTO meta (k, v) VALUES ('endpoint', ?)",
                    vec![text(&endpoint)],
                )?;
                let now_ms = Date::now().as_millis();
                for d in &deliveries {
                    // A delivery already waiting keeps its own schedule.
                    self.put_job(&Job::of(d, now_ms), false)?;
                }
                self.schedule(now_ms).await?;
                objects::json(&deliveries.len())
            }
        }
    }
}
