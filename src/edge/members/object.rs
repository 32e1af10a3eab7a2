//! The `Member` Durable Object (SQLite-backed): one object per member number, the strongly
//! consistent home of everything exact about a member (see [`optin_core::members`]). It only
//! serialises: load the slot, let the core decide, save it when it changed, answer.
//!
//! The slot is one JSON row, cached in the object's memory between requests. Each request is
//! handled without an await between reading and writing the slot, so two requests can never
//! interleave a read-modify-write; the SQLite write is synchronous and the runtime's output gate
//! holds the answer until it is durable.
//!
//! The events feed is born here, as a transactional outbox: the events a request caused
//! ([`optin_core::feed::events::caused_by`]) are written in the same row, in the same synchronous
//! step, as the slot that changed; after the answer they are sent to the `FEED` queue. A sent
//! event leaves the row with the next write, or within [`DROP_SENT_WITHIN`] of its send when no
//! write came (a till's burst of redemptions costs one such write, not one each); one that could
//! not be sent stays, and an alarm tries again. So an event is never lost and never sent
//! without its change, and an object woken later does not send its last events again; after a
//! restart inside that window they do go again (the queue is at-least-once anyway, and
//! receivers deduplicate on the event id).
//!
//! A card-page stop's ledger entries are kept the same way: in the row that records the stop,
//! until the consent ledger (KV) holds them; the request writes them, and the alarm again if
//! that failed.
//!
//! An erasure's remaining work ([`optin_core::evidence::erasure`]) lives in the row too: the request
//! that erases runs its first step, then the alarm runs as many as each invocation's KV budget
//! allows, one invocation after another, until it is complete.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use worker::{durable_object, Date, DurableObject, Env, Request, Response, SqlStorageValue, State};

use crate::edge::runtime::objects;
use optin_core::consent::Subject;
use optin_core::evidence::erasure::Erasure;
use optin_core::feed::events::{caused_by, FeedEvent};
use optin_core::feed::queue::FeedMessage;
use optin_core::ids::MemberNumber;
use optin_core::lang::Lang;
use optin_core::log::{EventLog, Level};
use optin_core::members::{self, Answer, Slot, Withdrawn};
use optin_core::wallet::Wallet;

/// How long after a send the row is written without the sent events, if no request wrote it
/// meanwhile (less than an idle object lives: locally ~10 s, on Cloudflare a minute or more).
const DROP_SENT_WITHIN: Duration = Duration::from_secs(5);

/// When a failed send (or ledger write) is tried again. An alarm is set by its offset from now
/// (`worker`'s `ScheduledTime` reads a plain integer as an offset, not as a time).
const RETRY_IN: Duration = Duration::from_secs(60);

/// The pause between two passes of a long erasure (the object serves its requests meanwhile).
const NEXT_PASS_IN: Duration = Duration::from_millis(100);

/// KV operations the erasing request spends before it answers (about 200 entries rewritten;
/// the alarm does the rest).
const FIRST_PASS_OPS: u32 = 420;

/// The object's Durable Object class: its state behind an `Rc`, so that a call's handler
/// holds the state it works on, not a borrow of the instance, and a call that completes at once
/// is answered without a Promise ([`objects::answer_calls!`]).
#[durable_object]
pub struct Member {
    core: Rc<Core>,
}

/// What a `Member` instance keeps, and everything it does.
struct Core {
    state: State,
    env: Env,
    /// The row as stored, less the outbox events sent since ([`settle_sent`]).
    stored: Rc<RefCell<Option<Stored>>>,
    /// `stored` holds fewer outbox events than the row in storage (sent ones, dropped by a
    /// request that wrote nothing).
    unsaved_drop: Rc<Cell<bool>>,
    /// A send's task is waiting to write the row without the sent events (one at a time: it
    /// drops every event sent until it runs).
    drop_pending: Rc<Cell<bool>>,
    /// Ids of outbox events being sent, and of those sent (to drop from the row).
    sending: Rc<RefCell<BTreeSet<String>>>,
    sent: Rc<RefCell<BTreeSet<String>>>,
    /// An erasure pass is running (a request and the alarm never run two at once).
    erasing: Cell<bool>,
}

