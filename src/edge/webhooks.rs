//! The webhook routes: raw body (size-limited) → signature over those exact bytes → parse →
//! record consent in KV → 200; replies go out after the response.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde_json::json;
use worker::Date;

use crate::edge::runtime::kv::Kv;

use crate::edge::ledger_store;
use crate::edge::members;
use crate::edge::outbox::{self, Tokens};
use crate::edge::runtime::body;
use crate::edge::runtime::env;
use crate::edge::runtime::respond;
use crate::edge::runtime::respond::Outgoing;
use crate::edge::Call;
use optin_core::channels::{self, line, meta, reach, Decision, Inbound, ReplyTarget};
use optin_core::codes::{CardRef, LinkCode};
use optin_core::consent::ledger;
use optin_core::consent::replies::{self, ApiBases, Message, Outbound};
use optin_core::consent::{ConsentChange, InForce, Purpose, Subject};
use optin_core::error::Error;
use optin_core::funnel::stats;
use optin_core::ids::{MemberNumber, StoreId};
use optin_core::lang::Lang;
use optin_core::log::{EventLog, Level};
use optin_core::members::{self as member_rules, ReplyKind};
use optin_core::settings::config::Config;

/// `POST /webhooks/line`
pub async fn line(mut call: Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let secrets = config.line_channel_secrets.require("LINE_CHANNEL_SECRET")?;
    let raw = body::read_limited(&mut call.req).await?;
    let header = call.header(line::SIGNATURE_HEADER);
    line::verify_signature(secrets, &raw, header.as_deref()).map_err(|e| e.into_error())?;
    let (events, ignored) = line::parse(&raw)?;
    process(&call, &config, events, ignored).await
}

/// `GET /webhooks/meta`: the subscription handshake.
pub fn meta_handshake(call: &Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let token = config.meta_verify_token.require("META_VERIFY_TOKEN")?;
    let pairs: Vec<(String, String)> = call.req.query_pairs().into_owned().collect();
    let challenge = meta::handshake(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), token)?;
    Ok(respond::text(200, "text/plain; charset=utf-8", challenge))
}

/// `POST /webhooks/meta`: WhatsApp, Messenger and Instagram.
pub async fn meta(mut call: Call<'_>) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let secrets = config.meta_app_secrets.require("META_APP_SECRET")?;
    let raw = body::read_limited(&mut call.req).await?;
    let header = call.header(meta::SIGNATURE_HEADER);
    meta::verify_signature(secrets, &raw, header.as_deref()).map_err(|e| e.into_error())?;
    let (events, ignored) = meta::parse(&raw)?;
    process(&call, &config, events, ignored).await
}

/// What one webhook did, for its answer and the tests.
#[derive(Default)]
struct Tally {
    recorded: usize,
    duplicates: usize,
    /// Funnel metrics to count, with the store each counts for.
    funnel: Vec<(Option<StoreId>, String)>,
}

/// Acts on verified events: consent changes go to the ledger before the answer (a failure is a
/// 500, so the platform retries and nothing is lost); replies go out after it.
async fn process(
    call: &Call<'_>,
    config: &Config,
    events: Vec<Inbound>,
    ignored: usize,
) -> Result<Outgoing, Error> {
    let mut tally = Tally::default();
    let mut outbox = Vec::new();
    if !events.is_empty() {
        let keys = config.signing_keys.require("SIGNING_KEYS")?;
        let pseudonym_key = config.pseudonym_key.require("PSEUDONYM_KEY")?;
        let kv = call.kv()?;
        let now_ms = Date::now().as_millis();
        // The stores (for the funnel's store days), from the isolate cache.
        let snapshot = crate::edge::runtime::cache::snapshot(call.env, now_ms).await?;
        let ctx = Handling {
            env: call.env,
            request_id: call.request_id,
            kv: &kv,
            config,
            keys,
            pseudonym_key: pseudonym_key.expose().as_bytes(),
            now_ms,
            stores: &snapshot.stores,
        };
        // One subject's events in order (a follow before its JOIN); a few subjects at a time.
        let mut by_subject: BTreeMap<String, Vec<Inbound>> = BTreeMap::new();
        for event in events {
            by_subject
                .entry(event.subject.key_material())
                .or_default()
                .push(event);
        }
        let results: Vec<Handled> = futures_util::stream::iter(by_subject.into_values())
            .map(|group| ctx.handle_all(group))
            .buffer_unordered(SUBJECTS_AT_ONCE)
            .collect()
            .await;
        let mut failure = None;
        for handled in results {
            // Replies earned by recorded events go out even if another event failed: a
            // redelivery would see those as duplicates and never send them.
            outbox.extend(handled.outbox);
            tally.recorded += handled.tally.recorded;
            tally.duplicates += handled.tally.duplicates;
            for (store, metric) in handled.tally.funnel {
                crate::edge::funnel::count_for_store(
                    call.env,
                    call.ctx,
                    &snapshot.stores,
                    store.as_ref(),
                    now_ms,
                    &metric,
                    call.request_id,
                );
            }
            failure = failure.or(handled.failure);
        }
        if let Some(error) = failure {
            send_later(call, config, outbox);
            return Err(error);
        }
    }
    let answer = json!({
        "status": "ok",
        "recorded": tally.recorded,
        "duplicates": tally.duplicates,
        "ignored": ignored,
    });
    send_later(call, config, outbox);
    Ok(respond::json(200, &answer))
}

