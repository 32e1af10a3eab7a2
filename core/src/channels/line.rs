//! LINE Messaging API webhooks: the `x-line-signature` rule and the events we act on.
//!
//! Signature: base64(HMAC-SHA256(channel secret as UTF-8, raw body)), compared over the exact
//! bytes received (LINE sends raw UTF-8 and `\uXXXX` escapes alike; re-serialising changes them:
//! line-bot-sdk-nodejs issue #922). Events: <https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects>.

use base64::Engine as _;
use serde_json::Value;

use super::{Inbound, InboundKind, ReplyTarget, SignatureError};
use crate::consent::{Channel, Subject};
use crate::error::Error;
use crate::settings::secrets::Secret;
use crate::signing;

/// The header carrying the signature (case-insensitive, as all HTTP header names).
pub const SIGNATURE_HEADER: &str = "x-line-signature";

/// Checks `x-line-signature` against every configured channel secret (rotation).
///
/// # Errors
/// [`SignatureError`] when the header is missing, not base64 of 32 bytes, or matches no secret.
pub fn verify_signature(
    secrets: &[Secret],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = super::present(header)?;
    let tag = base64::engine::general_purpose::STANDARD
        .decode(header)
        .map_err(|_| SignatureError::Malformed)?;
    let tag = signing::FullTag::try_from(&tag[..]).map_err(|_| SignatureError::Malformed)?;
    if signing::verify_with_any(secrets, body, &tag) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The events of a verified LINE webhook body that concern consent, and how many were ignored.
///
/// Only one-to-one chats count: group and room sources never create consent. Events in standby
/// mode (another channel module is active) are recorded but must not be answered.
///
/// # Errors
/// 400 `invalid_json` when the body is not JSON, `invalid_payload` when it has no `events` array.
/// A single malformed event is skipped, not fatal: the others are still recorded.
pub fn parse(body: &[u8]) -> Result<(Vec<Inbound>, usize), Error> {
    let root: Value = serde_json::from_slice(body)?;
    let events = root
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::bad_request("invalid_payload", "A LINE webhook has an `events` array.")
        })?;
    let mut inbound = Vec::new();
    let mut ignored = 0;
    for event in events {
        match parse_event(event) {
            Some(e) => inbound.push(e),
            None => ignored += 1,
        }
    }
    Ok((inbound, ignored))
}