/// The row: the slot, and the events not yet sent. Rows written before the feed are a bare
/// slot, which reads as a slot with an empty outbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    slot: Slot,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outbox: Vec<FeedEvent>,
    /// Card-page stops the consent ledger (KV) does not hold yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    ledger_due: Vec<DueStop>,
    /// The erasure's work and progress, kept once complete (its answer to a repeated erasure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    erasure: Option<Erasure>,
}

/// A card-page stop of one channel account, kept until its ledger entry is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DueStop {
    member: MemberNumber,
    withdrawn: Withdrawn,
    lang: Option<String>,
    at_ms: u64,
}

#[derive(Deserialize)]
struct Row {
    body: String,
}

impl Core {
    /// The row (read from storage once per instance), less the outbox events sent since.
    fn load(&self) -> worker::Result<Stored> {
        if self.stored.borrow().is_none() {
            let rows: Vec<Row> = self
                .state
                .storage()
                .sql()
                .exec("SELECT body FROM slot WHERE id = 0", None)?
                .to_array()?;
            let stored = match rows.first() {
                Some(row) => serde_json::from_str(&row.body)?,
                None => Stored::default(),
            };
            *self.stored.borrow_mut() = Some(stored);
            self.unsaved_drop.set(false);
        }
        settle_sent(&self.stored, &self.sent, &self.unsaved_drop);
        Ok(self.stored.borrow().clone().unwrap_or_default())
    }

    fn save(&self, stored: &Stored) -> worker::Result<()> {
        write_row(&self.state.storage().sql(), stored)?;
        self.unsaved_drop.set(false);
        Ok(())
    }

    /// Sends the outbox's events that are not already on their way, after the answer.
    fn send_later(&self, outbox: &[FeedEvent]) {
        let events: Vec<FeedEvent> = {
            let mut sending = self.sending.borrow_mut();
            outbox
                .iter()
                .filter(|e| sending.insert(e.id.clone()))
                .cloned()
                .collect()
        };
        if events.is_empty() {
            return;
        }
        let env = self.env.clone();
        let storage = self.state.storage();
        let (sending, sent) = (self.sending.clone(), self.sent.clone());
        let (cached, unsaved_drop) = (self.stored.clone(), self.unsaved_drop.clone());
        let drop_pending = self.drop_pending.clone();
        self.state.wait_until(async move {
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            let messages = events
                .into_iter()
                .map(|event| FeedMessage::Record { event })
                .collect();
            let outcome = crate::edge::feed::queue::enqueue(&env, messages).await;
            {
                let mut sending = sending.borrow_mut();
                ids.iter().for_each(|id| {
                    sending.remove(id);
                });
            }
            match outcome {
                Ok(()) => {
                    sent.borrow_mut().extend(ids);
                    if drop_pending.replace(true) {
                        return;
                    }
                    // Unless a request writes the row first (it drops them for free), write
                    // it without them: a woken object would otherwise send them again.
                    worker::Delay::from(DROP_SENT_WITHIN).await;
                    drop_pending.set(false);
                    settle_sent(&cached, &sent, &unsaved_drop);
                    if unsaved_drop.get() {
                        if let Some(row) = cached.borrow().as_ref() {
                            // Failing, the events stay; the next write or send drops them.
                            if write_row(&storage.sql(), row).is_ok() {
                                unsaved_drop.set(false);
                            }
                        }
                    }
                }
                Err(e) => {
                    log_send_failure(ids.len(), &e);
                    // Only sooner than an alarm already set (every alarm runs all due work).
                    let set = storage.get_alarm().await.ok().flatten();
                    let at = Date::now().as_millis() as i64 + RETRY_IN.as_millis() as i64;
                    let now = Date::now().as_millis() as i64;
                    if set.is_none_or(|t| t <= now || t > at) {
                        let _ = storage.set_alarm(RETRY_IN).await;
                    }
                }
            }
        });
    }
}

/// Writes the row (one synchronous statement: nothing can interleave with it).
fn write_row(sql: &worker::SqlStorage, stored: &Stored) -> worker::Result<()> {
    let body = serde_json::to_string(stored)?;
    sql.exec(
        "INSERT INTO slot (id, body) VALUES (0, ?) \
         ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        vec![SqlStorageValue::String(body)],
    )?;
    Ok(())
}

