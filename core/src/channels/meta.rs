//! Meta webhooks (WhatsApp Cloud API, Messenger, Instagram): the subscription handshake, the
//! `X-Hub-Signature-256` rule, and the events we act on.
//!
//! Signature: `sha256=` + hex(HMAC-SHA256(app secret, payload)). Meta "generate[s] the signature
//! using an escaped unicode version of the payload, with lowercase hex digits" (Graph API
//! webhooks, Validating Payloads). The bodies Meta sends are already escaped, so the raw bytes
//! are checked first; a body that carries raw UTF-8 is also checked in that escaped form.

use serde_json_borrow::Value;

use super::{Inbound, InboundKind, ReplyTarget, SignatureError};
use crate::consent::{Action, Channel, Subject};
use crate::error::Error;
use crate::settings::secrets::Secret;
use crate::signing;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
const SIGNATURE_PREFIX: &str = "sha256=";

/// The subscription handshake: `hub.mode=subscribe` and the right `hub.verify_token` get the
/// `hub.challenge` back.
///
/// # Errors
/// 403 `verification_failed` otherwise (the token is compared in constant time).
pub fn handshake<'a>(
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    verify_token: &Secret,
) -> Result<String, Error> {
    let (mut mode, mut token, mut challenge) = (None, None, None);
    for (k, v) in query {
        match k {
            "hub.mode" => mode = Some(v),
            "hub.verify_token" => token = Some(v),
            "hub.challenge" => challenge = Some(v),
            _ => {}
        }
    }
    let forbidden = Error::Forbidden {
        code: "verification_failed",
    };
    match (mode, token, challenge) {
        (Some("subscribe"), Some(token), Some(challenge))
            if verify_token.matches(token.as_bytes()) && !challenge.is_empty() =>
        {
            Ok(challenge.to_owned())
        }
        _ => Err(forbidden),
    }
}

/// Checks `X-Hub-Signature-256` against every configured app secret (rotation).
///
/// # Errors
/// [`SignatureError`] when the header is missing, not `sha256=` + 64 hex digits, or matches none.
pub fn verify_signature(
    secrets: &[Secret],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = super::present(header)?;
    let hex = header
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(SignatureError::Malformed)?;
    let tag = crate::encoding::hex_decode(hex.as_bytes()).ok_or(SignatureError::Malformed)?;
    let tag = signing::FullTag::try_from(&tag[..]).map_err(|_| SignatureError::Malformed)?;
    if signing::verify_with_any(secrets, body, &tag) {
        return Ok(());
    }
    // Only bodies with raw UTF-8 can differ from Meta's escaped form. It is written out once
    // (at most 3x the body: a 2-byte character becomes 6) and each secret hashes it in one
    // pass: per byte, about the cost of the plain check however many secrets are configured.
    let escaped_ok = !body.is_ascii()
        && std::str::from_utf8(body)
            .is_ok_and(|text| signing::verify_with_any(secrets, &escape_like_meta(text), &tag));
    if escaped_ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `text` with every character above `~` written as `\uXXXX` (lowercase hex, UTF-16 code
/// units), as Meta signs it; ASCII runs are copied as they are.
fn escape_like_meta(text: &str) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3);
    let mut run_start = 0;
    for (i, c) in text.char_indices() {
        if (c as u32) <= 0x7E {
            continue;
        }
        out.extend_from_slice(&bytes[run_start..i]);
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            let u = *unit;
            out.extend_from_slice(&[
                b'\\',
                b'u',
                HEX[usize::from(u >> 12)],
                HEX[usize::from((u >> 8) & 0xf)],
                HEX[usize::from((u >> 4) & 0xf)],
                HEX[usize::from(u & 0xf)],
            ]);
        }
        run_start = i + c.len_utf8();
    }
    out.extend_from_slice(&bytes[run_start..]);
    out
}