/// How many subjects of one webhook are handled at once (each costs a few KV operations).
const SUBJECTS_AT_ONCE: usize = 8;

/// Sends the replies after the response.
pub(super) fn send_later(call: &Call<'_>, config: &Config, outbox: Vec<Outbound>) {
    if outbox.is_empty() {
        return;
    }
    let tokens = Tokens {
        line: config.line_channel_access_token.get().cloned(),
        graph: config.meta_access_token.get().cloned(),
    };
    call.ctx
        .wait_until(outbox::send_all(outbox, tokens, call.request_id.to_owned()));
}

/// What handling one subject's events produced; the replies survive a later failure.
struct Handled {
    outbox: Vec<Outbound>,
    tally: Tally,
    failure: Option<Error>,
}

/// A change as one member's ledger event (see [`Handling::record`]).
struct Record<'a> {
    change: &'a ConsentChange,
    event_id: String,
    member: MemberNumber,
    /// The person's pseudonyms on that member.
    pseudonyms: &'a [String],
    /// The member had already applied it (a redelivery).
    duplicate: bool,
}

/// One verified webhook being handled: what every event of it needs.
struct Handling<'a> {
    env: &'a worker::Env,
    request_id: &'a str,
    kv: &'a Kv,
    config: &'a Config,
    keys: &'a optin_core::settings::secrets::SigningKeys,
    pseudonym_key: &'a [u8],
    now_ms: u64,
    /// The stores (their countries decide what a grant is for).
    stores: &'a optin_core::stores::StoresIndex,
}