/// Drops the events a send has delivered from the cached row (`unsaved_drop` then says the
/// row in storage still has them). With no cached row the ids wait for the next read.
fn settle_sent(
    cached: &RefCell<Option<Stored>>,
    sent: &RefCell<BTreeSet<String>>,
    unsaved_drop: &Cell<bool>,
) {
    let mut cached = cached.borrow_mut();
    let Some(stored) = cached.as_mut() else {
        return;
    };
    let sent = std::mem::take(&mut *sent.borrow_mut());
    if sent.is_empty() {
        return;
    }
    let before = stored.outbox.len();
    stored.outbox.retain(|e| !sent.contains(&e.id));
    if stored.outbox.len() != before {
        unsaved_drop.set(true);
    }
}

/// The card-page stops a request made: one per channel account it withdrew.
fn due_stops(request: &members::Request, answer: &Answer, slot: &Slot) -> Vec<DueStop> {
    let (members::Request::StopAll { at_ms, lang }, Answer::Stopped { withdrawn }) =
        (request, answer)
    else {
        return Vec::new();
    };
    let Some(member) = slot.member.as_ref().map(|m| m.number) else {
        return Vec::new();
    };
    withdrawn
        .iter()
        .map(|w| DueStop {
            member,
            withdrawn: w.clone(),
            lang: lang.clone(),
            at_ms: *at_ms,
        })
        .collect()
}