fn parse_event(event: &Value) -> Option<Inbound> {
    let source = event.get("source")?;
    if source.get("type")?.as_str()? != "user" {
        return None;
    }
    let user_id = source.get("userId")?.as_str()?.to_owned();
    let kind = match event.get("type")?.as_str()? {
        "follow" => InboundKind::Follow,
        "unfollow" => InboundKind::Unfollow,
        "message" => {
            let message = event.get("message")?;
            if message.get("type")?.as_str()? != "text" {
                return None;
            }
            InboundKind::Text(message.get("text")?.as_str()?.to_owned())
        }
        _ => return None,
    };
    let standby = event.get("mode").and_then(Value::as_str) == Some("standby");
    let reply_to = if standby {
        ReplyTarget::None
    } else {
        ReplyTarget::Line {
            user_id: user_id.clone(),
            reply_token: event
                .get("replyToken")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    };
    Some(Inbound {
        subject: Subject::new(Channel::Line, user_id),
        occurred_at_ms: event.get("timestamp")?.as_u64()?,
        platform_event_id: event.get("webhookEventId")?.as_str()?.to_owned(),
        kind,
        reply_to,
        aliases: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published vectors of LINE's own SDKs: (secret, body, signature).
    const SDK_VECTORS: [(&str, &str, &str); 3] = [
        // line-bot-sdk-nodejs, test/validate-signature.spec.ts
        (
            "test_secret",
            r#"{"hello":"world"}"#,
            "t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=",
        ),
        // line-bot-sdk-python, tests/v3/test_webhook.py
        (
            "channel_secret",
            "bodybodybodybody",
            "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k=",
        ),
        // line-bot-sdk-java, LineSignatureValidatorTest.java
        (
            "SECRET",
            "{}",
            "3q8QXTAGaey18yL8FWTqdVlbMr6hcuNvM4tefa0o9nA=",
        ),
    ];

    /// line-bot-sdk-nodejs, test/middleware.spec.ts: a body with raw UTF-8 emoji.
    const EMOJI_BODY: &str = "{\"events\":[{\"message\":{\"id\":\"test_event_message_id\",\"text\":\"this is test message.\u{1F604}\u{1F605}\u{1F622}\u{1F61E}\u{1F604}\u{1F605}\u{1F622}\u{1F61E}\",\"quoteToken\":\"test_quote_token\",\"type\":\"text\"},\"replyToken\":\"test_reply_token\",\"source\":{\"groupId\":\"test_group_id\",\"type\":\"group\"},\"webhookEventId\":\"test_webhook_event_id\",\"deliveryContext\":{\"isRedelivery\":false},\"timestamp\":0,\"mode\":\"active\",\"type\":\"message\"}],\"destination\":\"Uaaaabbbbccccddddeeeeffff\"}";
    const EMOJI_SIGNATURE: &str = "eRdWYcVCzZV3MVZ3M9/rHJCl/a3oSbsRb04cLovpVwM=";

    fn secrets(list: &[&str]) -> Vec<Secret> {
        list.iter().map(|s| Secret::new(*s)).collect()
    }

    #[test]
    fn line_sdk_published_vectors_verify() {
        for (secret, body, signature) in SDK_VECTORS {
            assert_eq!(
                verify_signature(&secrets(&[secret]), body.as_bytes(), Some(signature)),
                Ok(()),
                "{body}"
            );
        }
        assert_eq!(
            verify_signature(
                &secrets(&["test_channel_secret"]),
                EMOJI_BODY.as_bytes(),
                Some(EMOJI_SIGNATURE)
            ),
            Ok(())
        );
    }

    #[test]
    fn line_sdk_known_bad_signature_is_rejected() {
        // The nodejs SDK's own negative vector: two letters changed in case.
        assert_eq!(
            verify_signature(
                &secrets(&["test_secret"]),
                br#"{"hello":"world"}"#,
                Some("t7Hn4ZDHqs6e+wdvi5TyQivzie0DmMUmuXEBqyyE/tM=")
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn signature_failures_are_told_apart() {
        let s = secrets(&["test_secret"]);
        let body = br#"{"hello":"world"}"#;
        let cases = [
            (None, SignatureError::Missing),
            (Some(""), SignatureError::Missing),
            (Some("not base64!"), SignatureError::Malformed),
            (
                Some("t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE"),
                SignatureError::Malformed,
            ),
            (Some("dGVzdA=="), SignatureError::Malformed),
        ];
        for (header, want) in cases {
            assert_eq!(verify_signature(&s, body, header), Err(want), "{header:?}");
        }
        assert_eq!(
            verify_signature(&s, br#"{"hello":"world!"}"#, Some(SDK_VECTORS[0].2)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&[], body, Some(SDK_VECTORS[0].2)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rotation_accepts_either_secret() {
        let s = secrets(&["new-secret", "test_secret"]);
        assert_eq!(
            verify_signature(&s, br#"{"hello":"world"}"#, Some(SDK_VECTORS[0].2)),
            Ok(())
        );
    }

    #[test]
    fn follow_unfollow_and_text_become_inbound_events() {
        // Shapes from LINE's Messaging API reference.
        let body = br#"{"destination":"xxxxxxxxxx","events":[
          {"replyToken":"85cbe770fa8b4f45bbe077b1d4be4a36","type":"follow","mode":"active","timestamp":1705891467176,"source":{"type":"user","userId":"U3d3edab4f36c6292e6d8a8131f141b8b"},"webhookEventId":"01HMQGW40RZJPJM3RAJP7BHC2Q","deliveryContext":{"isRedelivery":false},"follow":{"isUnblocked":false}},
          {"type":"unfollow","mode":"active","timestamp":1462629479859,"source":{"type":"user","userId":"U4af4980629"},"webhookEventId":"01FZ74A0TDDPYRVKNK77XKC3ZR","deliveryContext":{"isRedelivery":false}},
          {"type":"message","message":{"type":"text","id":"14353798921116","text":"STOP"},"timestamp":1625665242211,"source":{"type":"user","userId":"U80696558e1aa831"},"replyToken":"757913772c4646b784d4b7ce46d12671","mode":"standby","webhookEventId":"01FZ74A0TDDPYRVKNK77XKC3ZS","deliveryContext":{"isRedelivery":true}}
        ]}"#;
        let (events, ignored) = parse(body).unwrap();
        assert_eq!(ignored, 0);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].kind, InboundKind::Follow);
        assert_eq!(
            events[0].subject.user_id,
            "U3d3edab4f36c6292e6d8a8131f141b8b"
        );
        assert_eq!(events[0].occurred_at_ms, 1_705_891_467_176);
        assert_eq!(events[0].platform_event_id, "01HMQGW40RZJPJM3RAJP7BHC2Q");
        assert!(
            matches!(&events[0].reply_to, ReplyTarget::Line { reply_token: Some(t), .. } if t == "85cbe770fa8b4f45bbe077b1d4be4a36")
        );
        assert_eq!(events[1].kind, InboundKind::Unfollow);
        assert!(matches!(
            &events[1].reply_to,
            ReplyTarget::Line {
                reply_token: None,
                ..
            }
        ));
        assert_eq!(events[2].kind, InboundKind::Text("STOP".into()));
        assert_eq!(
            events[2].reply_to,
            ReplyTarget::None,
            "standby: never answer"
        );
    }

    #[test]
    fn groups_rooms_other_types_and_broken_events_are_ignored() {
        let body = br#"{"events":[
          {"type":"follow","timestamp":1,"source":{"type":"group","groupId":"C1","userId":"U1"},"webhookEventId":"a"},
          {"type":"message","message":{"type":"text","id":"1","text":"STOP"},"timestamp":1,"source":{"type":"room","roomId":"R1","userId":"U1"},"webhookEventId":"b"},
          {"type":"message","message":{"type":"sticker","id":"2"},"timestamp":1,"source":{"type":"user","userId":"U1"},"webhookEventId":"c"},
          {"type":"postback","timestamp":1,"source":{"type":"user","userId":"U1"},"webhookEventId":"d"},
          {"type":"follow","source":{"type":"user","userId":"U1"},"webhookEventId":"no-timestamp"},
          42
        ]}"#;
        let (events, ignored) = parse(body).unwrap();
        assert!(events.is_empty());
        assert_eq!(ignored, 6);
    }

    #[test]
    fn the_console_connection_check_has_no_events() {
        assert_eq!(
            parse(br#"{"destination":"xxxxxxxxxx","events":[]}"#).unwrap(),
            (vec![], 0)
        );
    }

    #[test]
    fn malformed_bodies_are_400_with_a_code() {
        assert_eq!(parse(b"{").unwrap_err().code(), "invalid_json");
        assert_eq!(parse(b"[]").unwrap_err().code(), "invalid_payload");
        assert_eq!(
            parse(br#"{"events":{}}"#).unwrap_err().code(),
            "invalid_payload"
        );
    }
}
