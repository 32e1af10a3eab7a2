//! Replies to shoppers in their channel: the texts (ja / en / fr) and the exact HTTP requests of
//! the platforms' send APIs. Pure: the edge adds the access token and sends them after the
//! webhook has been answered.
//!
//! - LINE: reply API with the reply token when there is one, else push with an
//!   `X-Line-Retry-Key` (a UUID; a retried push with the same key is sent at most once).
//!   <https://developers.line.biz/en/reference/messaging-api/#send-reply-message>
//! - WhatsApp: `POST /{version}/{phone-number-id}/messages`, `type: text`.
//! - Messenger / Instagram: `POST /{version}/me/messages`; Instagram comments get a private reply
//!   with `recipient.comment_id` (one per comment, within 7 days).

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::channels::ReplyTarget;
use crate::lang::Lang;

/// The Graph API version the requests use (v24.0 is served until February 2028).
pub const GRAPH_API_VERSION: &str = "v24.0";

/// Which platform's access token a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Line,
    Graph,
}

/// One request to a platform's send API.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub platform: Platform,
    pub url: String,
    pub body: Value,
    /// `X-Line-Retry-Key` for LINE pushes.
    pub retry_key: Option<String>,
}

/// What to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// After a grant: the card link.
    Welcome { card_url: String },
    /// After a withdrawal: a confirmation with no marketing in it.
    WithdrawalConfirmation,
    /// Messenger / Instagram: the platform's marketing-messages opt-in request, carrying the
    /// join code in its payload.
    /// `offers`: whether the channel carries marketing for the code's store (else the request
    /// promises the card only: `channels::reach`).
    OptinRequest { code: String, offers: bool },
    /// Instagram comment: the private reply inviting the shopper to opt in, with the notice.
    CommentInvitation { privacy_url: String },
}

/// The base URLs of the platforms' APIs (from configuration).
#[derive(Debug, Clone)]
pub struct ApiBases<'a> {
    pub line: &'a str,
    pub graph: &'a str,
    /// The WhatsApp phone-number id to send from when the event did not say.
    pub whatsapp_phone_number_id: Option<&'a str>,
}

/// The text of a message in a language.
pub fn text(message: &Message, lang: Lang) -> String {
    match (message, lang) {
        (Message::Welcome { card_url }, Lang::En) => format!(
            "Welcome to our members' club! Your membership card: {card_url}\nShow its barcode at the till to use your coupons. Reply STOP at any time to stop these messages."
        ),
        (Message::Welcome { card_url }, Lang::Ja) => format!(
            "会員登録ありがとうございます！会員証はこちらです：{card_url}\nレジでバーコードを見せるとクーポンをご利用いただけます。配信を止めるときは「停止」と送ってください。"
        ),
        (Message::Welcome { card_url }, Lang::Fr) => format!(
            "Bienvenue au club des membres ! Votre carte de membre : {card_url}\nMontrez son code-barres en caisse pour utiliser vos coupons. Répondez STOP à tout moment pour ne plus recevoir ces messages."
        ),
        (Message::WithdrawalConfirmation, Lang::En) => {
            "You are unsubscribed: you will not receive marketing messages from us any more.".into()
        }
        (Message::WithdrawalConfirmation, Lang::Ja) => {
            "配信を停止しました。今後、マーケティングメッセージはお送りしません。".into()
        }
        (Message::WithdrawalConfirmation, Lang::Fr) => {
            "Votre désinscription est enregistrée : vous ne recevrez plus de messages marketing de notre part.".into()
        }
        (Message::OptinRequest { offers: true, .. }, Lang::En) => "Coupons and offers from our stores".into(),
        (Message::OptinRequest { offers: true, .. }, Lang::Ja) => "店舗のクーポンとお得な情報".into(),
        (Message::OptinRequest { offers: true, .. }, Lang::Fr) => "Coupons et offres de nos magasins".into(),
        (Message::OptinRequest { offers: false, .. }, Lang::En) => "Your membership card from our stores".into(),
        (Message::OptinRequest { offers: false, .. }, Lang::Ja) => "店舗の会員証".into(),
        (Message::OptinRequest { offers: false, .. }, Lang::Fr) => "Votre carte de membre de nos magasins".into(),
        (Message::CommentInvitation { privacy_url }, Lang::En) => format!(
            "Thanks for your comment! Reply JOIN to get your digital membership card and a chat with the store. How we use your data: {privacy_url}"
        ),
        (Message::CommentInvitation { privacy_url }, Lang::Ja) => format!(
            "コメントありがとうございます！「JOIN」と返信すると、デジタル会員証をお届けし、店舗とチャットでやり取りできます。データの取り扱い：{privacy_url}"
        ),
        (Message::CommentInvitation { privacy_url }, Lang::Fr) => format!(
            "Merci pour votre commentaire ! Répondez JOIN pour recevoir votre carte de membre numérique et discuter avec le magasin. Vos données : {privacy_url}"
        ),
    }
}

