//! The Kantara Initiative Consent Receipt v1.1 (`KI-CR-v1.1.0`) of a grant: the shopper's and
//! the regulator's copy of what was consented to, with whom, how and when. Its shape is the
//! Initiative's published v1.1 JSON Schema (`CR_v1_1/kantara-consent-receipt-v1_1-schema.json`
//! of `KantaraInitiative/consent-receipt-v-next`), which the tests validate every receipt against
//! with an independent validator.

use serde::Serialize;
use serde_json::json;

use crate::consent::{Action, Collection, ConsentEvent, Controller};
use crate::ids::MemberNumber;
use crate::lang::Lang;

/// The specification version every receipt names.
pub const VERSION: &str = "KI-CR-v1.1.0";

/// A consent receipt (field names as the specification spells them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub version: &'static str,
    pub jurisdiction: String,
    /// When consent was given on the platform, Unix seconds.
    pub consent_timestamp: u64,
    pub collection_method: String,
    /// The ledger event's id: one grant, one receipt, the same each time it is produced.
    #[serde(rename = "consentReceiptID")]
    pub consent_receipt_id: String,
    pub language: &'static str,
    /// The member number (the shopper's id at the controller, printed on the card).
    pub pii_principal_id: String,
    pub pii_controllers: Vec<serde_json::Value>,
    pub policy_url: String,
    pub services: Vec<serde_json::Value>,
    pub sensitive: bool,
    pub spi_cat: Vec<String>,
}

/// What a receipt takes besides the event: the member, where the notices live, and the
/// controller and jurisdiction configured now (for events recorded before they were).
pub struct Details<'a> {
    pub member: MemberNumber,
    pub public_base_url: &'a str,
    pub controller: &'a Controller,
    pub jurisdiction: &'a str,
    /// For events that do not say the shopper's language: the member's, else the default.
    pub default_lang: Lang,
}

/// The receipt of a grant; `None` for a withdrawal (it ends a consent, it gives none).
pub fn of(event: &ConsentEvent, ctx: &Details<'_>) -> Option<Receipt> {
    if event.action != Action::Granted {
        return None;
    }
    let lang = event
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(ctx.default_lang);
    let controller = event.controller.as_ref().unwrap_or(ctx.controller);
    let card_only = event.card_only();
    let t = if card_only {
        card_texts(lang)
    } else {
        texts(lang)
    };
    // Kantara CR v1.1's purpose categories: marketing, or the service asked for (the card)
    // and being contacted (the chat) where the platform carries no marketing.
    let categories: &[&str] = if card_only {
        &["2 - Contracted Service", "4 - Contact Me"]
    } else {
        &["6 - Marketing"]
    };
    let app = event.subject.channel.app_name();
    let policy_url = match &event.notice_version {
        Some(v) => format!(
            "{}/privacy/{}",
            ctx.public_base_url,
            crate::channels::links::percent_encode(v)
        ),
        None => format!("{}/privacy", ctx.public_base_url),
    };
    Some(Receipt {
        version: VERSION,
        jurisdiction: event
            .jurisdiction
            .clone()
            .unwrap_or_else(|| ctx.jurisdiction.to_owned()),
        consent_timestamp: event.occurred_at_ms / 1000,
        collection_method: collection_text(lang, event.collection).to_owned(),
        consent_receipt_id: event.event_id.clone(),
        language: lang.code(),
        pii_principal_id: ctx.member.to_string(),
        pii_controllers: vec![json!({
            "piiController": controller.name,
            "contact": controller.name,
            "address": { "streetAddress": controller.address },
            "email": controller.email,
            "phone": controller.phone,
            "piiControllerUrl": ctx.public_base_url,
        })],
        policy_url,
        services: vec![json!({
            "service": t.service.replace("{app}", app),
            "purposes": [{
                "purpose": t.purpose.replace("{app}", app),
                "purposeCategory": categories,
                "consentType": "EXPLICIT",
                "piiCategory": ["2 - Contact", "4 - Communications/Social"],
                "primaryPurpose": true,
                "termination": t.termination,
                "thirdPartyDisclosure": false,
            }],
        })],
        sensitive: false,
        spi_cat: Vec::new(),
    })
}

