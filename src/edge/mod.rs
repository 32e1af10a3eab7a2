//! The thin edge: the only place `worker::` appears. It reads the request, asks the core,
//! talks to KV / Durable Objects / platforms, and turns results into responses.

mod admin;
mod feed;
mod funnel;
mod handlers;
mod ledger_store;
mod members;
mod outbox;
mod retention;
mod runtime;
mod shopper;
mod till;
mod wallet;
mod webhooks;

use worker::{event, Context, Date, Env, MessageBatch};

use runtime::incoming::Incoming;
use runtime::respond::Outgoing;
use runtime::{env, kv, respond};

use optin_core::error::Error;
use optin_core::lang::Lang;
use optin_core::log::{self, Level, RequestLog};
use optin_core::routes::{self, Audience, Route};
use optin_core::settings::config::RequestLogging;

/// Everything a handler needs about the request being served.
pub struct Call<'a> {
    pub req: Incoming,
    pub env: &'a Env,
    pub ctx: &'a Context,
    pub request_id: &'a str,
    /// The request's KV namespace, looked up on first use; every use shares its budget.
    kv: std::cell::OnceCell<kv::Kv>,
}

impl Call<'_> {
    /// A request header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.req.header(name)
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        self.req.query(name)
    }

    /// The KV namespace of the ledger and configuration, with this request's budget.
    pub fn kv(&self) -> Result<kv::Kv, Error> {
        if let Some(kv) = self.kv.get() {
            return Ok(kv.clone());
        }
        let kv = kv::namespace(self.env)?;
        Ok(self.kv.get_or_init(|| kv).clone())
    }
}

/// The Worker's `fetch` export, in place of `#[event(fetch)]`'s glue, which always goes through
/// a Promise and the futures executor (a microtask per request). Most requests never wait for
/// anything (health, pages from the isolate cache, early errors): the future is polled once
/// here and its response returned at once. One that has to wait (KV, a Durable Object, a
/// body) becomes a Promise as before; its later polls come from the executor with a real waker
/// (a future registers the waker of its latest poll, so the no-op one here is never relied on).
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetch)]
pub fn fetch_entry(
    req: worker::worker_sys::web_sys::Request,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> wasm_bindgen::JsValue {
    serve(Incoming::new(req), env, Context::new(ctx))
}

/// [`fetch_entry`] for a request whose body `entry.js` has already read (one declared by
/// `Content-Length` within every route's limit): a webhook or a till call then needs no
/// Promise, waker or microtask of the executor to wait for its body.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetchWithBody)]
pub fn fetch_with_body_entry(
    req: worker::worker_sys::web_sys::Request,
    body: Vec<u8>,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> wasm_bindgen::JsValue {
    serve(Incoming::with_body(req, body), env, Context::new(ctx))
}

fn serve(req: Incoming, env: Env, ctx: Context) -> wasm_bindgen::JsValue {
    use std::future::Future as _;
    use std::task::{Poll, Waker};

    let mut served = Box::pin(fetch(req, env, ctx));
    let mut first = std::task::Context::from_waker(Waker::noop());
    match served.as_mut().poll(&mut first) {
        Poll::Ready(response) => response.into(),
        Poll::Pending => {
            wasm_bindgen_futures::future_to_promise(async move { Ok(served.await.into()) }).into()
        }
    }
}

async fn fetch(req: Incoming, env: Env, ctx: Context) -> worker::worker_sys::web_sys::Response {
    let started = Date::now().as_millis();
    let request_id = log::request_id(req.header("cf-ray").as_deref(), random_u64);
    // The method as received: `worker::Method` reads any method it has no variant for (QUERY,
    // PROPFIND…) as GET, which would serve them as GETs instead of answering 405.
    let method = req.method().to_owned();
    let path = req.path().to_owned();
    let audience = Audience::of(&path);
    // Shopper error pages speak the shopper's language; computed before the request moves.
    let lang = (audience == Audience::Shopper).then(|| shopper_lang(&req));

    let (route_name, result) = dispatch(req, &env, &ctx, &method, &path, &request_id).await;
    let (response, error) = match result {
        Ok(response) => (response, None),
        Err(error) => {
            let lang = lang.unwrap_or(Lang::En);
            (respond::error(&error, audience, lang), Some(error))
        }
    };
    if error.is_some() || env::config(&env).log_requests == RequestLogging::All {
        log_request(
            &request_id,
            &method,
            route_name,
            &response,
            error.as_ref(),
            started,
        );
    }
    response.into_raw(&request_id)
}

/// The feed's queue (and its dead-letter queue, which only a crashing consumer feeds): see
/// [`feed_consumer`].
#[event(queue)]
async fn queue(
    batch: MessageBatch<optin_core::feed::queue::FeedMessage>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    feed::consumer::consume(batch, env).await;
    Ok(())
}

/// The daily retention job (see [`retention`]); its log line counts what it deleted.
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    match retention::run(&env, Date::now().as_millis()).await {
        Ok(report) => worker::console_log!("{}", report.to_line()),
        Err(error) => {
            let line = log::EventLog {
                level: Level::Error,
                msg: "retention failed",
                request_id: "scheduled",
                detail: error.log_detail(),
            }
            .to_line();
            worker::console_error!("{line}");
        }
    }
}

/// Writes the access-log line: `console.error` for server errors (alerting keys on it).
fn log_request(
    request_id: &str,
    method: &str,
    route: &str,
    response: &Outgoing,
    error: Option<&Error>,
    started: u64,
) {
    let line = RequestLog {
        level: match error {
            Some(e) if e.is_server_error() => Level::Error,
            Some(_) => Level::Warn,
            None => Level::Info,
        },
        msg: "request",
        request_id,
        method,
        route,
        status: response.status(),
        duration_ms: (Date::now().as_millis() - started) as f64,
        error_code: error.map(Error::code),
        detail: error.and_then(Error::log_detail),
    }
    .to_line();
    if error.is_some_and(Error::is_server_error) {
        worker::console_error!("{line}");
    } else {
        worker::console_log!("{line}");
    }
}

/// Size check, routing, then the handler. Returns the route name for the log line.
async fn dispatch(
    req: Incoming,
    env: &Env,
    ctx: &Context,
    method: &str,
    path: &str,
    request_id: &str,
) -> (&'static str, Result<Outgoing, Error>) {
    if let Err(error) = routes::check_declared_length(path, req.declared_length()) {
        return ("unmatched", Err(error));
    }
    let route = match Route::resolve(method, path) {
        Ok(route) => route,
        Err(error) => return ("unmatched", Err(error)),
    };
    let name = route.name();
    let call = Call {
        req,
        env,
        ctx,
        request_id,
        kv: std::cell::OnceCell::new(),
    };
    (name, handlers::handle(route, call).await)
}

fn shopper_lang(req: &Incoming) -> Lang {
    let query_lang = req.query("lang");
    let accept = req.header("accept-language");
    Lang::negotiate(query_lang.as_deref(), accept.as_deref(), Lang::En)
}

/// 64 bits for request ids without a usable `cf-ray` (not for secrets): xorshift64* seeded
/// once per isolate from `Math.random` (53 bits a call), so a request costs no crossing.
/// Distinct within the isolate (the generator's period is 2^64 - 1), random across isolates.
fn random_u64() -> u64 {
    thread_local! {
        static STATE: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    STATE.with(|state| {
        let mut x = state.get();
        if x == 0 {
            let half = || (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
            x = ((half() << 32) | half()).max(1);
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}