/// The send request for a message to a target, or `None` when the target cannot be messaged
/// (LINE standby mode) or the message does not exist on that channel.
/// `seed` makes the LINE retry key: the same event always gets the same key.
pub fn build(
    target: &ReplyTarget,
    message: &Message,
    lang: Lang,
    bases: &ApiBases<'_>,
    seed: &str,
) -> Option<Outbound> {
    let words = text(message, lang);
    let graph = |path: &str, body: Value| Outbound {
        platform: Platform::Graph,
        url: format!("{}/{GRAPH_API_VERSION}/{path}", bases.graph),
        body,
        retry_key: None,
    };
    match target {
        ReplyTarget::None => None,
        ReplyTarget::Line {
            user_id,
            reply_token,
        } => {
            if matches!(
                message,
                Message::OptinRequest { .. } | Message::CommentInvitation { .. }
            ) {
                return None;
            }
            let messages = json!([{ "type": "text", "text": words }]);
            Some(match reply_token {
                Some(token) => Outbound {
                    platform: Platform::Line,
                    url: format!("{}/v2/bot/message/reply", bases.line),
                    body: json!({ "replyToken": token, "messages": messages }),
                    retry_key: None,
                },
                None => Outbound {
                    platform: Platform::Line,
                    url: format!("{}/v2/bot/message/push", bases.line),
                    body: json!({ "to": user_id, "messages": messages }),
                    retry_key: Some(uuid_from(seed)),
                },
            })
        }
        ReplyTarget::Whatsapp {
            phone_number_id,
            to,
        } => {
            if !matches!(
                message,
                Message::Welcome { .. } | Message::WithdrawalConfirmation
            ) {
                return None;
            }
            let from = phone_number_id
                .as_deref()
                .or(bases.whatsapp_phone_number_id)?;
            // A business-scoped user id goes in `recipient`, a phone number in `to` (Meta,
            // "Business-scoped user IDs": sending to a BSUID in `to` fails).
            let field = if crate::members::is_business_scoped(to) {
                "recipient"
            } else {
                "to"
            };
            Some(graph(
                &format!("{from}/messages"),
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    field: to,
                    "type": "text",
                    "text": { "preview_url": false, "body": words },
                }),
            ))
        }
        ReplyTarget::Messenger { psid } => Some(graph(
            "me/messages",
            match message {
                Message::OptinRequest { code, .. } => json!({
                    "recipient": { "id": psid },
                    "messaging_type": "RESPONSE",
                    "message": { "attachment": { "type": "template", "payload": {
                        "template_type": "notification_messages",
                        "title": words,
                        "payload": code,
                        "notification_messages_cta_text": "GET_UPDATES",
                    }}},
                }),
                _ => json!({
                    "recipient": { "id": psid },
                    "messaging_type": "RESPONSE",
                    "message": { "text": words },
                }),
            },
        )),
        ReplyTarget::Instagram { igsid } => Some(graph(
            "me/messages",
            match message {
                Message::OptinRequest { code, .. } => json!({
                    "recipient": { "id": igsid },
                    "message": { "attachment": { "type": "template", "payload": {
                        "template_type": "notification_messages",
                        "elements": [{ "title": words, "payload": code }],
                    }}},
                }),
                _ => json!({ "recipient": { "id": igsid }, "message": { "text": words } }),
            },
        )),
        ReplyTarget::InstagramComment { comment_id } => match message {
            Message::CommentInvitation { .. } => Some(graph(
                "me/messages",
                json!({ "recipient": { "comment_id": comment_id }, "message": { "text": words } }),
            )),
            _ => None,
        },
    }
}