struct Texts {
    service: &'static str,
    purpose: &'static str,
    termination: &'static str,
}

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &Texts {
            service: "Membership card and marketing messages on {app}",
            purpose: "Sending you our flyers, coupons and offers on {app}, and recommendations after a purchase made with your card",
            termination: "Until you withdraw: send STOP, block the account, or tap “Stop messages” on your card. The evidence of this consent is then kept for the retention period and deleted.",
        },
        Lang::Ja => &Texts {
            service: "{app}での会員証とお知らせ配信",
            purpose: "{app}でのチラシ・クーポン・キャンペーンのお知らせ、および会員証を使ったお買い物後のおすすめの配信",
            termination: "配信停止まで（「停止」の送信、アカウントのブロック、または会員証の「配信を停止する」）。その後、同意の記録は保存期間の経過後に削除されます。",
        },
        Lang::Fr => &Texts {
            service: "Carte de membre et messages marketing sur {app}",
            purpose: "Vous envoyer nos prospectus, coupons et offres sur {app}, et des recommandations après un achat fait avec votre carte",
            termination: "Jusqu’à votre retrait : envoyez STOP, bloquez le compte ou touchez « Arrêter les messages » sur votre carte. La preuve de ce consentement est ensuite conservée pendant la durée de conservation, puis supprimée.",
        },
    }
}

/// The words of a receipt for the card only (purpose `card`): no offers, no marketing.
fn card_texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &Texts {
            service: "Membership card and a chat with the store on {app}",
            purpose: "Your membership card and coupons, and answers from the store on {app}: no marketing messages",
            termination: "Until you withdraw: send STOP, block the account, or tap “Stop messages” on your card. The evidence of this consent is then kept for the retention period and deleted.",
        },
        Lang::Ja => &Texts {
            service: "{app}での会員証と店舗とのチャット",
            purpose: "{app}での会員証・クーポンのご案内と店舗からのご返信（マーケティングメッセージは含みません）",
            termination: "停止まで（「停止」の送信、アカウントのブロック、または会員証の「配信を停止する」）。その後、同意の記録は保存期間の経過後に削除されます。",
        },
        Lang::Fr => &Texts {
            service: "Carte de membre et discussion avec le magasin sur {app}",
            purpose: "Votre carte de membre et vos coupons, et les réponses du magasin sur {app} : aucun message marketing",
            termination: "Jusqu’à votre retrait : envoyez STOP, bloquez le compte ou touchez « Arrêter les messages » sur votre carte. La preuve de ce consentement est ensuite conservée pendant la durée de conservation, puis supprimée.",
        },
    }
}