/// The events of a verified Meta webhook body that concern us, and how many were ignored
/// (statuses, reads, deliveries, echoes, other fields).
///
/// # Errors
/// 400 `invalid_json` when the body is not JSON, `invalid_payload` when it is not an
/// `{object, entry: [...]}` notification. Objects we do not act on are ignored, not errors.
pub fn parse(body: &[u8]) -> Result<(Vec<Inbound>, usize), Error> {
    // Borrowed: strings point into the body and objects are vectors, not maps. A webhook is
    // read once, front to back; building maps and copying every string was wasted work. On a
    // repeated key the first wins (Meta sends none, and the body is signed).
    let root: Value = serde_json::from_slice(body)?;
    let invalid = || {
        Error::bad_request(
            "invalid_payload",
            "A Meta webhook has `object` and an `entry` array.",
        )
    };
    let entries = root
        .field("entry")
        .and_then(Value::as_array)
        .ok_or_else(invalid)?;
    let mut out = Parsed::default();
    match root.field("object").and_then(Value::as_str) {
        Some("whatsapp_business_account") => {
            for change in entries.iter().flat_map(|e| array(e, "changes")) {
                whatsapp_change(change, &mut out);
            }
        }
        Some("page") => {
            for event in entries.iter().flat_map(|e| array(e, "messaging")) {
                messaging_event(Channel::Messenger, event, &mut out);
            }
        }
        Some("instagram") => {
            for entry in entries {
                for event in array(entry, "messaging") {
                    messaging_event(Channel::Instagram, event, &mut out);
                }
                for change in array(entry, "changes") {
                    instagram_change(entry, change, &mut out);
                }
            }
        }
        // A verified notification of an object we do not act on (e.g. `permissions`): answered
        // 200 like any ignored event, so Meta does not retry or disable the subscription.
        _ => out.ignored += entries.len().max(1),
    }
    Ok((out.events, out.ignored))
}

#[derive(Default)]
struct Parsed {
    events: Vec<Inbound>,
    ignored: usize,
}

impl Parsed {
    fn push(&mut self, event: Option<Inbound>) {
        match event {
            Some(e) => self.events.push(e),
            None => self.ignored += 1,
        }
    }
}

/// A member of an object (`None` for a missing key or a value that is not an object).
trait Field<'ctx> {
    fn field(&self, key: &str) -> Option<&Value<'ctx>>;
}

impl<'ctx> Field<'ctx> for Value<'ctx> {
    fn field(&self, key: &str) -> Option<&Value<'ctx>> {
        self.as_object()?.get(key)
    }
}