/// A version-4-shaped UUID derived from `seed` (LINE wants a UUID as retry key; deriving it
/// keeps our own retries of the same reply idempotent).
pub fn uuid_from(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::encoding::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASES: ApiBases<'static> = ApiBases {
        line: "https://api.line.me",
        graph: "https://graph.facebook.com",
        whatsapp_phone_number_id: Some("106540352242922"),
    };

    fn welcome() -> Message {
        Message::Welcome {
            card_url: "https://shop.example/card/ABC".into(),
        }
    }

    #[test]
    fn line_replies_with_the_token_and_pushes_without_one() {
        let reply = build(
            &ReplyTarget::Line {
                user_id: "U1".into(),
                reply_token: Some("rt".into()),
            },
            &welcome(),
            Lang::Ja,
            &BASES,
            "e1",
        )
        .unwrap();
        assert_eq!(reply.url, "https://api.line.me/v2/bot/message/reply");
        assert_eq!(reply.body["replyToken"], "rt");
        assert_eq!(reply.body["messages"][0]["type"], "text");
        assert!(reply.body["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("https://shop.example/card/ABC"));
        assert_eq!(reply.retry_key, None, "LINE refuses retry keys on replies");

        let push = build(
            &ReplyTarget::Line {
                user_id: "U1".into(),
                reply_token: None,
            },
            &Message::WithdrawalConfirmation,
            Lang::En,
            &BASES,
            "e1",
        )
        .unwrap();
        assert_eq!(push.url, "https://api.line.me/v2/bot/message/push");
        assert_eq!(push.body["to"], "U1");
        assert_eq!(push.retry_key.as_deref(), Some(uuid_from("e1").as_str()));
    }

    #[test]
    fn whatsapp_sends_a_text_from_the_receiving_number() {
        let out = build(
            &ReplyTarget::Whatsapp {
                phone_number_id: Some("277321005464405".into()),
                to: "16505551234".into(),
            },
            &welcome(),
            Lang::Fr,
            &BASES,
            "e",
        )
        .unwrap();
        assert_eq!(
            out.url,
            "https://graph.facebook.com/v24.0/277321005464405/messages"
        );
        assert_eq!(out.body["messaging_product"], "whatsapp");
        assert_eq!(out.body["to"], "16505551234");
        assert_eq!(out.body["type"], "text");
        assert!(out.body["text"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Bienvenue"));
    }

    #[test]
    fn messenger_optin_request_carries_the_code() {
        let out = build(
            &ReplyTarget::Messenger {
                psid: "PSID".into(),
            },
            &Message::OptinRequest {
                code: "CODE".into(),
                offers: true,
            },
            Lang::En,
            &BASES,
            "e",
        )
        .unwrap();
        assert_eq!(out.url, "https://graph.facebook.com/v24.0/me/messages");
        let payload = &out.body["message"]["attachment"]["payload"];
        assert_eq!(payload["template_type"], "notification_messages");
        assert_eq!(payload["payload"], "CODE");
        assert!(payload["title"].as_str().unwrap().chars().count() <= 65);
    }

    #[test]
    fn instagram_comment_gets_a_private_reply() {
        let out = build(
            &ReplyTarget::InstagramComment {
                comment_id: "178".into(),
            },
            &Message::CommentInvitation {
                privacy_url: "https://shop.example/privacy".into(),
            },
            Lang::En,
            &BASES,
            "e",
        )
        .unwrap();
        assert_eq!(out.body["recipient"]["comment_id"], "178");
        assert!(out.body["message"]["text"]
            .as_str()
            .unwrap()
            .contains("JOIN"));
    }

    #[test]
    fn nothing_is_sent_in_standby_or_where_a_message_has_no_form() {
        assert_eq!(
            build(&ReplyTarget::None, &welcome(), Lang::En, &BASES, "e"),
            None
        );
        let line = ReplyTarget::Line {
            user_id: "U".into(),
            reply_token: None,
        };
        assert_eq!(
            build(
                &line,
                &Message::CommentInvitation {
                    privacy_url: String::new()
                },
                Lang::En,
                &BASES,
                "e"
            ),
            None
        );
    }

    #[test]
    fn withdrawal_confirmations_carry_no_link() {
        for lang in Lang::ALL {
            let t = text(&Message::WithdrawalConfirmation, lang);
            assert!(!t.contains("http"), "{t}");
        }
    }

    #[test]
    fn retry_keys_are_uuids() {
        let u = uuid_from("seed");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(u
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(u, uuid_from("seed2"));
    }
}