/// How a consent was collected, in words (receipts and the shopper's data page).
pub fn collection_text(lang: Lang, collection: Option<Collection>) -> &'static str {
    use Collection as C;
    match (lang, collection) {
        (Lang::En, Some(C::LandingPageAndChat)) => "Store QR code and landing page with the consent notice, then a message in the app",
        (Lang::En, Some(C::CardLinkAndChat)) => "Button on the membership card, then a message in the app",
        (Lang::En, Some(C::ChatMessage)) => "JOIN message sent in the app",
        (Lang::En, Some(C::ChatFollow)) => "Account added as a friend in the app",
        (Lang::En, Some(C::PlatformOptin)) => "The app's own marketing-messages opt-in",
        (Lang::En, Some(C::PlatformPreference)) => "The app's marketing-messages setting",
        (Lang::En, Some(C::ChatKeyword)) => "Stop word sent in the app",
        (Lang::En, Some(C::ChatBlock)) => "Account blocked in the app",
        (Lang::En, Some(C::CardPage)) => "Stop button on the membership card",
        (Lang::En, None) => "Message in the app",
        (Lang::Ja, Some(C::LandingPageAndChat)) => "店頭QRコードと同意事項を表示したページから、アプリでのメッセージ",
        (Lang::Ja, Some(C::CardLinkAndChat)) => "会員証のボタンから、アプリでのメッセージ",
        (Lang::Ja, Some(C::ChatMessage)) => "アプリで送信された「JOIN」メッセージ",
        (Lang::Ja, Some(C::ChatFollow)) => "アプリでの友だち追加",
        (Lang::Ja, Some(C::PlatformOptin)) => "アプリのマーケティングメッセージ受信の同意",
        (Lang::Ja, Some(C::PlatformPreference)) => "アプリのマーケティングメッセージ設定",
        (Lang::Ja, Some(C::ChatKeyword)) => "アプリで送信された停止キーワード",
        (Lang::Ja, Some(C::ChatBlock)) => "アプリでのブロック",
        (Lang::Ja, Some(C::CardPage)) => "会員証の配信停止ボタン",
        (Lang::Ja, None) => "アプリでのメッセージ",
        (Lang::Fr, Some(C::LandingPageAndChat)) => "QR code du magasin et page d’accueil avec la notice de consentement, puis message dans l’application",
        (Lang::Fr, Some(C::CardLinkAndChat)) => "Bouton de la carte de membre, puis message dans l’application",
        (Lang::Fr, Some(C::ChatMessage)) => "Message JOIN envoyé dans l’application",
        (Lang::Fr, Some(C::ChatFollow)) => "Compte ajouté en ami dans l’application",
        (Lang::Fr, Some(C::PlatformOptin)) => "Accord de l’application pour les messages marketing",
        (Lang::Fr, Some(C::PlatformPreference)) => "Réglage des messages marketing de l’application",
        (Lang::Fr, Some(C::ChatKeyword)) => "Mot d’arrêt envoyé dans l’application",
        (Lang::Fr, Some(C::ChatBlock)) => "Compte bloqué dans l’application",
        (Lang::Fr, Some(C::CardPage)) => "Bouton d’arrêt de la carte de membre",
        (Lang::Fr, None) => "Message dans l’application",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::tests::event;

    fn controller() -> Controller {
        Controller {
            name: "Demo Retail K.K.".into(),
            address: "1-1 Dogenzaka, Shibuya, Tokyo".into(),
            email: "privacy@example.com".into(),
            phone: "+81 3 0000 0000".into(),
        }
    }

    fn ctx(c: &Controller) -> Details<'_> {
        Details {
            member: MemberNumber::from_body(42),
            public_base_url: "https://shop.example",
            controller: c,
            jurisdiction: "JP",
            default_lang: Lang::En,
        }
    }

    #[test]
    fn a_grant_gets_a_receipt_with_every_field_the_schema_requires() {
        let c = controller();
        let mut grant = event("e1", 1_795_000_000_123, Action::Granted, "U1");
        grant.notice_version = Some("2026 11".into());
        grant.lang = Some("fr".into());
        grant.collection = Some(Collection::LandingPageAndChat);
        let r = serde_json::to_value(of(&grant, &ctx(&c)).unwrap()).unwrap();
        for field in [
            "version",
            "jurisdiction",
            "consentTimestamp",
            "collectionMethod",
            "consentReceiptID",
            "piiPrincipalId",
            "piiControllers",
            "services",
            "policyUrl",
            "sensitive",
            "spiCat",
        ] {
            assert!(r.get(field).is_some(), "{field}");
        }
        assert_eq!(r["version"], "KI-CR-v1.1.0");
        assert_eq!(r["consentTimestamp"], 1_795_000_000);
        assert_eq!(r["language"], "fr");
        assert_eq!(r["policyUrl"], "https://shop.example/privacy/2026%2011");
        assert_eq!(r["piiControllers"][0]["piiController"], "Demo Retail K.K.");
        assert_eq!(r["piiPrincipalId"], MemberNumber::from_body(42).to_string());
        let purpose = &r["services"][0]["purposes"][0];
        assert_eq!(purpose["thirdPartyDisclosure"], false);
        assert!(r["services"][0]["service"]
            .as_str()
            .unwrap()
            .contains("WhatsApp"));
    }

    #[test]
    fn the_controller_in_force_when_recorded_wins_over_todays() {
        let today = controller();
        let mut grant = event("e1", 1, Action::Granted, "U1");
        grant.controller = Some(Controller {
            name: "Old Retail".into(),
            ..controller()
        });
        grant.jurisdiction = Some("FR".into());
        let r = of(&grant, &ctx(&today)).unwrap();
        assert_eq!(r.pii_controllers[0]["piiController"], "Old Retail");
        assert_eq!(r.jurisdiction, "FR");
        let older = event("e2", 1, Action::Granted, "U1");
        let r = of(&older, &ctx(&today)).unwrap();
        assert_eq!(r.pii_controllers[0]["piiController"], "Demo Retail K.K.");
        assert_eq!(r.jurisdiction, "JP");
        assert_eq!(r.policy_url, "https://shop.example/privacy");
    }

    /// A grant for the card only names that purpose, and no marketing.
    #[test]
    fn a_card_only_grant_is_no_consent_to_marketing() {
        let c = controller();
        let mut grant = event("e1", 1, Action::Granted, "U1");
        let marketing = of(&grant, &ctx(&c)).unwrap();
        assert_eq!(
            marketing.services[0]["purposes"][0]["purposeCategory"],
            json!(["6 - Marketing"])
        );
        grant.purpose = crate::consent::PURPOSE_CARD.into();
        let card = of(&grant, &ctx(&c)).unwrap();
        let purpose = &card.services[0]["purposes"][0];
        assert_eq!(
            purpose["purposeCategory"],
            json!(["2 - Contracted Service", "4 - Contact Me"])
        );
        let words = purpose["purpose"].as_str().unwrap();
        assert!(words.contains("no marketing"), "{words}");
    }

    #[test]
    fn a_withdrawal_has_no_receipt() {
        let c = controller();
        assert!(of(&event("w", 1, Action::Withdrawn, "U1"), &ctx(&c)).is_none());
    }
}