impl Core {
    /// Writes the ledger entries of `due`, then drops those written from the row. Whether all
    /// were written.
    async fn write_due(&self, due: Vec<DueStop>) -> bool {
        let mut written = Vec::new();
        let mut failed = None;
        for d in due {
            match write_stop(&self.env, &d).await {
                Ok(()) => written.push(d),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = &failed {
            let line = EventLog {
                level: Level::Error,
                msg: "card stop not yet in the ledger; the member object keeps it",
                request_id: "-",
                detail: e.log_detail(),
            }
            .to_line();
            worker::console_error!("{line}");
        }
        if !written.is_empty() {
            if let Ok(mut now) = self.load() {
                now.ledger_due.retain(|d| !written.contains(d));
                if self.save(&now).is_ok() {
                    *self.stored.borrow_mut() = Some(now);
                } else {
                    *self.stored.borrow_mut() = None;
                }
            }
        }
        failed.is_none()
    }
}

/// The erasure an [`Answer::Erased`] starts, for a slot erased at `erased_at_ms` (a slot
/// erased before it kept its number takes the request's).
fn erasure_of(
    request: &members::Request,
    answer: &Answer,
    slot: &members::Slot,
) -> Option<Erasure> {
    let (Answer::Erased { subjects, .. }, Some(at)) = (answer, slot.erased_at_ms) else {
        return None;
    };
    let asked = match request {
        members::Request::Erase { number } => *number,
        _ => None,
    };
    let number = slot.erased_number.or(asked)?;
    Some(Erasure::new(
        number,
        at,
        subjects
            .iter()
            .map(|s| (s.channel, s.pseudonym.clone(), s.home)),
    ))
}

impl Core {
    /// Runs the erasure's next steps, unless it is complete or a pass is already running: as
    /// many as `ops_cap` KV operations allow, then sets the alarm to go on shortly (after a
    /// failure, after [`RETRY_IN`]). Its progress, if there is an erasure.
    async fn erase_some(&self, ops_cap: u32) -> worker::Result<Option<Erasure>> {
        let Some(mut job) = self.load()?.erasure else {
            return Ok(None);
        };
        if job.complete() || self.erasing.get() {
            return Ok(Some(job));
        }
        // The alarm first: if this pass stops with the object, the alarm resumes it.
        self.alarm_in(RETRY_IN).await?;
        if self.erasing.replace(true) {
            return Ok(Some(job));
        }
        let outcome = match crate::edge::runtime::kv::namespace(&self.env) {
            Ok(kv) => {
                crate::edge::members::erasure::advance(&self.env, &kv, &mut job, ops_cap, |j| {
                    self.save_erasure(j)
                })
                .await
            }
            Err(e) => Err(e),
        };
        self.erasing.set(false);
        match outcome {
            // Complete: the backstop alarm finds nothing to do (it may serve the outbox).
            Ok(()) if job.complete() => {}
            Ok(()) => self.alarm_in(NEXT_PASS_IN).await?,
            Err(e) => {
                let line = EventLog {
                    level: Level::Error,
                    msg: "erasure step failed; the member object tries again",
                    request_id: "-",
                    detail: e.log_detail(),
                }
                .to_line();
                worker::console_error!("{line}");
            }
        }
        Ok(Some(job))
    }

    /// Saves an erasure's progress in the row.
    fn save_erasure(&self, job: &Erasure) -> Result<(), optin_core::error::Error> {
        let mut now = self.load().map_err(optin_core::error::Error::internal)?;
        now.erasure = Some(job.clone());
        if let Err(e) = self.save(&now) {
            *self.stored.borrow_mut() = None;
            return Err(optin_core::error::Error::internal(e));
        }
        *self.stored.borrow_mut() = Some(now);
        Ok(())
    }
}

/// The ledger entry of one card-page stop, as [`optin_core::consent::ledger::card_stop`] names it.
async fn write_stop(env: &Env, d: &DueStop) -> Result<(), optin_core::error::Error> {
    let config = crate::edge::runtime::env::config(env);
    let key = config.pseudonym_key.require("PSEUDONYM_KEY")?;
    let key = key.expose().as_bytes();
    let change = optin_core::consent::ledger::card_stop(
        Subject::new(d.withdrawn.channel, d.withdrawn.user_id.clone()),
        d.member,
        d.lang.as_deref().and_then(Lang::parse),
        d.at_ms,
        d.withdrawn.purpose,
    );
    let event = optin_core::consent::ledger::event(
        &change,
        optin_core::consent::ledger::event_id(key, &change),
        Some(d.member),
        &config.in_force(),
        d.at_ms,
    );
    let kv = crate::edge::runtime::kv::namespace(env)?;
    crate::edge::ledger_store::write(&kv, key, &event, &d.withdrawn.pseudonyms, false).await
}

fn log_send_failure(count: usize, e: &optin_core::error::Error) {
    let line = EventLog {
        level: Level::Error,
        msg: "feed enqueue failed; the outbox keeps the events",
        request_id: "-",
        detail: Some(format!(
            "{count} event(s): {}",
            e.log_detail().unwrap_or_default()
        )),
    }
    .to_line();
    worker::console_error!("{line}");
}

/// How soon after a change the wallet pass is brought up to date (the alarm runs it, so it
/// happens even if the object is evicted meanwhile).
const WALLET_SOON_MS: u64 = 200;

/// Whether a change to the slot may change a pass someone holds (or one that owes a push).
fn wallet_concerned(wallet: &Wallet) -> bool {
    wallet.is_held() || wallet.owes()
}

impl Core {
    /// [`Core::alarm_by`] `wait` from now.
    async fn alarm_in(&self, wait: Duration) -> worker::Result<()> {
        self.alarm_by(Date::now().as_millis() + wait.as_millis() as u64)
            .await
    }

    /// Sets the alarm for `at_ms` unless it is already set to go off sooner (every alarm runs
    /// every kind of due work, so the sooner one does this too).
    async fn alarm_by(&self, at_ms: u64) -> worker::Result<()> {
        let storage = self.state.storage();
        let now_ms = Date::now().as_millis();
        if let Some(set) = storage.get_alarm().await? {
            // One in the past is the alarm running now (or overdue): it does not count.
            let set = u64::try_from(set).unwrap_or(0);
            if set > now_ms && set <= at_ms {
                return Ok(());
            }
        }
        let wait = at_ms.saturating_sub(now_ms);
        storage.set_alarm(Duration::from_millis(wait.max(1))).await
    }

    /// Changes the wallet in the stored row (no await between its read and write).
    fn update_wallet<T>(&self, change: impl FnOnce(&mut Wallet) -> T) -> worker::Result<T> {
        let mut stored = self.load()?;
        let out = change(&mut stored.slot.wallet);
        self.save(&stored)?;
        *self.stored.borrow_mut() = Some(stored);
        Ok(out)
    }

    /// The wallet pass's round: record what it shows now, push to the devices and patch
    /// Google what is due, drop a void pass's registrations when their time is up, and set
    /// the next look ([`Wallet::next_check_ms`]).
    async fn wallet_round(&self) -> worker::Result<()> {
        let wallet = self.load()?.slot.wallet;
        if !wallet.is_held() && !wallet.owes() {
            return Ok(());
        }
        let now_ms = Date::now().as_millis();
        let Ok(snapshot) = crate::edge::runtime::cache::snapshot(&self.env, now_ms).await else {
            return self.alarm_in(RETRY_IN).await;
        };
        let stored = self.load()?;
        let content = stored
            .slot
            .member
            .as_ref()
            .map(|m| crate::edge::wallet::pass_content(m, &snapshot, now_ms));
        if let Some(content) = &content {
            let shown = content.shown();
            if stored.slot.wallet.needs_sync(&shown, now_ms) {
                self.update_wallet(|w| w.sync(&shown, now_ms))?;
            }
        }
        let number = stored
            .slot
            .member
            .as_ref()
            .map(|m| m.number)
            .or(stored.slot.erased_number);
        let Some(number) = number else {
            return Ok(());
        };
        let serial = optin_core::wallet::serial(number);
        let dropped = self.update_wallet(|w| w.expire_void(now_ms))?;
        if !dropped.is_empty() {
            crate::edge::wallet::apple::forget_devices(&self.env, &serial, &dropped).await;
        }
        let stored = self.load()?;
        let pass = crate::edge::wallet::Current {
            member: stored.slot.member.clone(),
            content,
            wallet: stored.slot.wallet.clone(),
            snapshot: snapshot.clone(),
        };
        self.deliver(&pass, &serial, now_ms).await?;
        let wallet = self.load()?.slot.wallet;
        if let Some(at) = wallet.next_check_ms(&snapshot.coupons.coupons, now_ms) {
            self.alarm_by(at).await?;
        }
        Ok(())
    }

    /// Sends the pushes and the Google patch due now, recording each outcome for the round it
    /// carried (a change meanwhile stays owed).
    async fn deliver(
        &self,
        pass: &crate::edge::wallet::Current,
        serial: &str,
        now_ms: u64,
    ) -> worker::Result<()> {
        use crate::edge::wallet::{apple, apple_settings, google, google_settings, push};
        let due = pass.wallet.pushes_due(now_ms);
        if !due.is_empty() {
            match apple_settings(&self.env) {
                Ok(settings) => {
                    for (push_token, round) in due {
                        let outcome = push::push(
                            &self.env,
                            &settings.apns_base,
                            &settings.pass_type_id,
                            &push_token,
                        )
                        .await;
                        let (_, gone) = self.update_wallet(|w| {
                            w.pushed(&push_token, round, outcome, Date::now().as_millis())
                        })?;
                        if !gone.is_empty() {
                            apple::forget_devices(&self.env, serial, &gone).await;
                        }
                    }
                }
                // No pass can have been registered without the settings: nothing to push with.
                Err(_) => self.update_wallet(|w| w.pushes.clear())?,
            }
        }
        if let Some(round) = pass.wallet.google_patch_due(now_ms) {
            let config = crate::edge::runtime::env::config(&self.env);
            let done = match (google_settings(&self.env), config.signing_keys.get()) {
                (Ok(gw), Some(keys)) => match google::patch(&config, &gw, keys, pass, serial).await
                {
                    Ok(done) => done,
                    Err(cause) => {
                        let line = EventLog {
                            level: Level::Error,
                            msg: "google wallet patch failed",
                            request_id: "",
                            detail: Some(cause),
                        }
                        .to_line();
                        worker::console_error!("{line}");
                        Some(false)
                    }
                },
                _ => None,
            };
            self.update_wallet(|w| w.google_patched(round, done, Date::now().as_millis()))?;
        }
        Ok(())
    }
}

impl DurableObject for Member {
    fn new(state: State, env: Env) -> Self {
        // Idempotent; runs before the object serves anything.
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS slot (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
            None,
        );
        let core = Core {
            state,
            env,
            stored: Rc::default(),
            unsaved_drop: Rc::default(),
            drop_pending: Rc::default(),
            sending: Rc::default(),
            sent: Rc::default(),
            erasing: Cell::new(false),
        };
        Self {
            core: Rc::new(core),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        objects::fetch_answer(&mut req, |r| self.core.handle(r)).await
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.core.alarm().await
    }
}

objects::answer_calls!(Member, shared core.handle);

impl Core {
    /// The alarm: the ledger, erasure and outbox work, then the wallet's round.
    async fn alarm(&self) -> worker::Result<Response> {
        let answer = self.alarm_work().await;
        // Last, and on its own: a wallet failure never holds up the ledger, erasure or feed.
        if let Err(e) = self.wallet_round().await {
            let line = EventLog {
                level: Level::Error,
                msg: "wallet round failed; the member object tries again",
                request_id: "-",
                detail: Some(e.to_string()),
            }
            .to_line();
            worker::console_error!("{line}");
            let _ = self.alarm_in(RETRY_IN).await;
        }
        answer
    }

    /// One request: load the slot, let the core decide, save it when it changed, answer.
    async fn handle(&self, request: members::Request) -> objects::Answered {
        // From here to the answer there is no await: the slot cannot change under us, and the
        // slot and its events are written in one step.
        let mut stored = self.load()?;
        let before = stored.slot.clone();
        let now_ms = Date::now().as_millis();
        let answer = stored.slot.handle(request.clone(), now_ms);
        let due = due_stops(&request, &answer, &stored.slot);
        stored.ledger_due.extend(due.iter().cloned());
        let new_erasure =
            stored.erasure.is_none() && erasure_of(&request, &answer, &stored.slot).is_some();
        if new_erasure {
            stored.erasure = erasure_of(&request, &answer, &stored.slot);
        }
        let slot_changed = stored.slot != before;
        let wallet_due = slot_changed && wallet_concerned(&stored.slot.wallet);
        if slot_changed || new_erasure {
            stored.outbox.extend(caused_by(
                &request,
                &answer,
                before.member.as_ref(),
                stored.slot.member.as_ref(),
                now_ms,
            ));
            if let Err(e) = self.save(&stored) {
                // Forget the cached copy: the next request reloads what is durable.
                *self.stored.borrow_mut() = None;
                return Err(e);
            }
        }
        if !stored.outbox.is_empty() {
            self.send_later(&stored.outbox);
        }
        *self.stored.borrow_mut() = Some(stored);
        if !due.is_empty() {
            // The alarm first: if the writes below fail, or the object stops before they end,
            // it writes them later. Writing an entry twice is the same as once.
            self.alarm_in(RETRY_IN).await?;
            self.write_due(due).await;
        }
        if wallet_due {
            // The pass may show something else now: the alarm brings it up to date and tells
            // the devices and Google (soon, and again until they heard).
            self.alarm_by(Date::now().as_millis() + WALLET_SOON_MS)
                .await?;
        }
        let mut answer = answer;
        if let Answer::Erased { erasure, .. } = &mut answer {
            *erasure = self.erase_some(FIRST_PASS_OPS).await?.map(Box::new);
        }
        objects::json(&answer)
    }

    /// The alarm's ledger, erasure and outbox work.
    async fn alarm_work(&self) -> worker::Result<Response> {
        let stored = self.load()?;
        // Card stops first: an erasure must find their entries in the ledger to rewrite them.
        if !stored.ledger_due.is_empty() && !self.write_due(stored.ledger_due.clone()).await {
            self.alarm_in(RETRY_IN).await?;
        }
        if self.load()?.ledger_due.is_empty() {
            self.erase_some(crate::edge::runtime::kv::BUDGET).await?;
        }
        let stored = self.load()?;
        if stored.outbox.is_empty() {
            return Response::ok("");
        }
        let messages = stored
            .outbox
            .iter()
            .map(|event| FeedMessage::Record {
                event: event.clone(),
            })
            .collect();
        match crate::edge::feed::queue::enqueue(&self.env, messages).await {
            Ok(()) => {
                // Sent like any send's; the reload (a request may have changed the slot
                // during the send) drops them, and the row is written without them.
                let ids = stored.outbox.iter().map(|e| e.id.clone());
                self.sent.borrow_mut().extend(ids);
                self.save(&self.load()?)?;
            }
            Err(e) => {
                log_send_failure(stored.outbox.len(), &e);
                self.alarm_in(RETRY_IN).await?;
            }
        }
        Response::ok("")
    }
}