fn array<'a, 'ctx>(v: &'a Value<'ctx>, key: &str) -> &'a [Value<'ctx>] {
    v.field(key).and_then(Value::as_array).unwrap_or(&[])
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.field(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A timestamp given as a number or a numeric string; `seconds` says its unit.
fn millis(v: Option<&Value>, seconds: bool) -> Option<u64> {
    let n = match v? {
        Value::Number(n) => n.as_u64()?,
        Value::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(if seconds { n.saturating_mul(1000) } else { n })
}

/// WhatsApp: `entry[].changes[]` of field `messages` (texts; statuses are ignored) or
/// `user_preferences` (marketing stop / resume).
fn whatsapp_change(change: &Value, out: &mut Parsed) {
    let value = change.field("value").unwrap_or(&Value::Null);
    let phone_number_id = value
        .field("metadata")
        .and_then(|m| str_of(m, "phone_number_id"))
        .map(str::to_owned);
    let contacts = array(value, "contacts");
    match change.field("field").and_then(Value::as_str) {
        Some("messages") => {
            out.ignored += array(value, "statuses").len();
            for message in array(value, "messages") {
                let event = match str_of(message, "type") {
                    Some("system") => whatsapp_identity_change(message, &phone_number_id),
                    _ => whatsapp_message(message, contacts, &phone_number_id),
                };
                out.push(event);
            }
        }
        Some("user_preferences") => {
            for pref in array(value, "user_preferences") {
                out.push(whatsapp_preference(pref, contacts, &phone_number_id));
            }
        }
        _ => out.ignored += 1,
    }
}

/// A WhatsApp user as one webhook shows them.
struct WhatsappIdentity {
    /// The subject: the business-scoped user id where present, else the `wa_id`.
    user_id: String,
    /// The phone-number id, to reply to, when Meta shared it.
    wa_id: Option<String>,
    /// The `wa_id` when the subject is the business-scoped id: the same person.
    aliases: Vec<String>,
}

/// The WhatsApp subject: the business-scoped user id where present, else the `wa_id`. Meta
/// ("Business-scoped user IDs", WhatsApp Business Platform docs, 2026): the BSUID is assigned to
/// `user_id` and "appear[s] in all messages webhooks", while the phone number (`wa_id` / `from`)
/// is omitted for users with a username unless the business exchanged messages with that number
/// in the last 30 days or has it in its contact book. A webhook carrying both is Meta saying they
/// are one person: the `wa_id` becomes an alias, so a consent given under one is withdrawn under
/// the other (docs/evidence.md, One WhatsApp person across its ids).
fn whatsapp_identity(
    wa_id: Option<&str>,
    bsuid: Option<&str>,
    contacts: &[Value],
) -> Option<WhatsappIdentity> {
    let contact = contacts.iter().find(|c| {
        (wa_id.is_some() && str_of(c, "wa_id") == wa_id)
            || (bsuid.is_some() && str_of(c, "user_id") == bsuid)
    });
    let contact = contact.or(if contacts.len() == 1 {
        contacts.first()
    } else {
        None
    });
    let bsuid = bsuid.or_else(|| contact.and_then(|c| str_of(c, "user_id")));
    let wa_id = wa_id.or_else(|| contact.and_then(|c| str_of(c, "wa_id")));
    let user_id = bsuid.or(wa_id)?;
    let aliases = wa_id
        .filter(|w| *w != user_id)
        .map(str::to_owned)
        .into_iter()
        .collect();
    Some(WhatsappIdentity {
        user_id: user_id.to_owned(),
        wa_id: wa_id.map(str::to_owned),
        aliases,
    })
}

/// A `system` message telling that the user's ids changed: `user_changed_number` (a new phone
/// number, which also regenerates the business-scoped id) or `user_changed_user_id` (a new
/// business-scoped id alone). Meta (System messages webhook reference; changelog of
/// 2026-08-11): `system.user_id` / `system.wa_id` carry the new ids, `system.previous_user_id`
/// the old business-scoped id, the message's `from` the old phone number. The subject is an old
/// id (the person is found by what we knew), `new_ids` the new ones, the business-scoped first:
/// the person keeps its consent and its card, and is written to at its new id.
fn whatsapp_identity_change(message: &Value, phone_number_id: &Option<String>) -> Option<Inbound> {
    let system = message.field("system")?;
    if !matches!(
        str_of(system, "type"),
        Some("user_changed_number" | "user_changed_user_id")
    ) {
        return None;
    }
    let distinct = |ids: &[Option<&str>], except: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in ids.iter().flatten() {
            if !except.iter().any(|e| e == id) && !out.iter().any(|o| o == id) {
                out.push((*id).to_owned());
            }
        }
        out
    };
    let new_wa_id = str_of(system, "wa_id");
    let new_ids = distinct(&[str_of(system, "user_id"), new_wa_id], &[]);
    let old_ids = distinct(
        &[
            str_of(system, "previous_user_id"),
            str_of(message, "from_user_id"),
            str_of(message, "from"),
        ],
        &new_ids,
    );
    let (subject, aliases) = old_ids.split_first()?;
    if new_ids.is_empty() {
        return None;
    }
    Some(Inbound {
        subject: Subject::new(Channel::Whatsapp, subject.clone()),
        occurred_at_ms: millis(message.field("timestamp"), true)?,
        platform_event_id: str_of(message, "id")?.to_owned(),
        reply_to: ReplyTarget::Whatsapp {
            phone_number_id: phone_number_id.clone(),
            to: new_wa_id.unwrap_or(&new_ids[0]).to_owned(),
        },
        kind: InboundKind::IdentityChange { new_ids },
        aliases: aliases.to_vec(),
    })
}

fn whatsapp_message(
    message: &Value,
    contacts: &[Value],
    phone_number_id: &Option<String>,
) -> Option<Inbound> {
    if str_of(message, "type")? != "text" {
        return None;
    }
    let text = message.field("text").and_then(|t| str_of(t, "body"))?;
    let who = whatsapp_identity(
        str_of(message, "from"),
        str_of(message, "from_user_id"),
        contacts,
    )?;
    Some(Inbound {
        subject: Subject::new(Channel::Whatsapp, who.user_id.clone()),
        occurred_at_ms: millis(message.field("timestamp"), true)?,
        platform_event_id: str_of(message, "id")?.to_owned(),
        kind: InboundKind::Text(text.to_owned()),
        reply_to: ReplyTarget::Whatsapp {
            phone_number_id: phone_number_id.clone(),
            to: who.wa_id.unwrap_or(who.user_id),
        },
        aliases: who.aliases,
    })
}

fn whatsapp_preference(
    pref: &Value,
    contacts: &[Value],
    phone_number_id: &Option<String>,
) -> Option<Inbound> {
    if str_of(pref, "category")? != "marketing_messages" {
        return None;
    }
    let action = match str_of(pref, "value")? {
        "stop" => Action::Withdrawn,
        "resume" => Action::Granted,
        _ => return None,
    };
    let who = whatsapp_identity(str_of(pref, "wa_id"), str_of(pref, "user_id"), contacts)?;
    let at = millis(pref.field("timestamp"), true)?;
    Some(Inbound {
        subject: Subject::new(Channel::Whatsapp, who.user_id.clone()),
        occurred_at_ms: at,
        // The platform gives these no id: the content identifies the event.
        platform_event_id: format!("pref:{}:{at}:{}", who.user_id, str_of(pref, "value")?),
        kind: InboundKind::MarketingPreference(action),
        reply_to: ReplyTarget::Whatsapp {
            phone_number_id: phone_number_id.clone(),
            to: who.wa_id.unwrap_or(who.user_id),
        },
        aliases: who.aliases,
    })
}

/// Messenger and Instagram `entry[].messaging[]`: texts, referrals, marketing opt-ins and their
/// stop / resume. Echoes, deliveries, reads and reactions are ignored.
fn messaging_event(channel: Channel, event: &Value, out: &mut Parsed) {
    out.push(messaging_inbound(channel, event));
}

fn messaging_inbound(channel: Channel, event: &Value) -> Option<Inbound> {
    let user_id = event
        .field("sender")
        .and_then(|s| str_of(s, "id"))?
        .to_owned();
    let at = millis(event.field("timestamp"), false)?;
    let (kind, event_id) = if let Some(message) = event.field("message") {
        if message.field("is_echo").and_then(Value::as_bool) == Some(true) {
            return None;
        }
        let text = str_of(message, "text")?;
        (
            InboundKind::Text(text.to_owned()),
            str_of(message, "mid")?.to_owned(),
        )
    } else if let Some(referral) = event
        .field("referral")
        .or_else(|| event.field("postback").and_then(|p| p.field("referral")))
    {
        let code = str_of(referral, "ref")?;
        (
            InboundKind::Referral(code.to_owned()),
            format!("ref:{user_id}:{at}"),
        )
    } else if let Some(optin) = event.field("optin") {
        if str_of(optin, "type")? != "notification_messages" {
            return None;
        }
        match str_of(optin, "notification_messages_status") {
            Some(status) => {
                // Meta's reference writes "STOP NOTIFICATIONS"; payloads seen in the wild use
                // "STOP_NOTIFICATIONS". Both are accepted.
                let action = match status.replace(' ', "_").to_ascii_uppercase().as_str() {
                    "STOP_NOTIFICATIONS" => Action::Withdrawn,
                    "RESUME_NOTIFICATIONS" => Action::Granted,
                    _ => return None,
                };
                (
                    InboundKind::MarketingPreference(action),
                    format!("status:{user_id}:{at}:{status}"),
                )
            }
            None => (
                InboundKind::MarketingOptin {
                    payload: str_of(optin, "payload").map(str::to_owned),
                },
                format!("optin:{user_id}:{at}"),
            ),
        }
    } else {
        return None;
    };
    let reply_to = match channel {
        Channel::Instagram => ReplyTarget::Instagram {
            igsid: user_id.clone(),
        },
        _ => ReplyTarget::Messenger {
            psid: user_id.clone(),
        },
    };
    Some(Inbound {
        subject: Subject::new(channel, user_id),
        occurred_at_ms: at,
        platform_event_id: event_id,
        kind,
        reply_to,
        aliases: Vec::new(),
    })
}

/// Instagram `entry[].changes[]` of field `comments`: a comment on one of the account's posts
/// (not the account's own comments).
fn instagram_change(entry: &Value, change: &Value, out: &mut Parsed) {
    out.push(instagram_comment(entry, change));
}

fn instagram_comment(entry: &Value, change: &Value) -> Option<Inbound> {
    if change.field("field").and_then(Value::as_str)? != "comments" {
        return None;
    }
    let value = change.field("value")?;
    let comment_id = str_of(value, "id")?.to_owned();
    let from = value.field("from").and_then(|f| str_of(f, "id"))?;
    if Some(from) == str_of(entry, "id") {
        return None;
    }
    let at = millis(entry.field("time"), false).unwrap_or(0);
    Some(Inbound {
        subject: Subject::new(Channel::Instagram, from),
        occurred_at_ms: at,
        platform_event_id: format!("comment:{comment_id}"),
        kind: InboundKind::Comment {
            comment_id: comment_id.clone(),
        },
        reply_to: ReplyTarget::InstagramComment { comment_id },
        aliases: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real Meta-signed WhatsApp delivery published in david-lev/pywa, tests/test_server.py
    /// (its app secret has since been reset).
    const PYWA_SECRET: &str = "1222e786b144d0e85b9f365372d93676";
    const PYWA_BODY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"264937493375603","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550953877","phone_number_id":"277321005464405"},"contacts":[{"profile":{"name":"PyWa Tests"},"wa_id":"972544401243"}],"messages":[{"from":"972544401243","id":"wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA","timestamp":"1730231903","text":{"body":"Hey there! I am using PyWa."},"type":"text"}]},"field":"messages"}]}]}"#;
    const PYWA_SIGNATURE: &str =
        "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441";

    /// Secreto31126/whatsapp-api-js, test/index.test.js: a raw UTF-8 body signed in Meta's
    /// escaped form.
    const UNICODE_SECRET: &str = "YOUR_APP_SECRET";
    const UNICODE_BODY: &str = "Let's pretend this body is equal to the message object and can handle unicode characters like みどりいろ and J'ai mangé des pâtes";
    const UNICODE_SIGNATURE: &str =
        "sha256=0363007aabdf1ab579f35936651a460fb5fa1aaf40df98b1264446b72cc96688";

    fn secrets(list: &[&str]) -> Vec<Secret> {
        list.iter().map(|s| Secret::new(*s)).collect()
    }

    #[test]
    fn a_real_meta_signed_delivery_verifies() {
        assert_eq!(
            verify_signature(
                &secrets(&[PYWA_SECRET]),
                PYWA_BODY.as_bytes(),
                Some(PYWA_SIGNATURE)
            ),
            Ok(())
        );
    }

    #[test]
    fn raw_utf8_bodies_verify_in_metas_escaped_form() {
        assert_eq!(
            verify_signature(
                &secrets(&[UNICODE_SECRET]),
                UNICODE_BODY.as_bytes(),
                Some(UNICODE_SIGNATURE)
            ),
            Ok(())
        );
        let escaped = |text: &str| String::from_utf8(escape_like_meta(text)).unwrap();
        let e = escaped(UNICODE_BODY);
        assert!(e.contains(r"\u307f\u3069\u308a\u3044\u308d"));
        assert!(e.contains(r"mang\u00e9"));
        assert_eq!(escaped("a😀b"), r"a\ud83d\ude00b", "surrogate pairs");
    }

    #[test]
    fn a_forged_mib_of_non_ascii_with_rotated_secrets_is_refused_after_one_escaped_copy() {
        // Hashing this body with one or two HMAC updates per character, per secret, costs ~9x
        // the CPU per byte of an ASCII one. The escaped form is written once, in one buffer,
        // and each secret hashes it in one pass; `make bench` measures the case
        // (`meta_forged_utf8`).
        let body = format!(r#"{{"text":"{}"}}"#, "é".repeat(512 * 1024));
        let escaped = escape_like_meta(&body);
        assert_eq!(escaped.len(), body.len() - 2 * 512 * 1024 + 6 * 512 * 1024);
        assert_eq!(
            escaped.capacity(),
            body.len() * 3,
            "one allocation, never grown"
        );
        let forged = format!("sha256={}", "0".repeat(64));
        assert_eq!(
            verify_signature(&secrets(&["new", "old"]), body.as_bytes(), Some(&forged)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn signature_failures_are_told_apart() {
        let s = secrets(&[PYWA_SECRET]);
        let body = PYWA_BODY.as_bytes();
        let hex = &PYWA_SIGNATURE["sha256=".len()..];
        let cases = [
            (None, SignatureError::Missing),
            (Some(" "), SignatureError::Missing),
            (Some(hex), SignatureError::Malformed),
            (Some(&format!("sha1={hex}")[..]), SignatureError::Malformed),
            (
                Some(&PYWA_SIGNATURE[..PYWA_SIGNATURE.len() - 2]),
                SignatureError::Malformed,
            ),
            (Some("sha256=zz"), SignatureError::Malformed),
        ];
        for (header, want) in cases {
            assert_eq!(verify_signature(&s, body, header), Err(want), "{header:?}");
        }
        let mut tampered = body.to_vec();
        let i = tampered.iter().position(|b| *b == b'H').unwrap();
        tampered[i] = b'J';
        assert_eq!(
            verify_signature(&s, &tampered, Some(PYWA_SIGNATURE)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&secrets(&["other"]), body, Some(PYWA_SIGNATURE)),
            Err(SignatureError::Mismatch)
        );
        let upper = format!("sha256={}", hex.to_ascii_uppercase());
        assert_eq!(verify_signature(&s, body, Some(&upper)), Ok(()));
    }

    #[test]
    fn handshake_echoes_the_challenge_only_for_the_right_token() {
        let token = Secret::new("meatyhamhock");
        let ok = [
            ("hub.mode", "subscribe"),
            ("hub.challenge", "1158201444"),
            ("hub.verify_token", "meatyhamhock"),
        ];
        assert_eq!(handshake(ok, &token).unwrap(), "1158201444");
        let bad: [&[(&str, &str)]; 3] = [
            &[
                ("hub.mode", "subscribe"),
                ("hub.challenge", "1"),
                ("hub.verify_token", "wrong"),
            ],
            &[
                ("hub.mode", "unsubscribe"),
                ("hub.challenge", "1"),
                ("hub.verify_token", "meatyhamhock"),
            ],
            &[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", "meatyhamhock"),
            ],
        ];
        for query in bad {
            let err = handshake(query.iter().copied(), &token).unwrap_err();
            assert_eq!((err.status(), err.code()), (403, "verification_failed"));
        }
    }

    #[test]
    fn escaped_keys_and_strings_and_numeric_timestamps_read_like_plain_ones() {
        // The document borrows from the body: an escape makes an owned copy of that string
        // (or key) only. JSON allows escaping any character, keys included.
        let escaped = PYWA_BODY
            .replace(r#""text":{"body""#, r#""t\u0065xt":{"body""#)
            .replace("Hey there!", r"H\u00e9y\nthere!")
            .replace(r#""timestamp":"1730231903""#, r#""timestamp":1730231903"#);
        assert_ne!(escaped, PYWA_BODY);
        let (events, ignored) = parse(escaped.as_bytes()).unwrap();
        assert_eq!(ignored, 0);
        assert_eq!(events[0].occurred_at_ms, 1_730_231_903_000);
        assert_eq!(
            events[0].kind,
            InboundKind::Text("H\u{e9}y\nthere! I am using PyWa.".into())
        );
        let statuses = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"a"},{"id":"b"}]}}]}]}"#;
        assert_eq!(parse(statuses.as_bytes()).unwrap(), (vec![], 2));
        assert!(parse(br#"{"object":"page","entry":7}"#).is_err());
        assert!(parse(b"{\"object\":\"page\"").is_err());
    }

    #[test]
    fn whatsapp_text_uses_the_business_scoped_id_when_present() {
        let (events, _) = parse(PYWA_BODY.as_bytes()).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.subject, Subject::new(Channel::Whatsapp, "972544401243"));
        assert_eq!(e.occurred_at_ms, 1_730_231_903_000);
        assert_eq!(
            e.kind,
            InboundKind::Text("Hey there! I am using PyWa.".into())
        );
        assert_eq!(
            e.reply_to,
            ReplyTarget::Whatsapp {
                phone_number_id: Some("277321005464405".into()),
                to: "972544401243".into()
            }
        );
        let with_bsuid = PYWA_BODY.replace(
            r#""wa_id":"972544401243""#,
            r#""wa_id":"972544401243","user_id":"IN.1410018717833190""#,
        );
        let (events, _) = parse(with_bsuid.as_bytes()).unwrap();
        assert_eq!(events[0].subject.user_id, "IN.1410018717833190");
        assert_eq!(events[0].aliases, ["972544401243"], "one person, two ids");
        assert!(
            matches!(&events[0].reply_to, ReplyTarget::Whatsapp { to, .. } if to == "972544401243")
        );
    }

    #[test]
    fn whatsapp_ids_of_one_user_become_aliases_only_when_a_webhook_shows_both() {
        // Shapes of Meta's "Business-scoped user IDs" page: a username user whose phone number
        // is hidden (no `wa_id`, no `from`), then one whose number is shared.
        let hidden = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson","username":"realsheenanelson"},"user_id":"US.13491208655302741918"}],"messages":[{"from_user_id":"US.13491208655302741918","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"STOP"}}]}}]}]}"#;
        let (events, _) = parse(hidden).unwrap();
        assert_eq!(events[0].subject.user_id, "US.13491208655302741918");
        assert!(events[0].aliases.is_empty());
        let both = String::from_utf8(hidden.to_vec()).unwrap().replace(
            r#""from_user_id""#,
            r#""from":"16505551234","from_user_id""#,
        );
        let (events, _) = parse(both.as_bytes()).unwrap();
        assert_eq!(events[0].aliases, ["16505551234"]);
        let prefs = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Pablo"},"wa_id":"16505551234","user_id":"US.13491208655302741918"}],"user_preferences":[{"wa_id":"16505551234","user_id":"US.13491208655302741918","detail":"User requested to stop marketing messages","category":"marketing_messages","value":"stop","timestamp":1731705721}]}}]}]}"#;
        let (events, _) = parse(prefs).unwrap();
        assert_eq!(
            (
                events[0].subject.user_id.as_str(),
                events[0].aliases.as_slice()
            ),
            ("US.13491208655302741918", &["16505551234".to_owned()][..])
        );
    }

    #[test]
    fn a_whatsapp_number_change_names_the_new_ids_and_the_old_ones() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"messages":[{"from":"16505551234","id":"wamid.S","timestamp":"1749416400","type":"system","system":{"body":"User A changed from 16505551234 to 16505550000","wa_id":"16505550000","user_id":"US.999","previous_user_id":"US.134","type":"user_changed_number"}}]}}]}]}"#;
        let (events, _) = parse(body).unwrap();
        let e = &events[0];
        assert_eq!(
            e.kind,
            InboundKind::IdentityChange {
                new_ids: vec!["US.999".into(), "16505550000".into()]
            }
        );
        assert_eq!(
            e.subject.user_id, "US.134",
            "the person is found by its old ids"
        );
        assert_eq!(e.aliases, ["16505551234"]);
        let other = String::from_utf8(body.to_vec())
            .unwrap()
            .replace("user_changed_number", "customer_identity_changed");
        assert_eq!(parse(other.as_bytes()).unwrap().0, vec![]);
    }

    #[test]
    fn whatsapp_statuses_are_ignored_and_preferences_are_consent() {
        let statuses = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.x","status":"delivered","timestamp":"1698266945","recipient_id":"16505551234"},{"id":"wamid.y","status":"read","timestamp":"1698266946","recipient_id":"16505551234"}]}}]}]}"#;
        assert_eq!(parse(statuses).unwrap(), (vec![], 2));
        let prefs = br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"wa_id":"16505551234"}],"user_preferences":[{"wa_id":"16505551234","detail":"User requested to stop marketing messages","category":"marketing_messages","value":"stop","timestamp":1731705721}]},"field":"user_preferences"}]}]}"#;
        let (events, _) = parse(prefs).unwrap();
        assert_eq!(
            events[0].kind,
            InboundKind::MarketingPreference(Action::Withdrawn)
        );
        assert_eq!(events[0].occurred_at_ms, 1_731_705_721_000);
        let resume = String::from_utf8(prefs.to_vec())
            .unwrap()
            .replace(r#""value":"stop""#, r#""value":"resume""#);
        let (events, _) = parse(resume.as_bytes()).unwrap();
        assert_eq!(
            events[0].kind,
            InboundKind::MarketingPreference(Action::Granted)
        );
    }

    #[test]
    fn messenger_texts_referrals_optins_and_status_changes() {
        let body = br#"{"object":"page","entry":[{"id":"PAGE","time":1,"messaging":[
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1457764197627,"message":{"mid":"mid.1457764197618:41d102a3e1ae206a38","text":"STOP"}},
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1458692752478,"referral":{"ref":"CODE1","source":"SHORTLINK","type":"OPEN_THREAD"}},
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1458692752479,"postback":{"title":"Get Started","payload":"GET_STARTED","referral":{"ref":"CODE2","source":"SHORTLINK","type":"OPEN_THREAD"}}},
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":"1458692752480","optin":{"type":"notification_messages","payload":"CODE3","notification_messages_token":"tok","notification_messages_timezone":"Asia/Tokyo","user_token_status":"NOT_REFRESHED","title":"Deals"}},
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1458692752481,"optin":{"type":"notification_messages","notification_messages_status":"STOP NOTIFICATIONS","notification_messages_token":"tok"}},
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1458692752482,"optin":{"type":"notification_messages","notification_messages_status":"RESUME_NOTIFICATIONS","notification_messages_token":"tok"}},
          {"sender":{"id":"PAGE"},"recipient":{"id":"PSID1"},"timestamp":1,"message":{"mid":"m2","is_echo":true,"text":"hi"}},
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1,"delivery":{"mids":["m1"],"watermark":1}},
          {"sender":{"id":"PSID1"},"recipient":{"id":"PAGE"},"timestamp":1,"read":{"watermark":1}}
        ]}]}"#;
        let (events, ignored) = parse(body).unwrap();
        assert_eq!(ignored, 3);
        let kinds: Vec<_> = events.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                InboundKind::Text("STOP".into()),
                InboundKind::Referral("CODE1".into()),
                InboundKind::Referral("CODE2".into()),
                InboundKind::MarketingOptin {
                    payload: Some("CODE3".into())
                },
                InboundKind::MarketingPreference(Action::Withdrawn),
                InboundKind::MarketingPreference(Action::Granted),
            ]
        );
        assert_eq!(
            events[0].platform_event_id,
            "mid.1457764197618:41d102a3e1ae206a38"
        );
        assert_eq!(events[3].occurred_at_ms, 1_458_692_752_480);
        assert!(events
            .iter()
            .all(|e| e.subject == Subject::new(Channel::Messenger, "PSID1")));
        assert_eq!(
            events[0].reply_to,
            ReplyTarget::Messenger {
                psid: "PSID1".into()
            }
        );
    }

    #[test]
    fn instagram_messages_and_comments() {
        let body = br#"{"object":"instagram","entry":[{"id":"IGID","time":1569262486134,
          "messaging":[{"sender":{"id":"IGSID1"},"recipient":{"id":"IGID"},"timestamp":1569262485349,"message":{"mid":"igmid1","text":"JOIN ABC"}}],
          "changes":[
            {"field":"comments","value":{"id":"17865799348089039","text":"Love it!","from":{"id":"IGSID2","username":"shopper"},"media":{"id":"123","media_product_type":"FEED"}}},
            {"field":"comments","value":{"id":"17865799348089040","text":"Thanks!","from":{"id":"IGID","username":"store"},"media":{"id":"123"}}},
            {"field":"mentions","value":{"media_id":"1"}}
          ]}]}"#;
        let (events, ignored) = parse(body).unwrap();
        assert_eq!(ignored, 2, "the account's own comment and other fields");
        assert_eq!(
            events[0].subject,
            Subject::new(Channel::Instagram, "IGSID1")
        );
        assert_eq!(
            events[0].reply_to,
            ReplyTarget::Instagram {
                igsid: "IGSID1".into()
            }
        );
        assert_eq!(
            events[1].kind,
            InboundKind::Comment {
                comment_id: "17865799348089039".into()
            }
        );
        assert_eq!(
            events[1].reply_to,
            ReplyTarget::InstagramComment {
                comment_id: "17865799348089039".into()
            }
        );
    }

    #[test]
    fn malformed_bodies_are_400_and_unknown_objects_ignored() {
        assert_eq!(parse(b"not json").unwrap_err().code(), "invalid_json");
        for body in [&br#"{"object":"page"}"#[..], b"[]"] {
            assert_eq!(parse(body).unwrap_err().code(), "invalid_payload");
        }
        assert_eq!(
            parse(br#"{"object":"permissions","entry":[{"id":"1","changes":[]}]}"#).unwrap(),
            (vec![], 1)
        );
    }
}