impl Handling<'_> {
    async fn handle_all(&self, group: Vec<Inbound>) -> Handled {
        let mut handled = Handled {
            outbox: Vec::new(),
            tally: Tally::default(),
            failure: None,
        };
        for inbound in group {
            if let Err(e) = self.handle(&inbound, &mut handled).await {
                handled.failure = Some(e);
                break;
            }
        }
        handled
    }

    async fn handle(&self, inbound: &Inbound, handled: &mut Handled) -> Result<(), Error> {
        let (outbox, tally) = (&mut handled.outbox, &mut handled.tally);
        let seed = format!(
            "{}:{}",
            inbound.subject.channel.as_str(),
            inbound.platform_event_id
        );
        match channels::interpret(inbound, Some(self.keys), self.now_ms / 1000) {
            Decision::Consent(change) => {
                self.consent(inbound, &change, None, &seed, outbox, tally)
                    .await?;
            }
            Decision::Link(change, code) => {
                self.consent(inbound, &change, Some(&code), &seed, outbox, tally)
                    .await?;
            }
            Decision::AskOptin { code, store } => {
                let once = ledger::once_key(self.pseudonym_key, "optin-request", &seed);
                if ledger_store::claim_once(self.kv, &once, self.now_ms).await? {
                    // Promises offers only where the channel carries them for the code's store.
                    let offers = reach::marketing_deliverable(
                        inbound.subject.channel,
                        self.country_of(store.as_ref()),
                    );
                    let message = Message::OptinRequest { code, offers };
                    let lang = self.config.default_lang;
                    outbox.extend(self.reply(&inbound.reply_to, &message, lang, &seed));
                }
            }
            Decision::InviteFromComment { comment_id } => {
                let once = ledger::once_key(self.pseudonym_key, "comment", &comment_id);
                if ledger_store::claim_once(self.kv, &once, self.now_ms).await? {
                    let lang = self.config.default_lang;
                    let Some(base) = self.public_base() else {
                        return Ok(());
                    };
                    let message = Message::CommentInvitation {
                        privacy_url: format!("{base}/privacy"),
                    };
                    outbox.extend(self.reply(&inbound.reply_to, &message, lang, &seed));
                } else {
                    tally.duplicates += 1;
                }
            }
            Decision::Renumber { new_ids } => {
                let channel = inbound.subject.channel;
                let mut old_ids = vec![inbound.subject.clone()];
                old_ids.extend(aliases_of(inbound));
                let new_ids: Vec<_> = new_ids
                    .iter()
                    .map(|id| Subject::new(channel, id.clone()))
                    .collect();
                members::renumber(
                    self.env,
                    self.pseudonym_key,
                    &old_ids,
                    &new_ids,
                    self.request_id,
                )
                .await?;
            }
            // Any text showing two ids of one WhatsApp user is Meta saying they are one person:
            // recorded now, so that a later stop under either id reaches both.
            Decision::Ignore if !inbound.aliases.is_empty() => {
                members::apply(
                    self.env,
                    self.pseudonym_key,
                    &inbound.subject,
                    &aliases_of(inbound),
                    None,
                    None,
                    self.request_id,
                )
                .await?;
            }
            Decision::Ignore => {}
        }
        Ok(())
    }

    /// A consent change: applied to the member's object (which answers whether the state
    /// changed and which reply that earns), then written to the ledger with the member's number.
    /// A failure at either step answers 500: the platform redelivers, the object recognises the
    /// event and the ledger entry is written if it is missing.
    async fn consent(
        &self,
        inbound: &Inbound,
        change: &ConsentChange,
        link: Option<&LinkCode>,
        seed: &str,
        outbox: &mut Vec<Outbound>,
        tally: &mut Tally,
    ) -> Result<(), Error> {
        let event_id = ledger::event_id(self.pseudonym_key, change);
        let purpose = self.purpose_of(change, &aliases_of(inbound));
        let member_change = member_rules::Change {
            event_id: event_id.clone(),
            occurred_at_ms: change.occurred_at_ms,
            action: change.action,
            source: change.source,
            store: change.store.clone(),
            lang: change.lang.map(|l| l.code().to_owned()),
            campaign: change.campaign.clone(),
            notice_version: change.notice_version.clone(),
            purpose,
        };
        let applied = members::apply(
            self.env,
            self.pseudonym_key,
            &change.subject,
            &aliases_of(inbound),
            Some(member_change),
            link,
            self.request_id,
        )
        .await?
        .ok_or_else(|| Error::internal("a change found no member"))?;
        // The notice version is the one the join code's landing page showed (carried in the
        // signed code), never the one in force now: the evidence names what the shopper saw.
        let in_force = self.config.in_force();
        // Recorded for what was asked: a grant's purpose, or that of the grant a withdrawal ends.
        let change = &ConsentChange {
            purpose: applied.purpose,
            ..change.clone()
        };
        let own = Record {
            change,
            event_id,
            member: applied.member,
            pseudonyms: &applied.pseudonyms,
            duplicate: applied.duplicate,
        };
        self.record(&own, &in_force).await?;
        // The same withdrawal on other members the webhook's ids belong to: each recorded as
        // that member's, under the id that reached it and its own event id.
        for also in &applied.also {
            let reached = ConsentChange {
                subject: Subject::new(change.subject.channel, &also.user_id),
                purpose: also.purpose,
                ..change.clone()
            };
            let theirs = Record {
                change: &reached,
                event_id: also.event_id.clone(),
                member: also.member,
                pseudonyms: &also.pseudonyms,
                duplicate: also.duplicate,
            };
            self.record(&theirs, &in_force).await?;
        }
        if applied.duplicate {
            tally.duplicates += 1;
            return Ok(());
        }
        tally.recorded += 1;
        for metric in stats::consent_metrics(
            change.subject.channel,
            applied.purpose,
            applied.before,
            applied.after,
            applied.card_issued,
        ) {
            tally.funnel.push((applied.store.clone(), metric));
        }
        let lang = applied
            .lang
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(self.config.default_lang);
        let message = match applied.reply {
            Some(ReplyKind::Welcome) => match self.card_url(applied.member) {
                Some(card_url) => Message::Welcome { card_url },
                None => return Ok(()),
            },
            Some(ReplyKind::WithdrawalConfirmation) => Message::WithdrawalConfirmation,
            None => return Ok(()),
        };
        outbox.extend(self.reply(&inbound.reply_to, &message, lang, seed));
        Ok(())
    }

    /// What a change is for: `marketing` where the platform delivers marketing to this account
    /// for the store of the change's join code, else `card`. A change without a code (a follow,
    /// a preference, a keyword) is judged by `JURISDICTION`'s country; the member's object
    /// keeps, for a withdrawal, the purpose of the grant it ends.
    fn purpose_of(&self, change: &ConsentChange, aliases: &[Subject]) -> Purpose {
        let country = self.country_of(change.store.as_ref());
        let channel = change.subject.channel;
        // Every id of the person: a WhatsApp +1 number kept beside a business-scoped id counts.
        let ids = std::iter::once(&change.subject)
            .chain(aliases)
            .map(|s| s.user_id.as_str());
        Purpose::for_reach(reach::account_marketing_deliverable(channel, country, ids))
    }

    /// The country a change or a code is judged by: its store's, else `JURISDICTION`'s; a
    /// store this isolate does not know yet (just created) counts as no country at all, which
    /// promises only what every country gets.
    fn country_of(&self, store: Option<&StoreId>) -> Option<&str> {
        let jurisdiction = self.config.jurisdiction_country();
        match store {
            None => jurisdiction,
            Some(id) => self.stores.get(id).and_then(|s| s.country(jurisdiction)),
        }
    }

    /// Writes a change to the ledger as the member's event, under every pseudonym of the person.
    async fn record(&self, r: &Record<'_>, in_force: &InForce) -> Result<(), Error> {
        let event = ledger::event(
            r.change,
            r.event_id.clone(),
            Some(r.member),
            in_force,
            self.now_ms,
        );
        ledger_store::write(
            self.kv,
            self.pseudonym_key,
            &event,
            r.pseudonyms,
            r.duplicate,
        )
        .await
    }

    /// `PUBLIC_BASE_URL`, or `None` (logged as a configuration error: a link without it would
    /// lead nowhere, so the reply is skipped; the consent is recorded all the same).
    fn public_base(&self) -> Option<&str> {
        let base = self.config.public_base_url.get().map(String::as_str);
        if base.is_none() {
            let line = EventLog {
                level: Level::Error,
                msg: "reply skipped",
                request_id: self.request_id,
                detail: Some("config: PUBLIC_BASE_URL missing or invalid".into()),
            }
            .to_line();
            worker::console_error!("{line}");
        }
        base
    }

    fn card_url(&self, member: optin_core::ids::MemberNumber) -> Option<String> {
        let base = self.public_base()?;
        Some(format!(
            "{base}/card/{}",
            CardRef { member }.issue(self.keys)
        ))
    }

    fn reply(
        &self,
        target: &ReplyTarget,
        message: &Message,
        lang: Lang,
        seed: &str,
    ) -> Option<Outbound> {
        build_reply(self.config, target, message, lang, seed)
    }
}

/// The other ids of the inbound's person, as subjects of its channel.
fn aliases_of(inbound: &Inbound) -> Vec<Subject> {
    inbound
        .aliases
        .iter()
        .map(|id| Subject::new(inbound.subject.channel, id.clone()))
        .collect()
}

/// The send request of a message to a shopper, with the configured API bases.
pub(super) fn build_reply(
    config: &Config,
    target: &ReplyTarget,
    message: &Message,
    lang: Lang,
    seed: &str,
) -> Option<Outbound> {
    let bases = ApiBases {
        line: &config.line_api_base,
        graph: &config.graph_api_base,
        whatsapp_phone_number_id: config.whatsapp_phone_number_id.get().map(String::as_str),
    };
    replies::build(target, message, lang, &bases, seed)
}
