//! The member's card (`GET /card/{card}`): the member barcode to show at the till, the coupons
//! usable now each with its own barcode, the favourite store (a plain form), the member's
//! channels with buttons to add the others (link codes), and a one-tap stop. Works without
//! JavaScript; `card.js` only adds the offline copy (a service worker) and an expiry notice.

use maud::{html, Markup, PreEscaped};

use crate::channels::links::ChannelLink;
use crate::consent::{Channel, ConsentState};
use crate::coupons::Coupon;
use crate::lang::Lang;
use crate::members::MemberRecord;
use crate::pages::layout::document_with_script;
use crate::pages::texts::{texts as page_texts, what_it_brings};
use crate::stores::Store;
use crate::time::utc_day;

/// A coupon as the card shows it.
pub struct CardCoupon<'a> {
    pub coupon: &'a Coupon,
    /// Inline SVG of its barcode.
    pub barcode_svg: String,
}

/// Everything the card page shows.
pub struct CardView<'a> {
    pub lang: Lang,
    /// The card reference of the URL (form actions post back to it).
    pub card_ref: &'a str,
    pub member: &'a MemberRecord,
    /// Inline SVG of the member barcode.
    pub member_barcode_svg: String,
    /// When the barcodes on this page expire (Unix seconds).
    pub barcodes_expire_at: u64,
    pub stores: &'a [Store],
    pub coupons: Vec<CardCoupon<'a>>,
    /// "Also get it on …" buttons (link codes), for configured channels the member lacks.
    pub add_links: Vec<ChannelLink>,
    /// The country a link code's grant is judged by (`JURISDICTION`'s: a link carries no
    /// store): which of those buttons bring offers.
    pub country: Option<&'a str>,
    /// Which wallet buttons to offer (each only when its settings are all usable).
    pub wallets: Wallets,
}

/// The wallets the card page offers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wallets {
    pub apple: bool,
    pub google: bool,
}

/// The wallet buttons' words: each platform's own wording of "add to" in the language
/// (Apple's Japanese guidelines write 「Appleウォレットに追加」, Google's 「Google ウォレットに追加」).
fn wallet_words(lang: Lang) -> (&'static str, &'static str, &'static str) {
    match lang {
        Lang::Ja => (
            "ウォレットに保存",
            "Appleウォレットに追加",
            "Google ウォレットに追加",
        ),
        Lang::En => (
            "Keep it in your wallet",
            "Add to Apple Wallet",
            "Add to Google Wallet",
        ),
        Lang::Fr => (
            "Dans votre portefeuille",
            "Ajouter à Apple Wallet",
            "Ajouter à Google Wallet",
        ),
    }
}

/// Apple's wallet: three cards in a pocket, drawn here (no third-party request).
const APPLE_WALLET_ICON: &str = r##"<svg class="wallet-icon" viewBox="0 0 32 24" width="32" height="24" aria-hidden="true" focusable="false"><rect x="1" y="1" width="30" height="22" rx="4" fill="#fff"/><rect x="3" y="3" width="26" height="6" rx="2" fill="#3b9ae1"/><rect x="3" y="6" width="26" height="6" rx="2" fill="#f4b300"/><rect x="3" y="9" width="26" height="6" rx="2" fill="#e5533d"/><path d="M1 13h9a6 4 0 0 0 12 0h9v6a4 4 0 0 1-4 4H5a4 4 0 0 1-4-4z" fill="#d9d9d9"/></svg>"##;
/// Google's wallet: a card with the four colours, drawn here.
const GOOGLE_WALLET_ICON: &str = r##"<svg class="wallet-icon" viewBox="0 0 32 24" width="32" height="24" aria-hidden="true" focusable="false"><rect x="2" y="2" width="28" height="20" rx="4" fill="#4285f4"/><rect x="2" y="6" width="28" height="5" fill="#34a853"/><rect x="2" y="9" width="28" height="5" fill="#fbbc04"/><path d="M2 13h28v5a4 4 0 0 1-4 4H6a4 4 0 0 1-4-4z" fill="#ea4335"/></svg>"##;

struct CardTexts {
    title: &'static str,
    show_at_till: &'static str,
    member_number: &'static str,
    valid_until: &'static str,
    offline_expired: &'static str,
    /// Also said by the admin console's coupon preview (`CARD_WORDS` of
    /// `static/assets/console/words.js`; a test below keeps the two alike), as is `coupon_until`.
    coupons: &'static str,
    no_coupons: &'static str,
    coupon_until: &'static str,
    favourite: &'static str,
    favourite_none: &'static str,
    favourite_save: &'static str,
    channels: &'static str,
    receiving: &'static str,
    /// An app granted for the card only: no offers reach it.
    receiving_card: &'static str,
    stopped: &'static str,
    add_channel: &'static str,
    your_data: &'static str,
    stop_title: &'static str,
    stop_hint: &'static str,
    stop_button: &'static str,
    stopped_already: &'static str,
    stopped_title: &'static str,
    stopped_body: &'static str,
    back_to_card: &'static str,
}

fn card_texts(lang: Lang) -> &'static CardTexts {
    match lang {
        Lang::En => &CardTexts {
            title: "Membership card",
            show_at_till: "Show this code at the till.",
            member_number: "Member number",
            valid_until: "Barcodes valid until",
            offline_expired: "These barcodes have expired. Open your card once with a connection to renew them.",
            coupons: "Your coupons",
            no_coupons: "No coupons right now. New ones arrive in your chat app.",
            coupon_until: "Valid until",
            favourite: "Favourite store",
            favourite_none: "Not chosen yet",
            favourite_save: "Save",
            channels: "Your apps",
            receiving: "receiving offers",
            receiving_card: "card and chat (no offers on this app)",
            stopped: "messages stopped",
            add_channel: "Also get it on",
            your_data: "Your data: every consent and your receipts",
            stop_title: "Stop marketing messages",
            stop_hint: "One tap stops our offers in every app linked to this card. Your card stays.",
            stop_button: "Stop messages",
            stopped_already: "You receive no marketing messages from us.",
            stopped_title: "Messages stopped",
            stopped_body: "You will not receive marketing messages from us any more, in any app. Your card still works at the till.",
            back_to_card: "Back to my card",
        },
        Lang::Ja => &CardTexts {
            title: "会員証",
            show_at_till: "レジでこのコードをお見せください。",
            member_number: "会員番号",
            valid_until: "バーコードの有効期限",
            offline_expired: "バーコードの有効期限が切れています。通信できる場所で一度会員証を開くと更新されます。",
            coupons: "クーポン",
            no_coupons: "現在ご利用いただけるクーポンはありません。新しいクーポンはチャットでお届けします。",
            coupon_until: "有効期限",
            favourite: "お気に入り店舗",
            favourite_none: "未設定",
            favourite_save: "保存",
            channels: "ご利用中のアプリ",
            receiving: "お知らせ受信中",
            receiving_card: "会員証とチャット(このアプリではお得情報は届きません)",
            stopped: "配信停止中",
            add_channel: "ほかのアプリでも受け取る：",
            your_data: "お客様のデータ：同意の記録とレシート",
            stop_title: "配信停止",
            stop_hint: "この会員証に連携したすべてのアプリで、お知らせの配信を停止します。会員証はそのままご利用いただけます。",
            stop_button: "配信を停止する",
            stopped_already: "マーケティングメッセージは配信されていません。",
            stopped_title: "配信を停止しました",
            stopped_body: "今後、どのアプリにもマーケティングメッセージはお送りしません。会員証は引き続きレジでご利用いただけます。",
            back_to_card: "会員証に戻る",
        },
        Lang::Fr => &CardTexts {
            title: "Carte de membre",
            show_at_till: "Présentez ce code en caisse.",
            member_number: "Numéro de membre",
            valid_until: "Codes-barres valables jusqu’au",
            offline_expired: "Ces codes-barres ont expiré. Ouvrez votre carte une fois avec une connexion pour les renouveler.",
            coupons: "Vos coupons",
            no_coupons: "Aucun coupon pour l’instant. Les nouveaux arrivent dans votre messagerie.",
            coupon_until: "Valable jusqu’au",
            favourite: "Magasin préféré",
            favourite_none: "Pas encore choisi",
            favourite_save: "Enregistrer",
            channels: "Vos applications",
            receiving: "offres reçues",
            receiving_card: "carte et discussion (pas d’offres sur cette application)",
            stopped: "messages arrêtés",
            add_channel: "Recevoir aussi sur",
            your_data: "Vos données : chaque consentement et vos reçus",
            stop_title: "Arrêter les messages marketing",
            stop_hint: "Un seul geste arrête nos offres dans toutes les applications liées à cette carte. Votre carte reste valable.",
            stop_button: "Arrêter les messages",
            stopped_already: "Vous ne recevez aucun message marketing de notre part.",
            stopped_title: "Messages arrêtés",
            stopped_body: "Vous ne recevrez plus de messages marketing de notre part, dans aucune application. Votre carte reste valable en caisse.",
            back_to_card: "Retour à ma carte",
        },
    }
}

fn channel_named(name: &str) -> &'static str {
    Channel::parse(name).map_or("", Channel::app_name)
}

/// Renders the card page.
pub fn card_page(v: &CardView<'_>) -> String {
    let t = card_texts(v.lang);
    let club = page_texts(v.lang).club;
    let m = v.member;
    let base = format!("/card/{}", v.card_ref);
    let favourite = m
        .favourite_store
        .as_ref()
        .and_then(|id| v.stores.iter().find(|s| &s.id == id));
    let granted = m.consent_granted();
    let body = html! {
        header class="hero" {
            p class="eyebrow" { (club) }
            h1 { (t.title) }
        }
        section class="card member-card" aria-labelledby="member" data-expires=(v.barcodes_expire_at) {
            h2 id="member" class="visually-hidden" { (t.member_number) }
            div class="barcode" { (PreEscaped(&v.member_barcode_svg)) }
            p class="member-number" {
                span class="label" { (t.member_number) }
                strong { (m.number.grouped()) }
            }
            p class="hint" { (t.show_at_till) " " (t.valid_until) " " (utc_day(v.barcodes_expire_at * 1000)) }
            p class="expired-notice" hidden { (t.offline_expired) }
            @if v.wallets.apple || v.wallets.google {
                @let (heading, apple, google) = wallet_words(v.lang);
                div class="wallets" role="group" aria-label=(heading) {
                    @if v.wallets.apple {
                        a class="wallet-button" href={ (base) "/wallet.pkpass" } data-wallet="apple" {
                            (PreEscaped(APPLE_WALLET_ICON)) span { (apple) }
                        }
                    }
                    @if v.wallets.google {
                        a class="wallet-button" href={ (base) "/google-wallet" } data-wallet="google" rel="noopener" {
                            (PreEscaped(GOOGLE_WALLET_ICON)) span { (google) }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="coupons" {
            h2 id="coupons" { (t.coupons) }
            @if v.coupons.is_empty() {
                p class="hint" { (t.no_coupons) }
            } @else {
                ul class="coupons" {
                    @for c in &v.coupons {
                        li class="coupon" {
                            h3 { (c.coupon.title(v.lang)) }
                            @if let Some(d) = c.coupon.description(v.lang) {
                                p { (d) }
                            }
                            p class="meta" { (t.coupon_until) " " (utc_day(c.coupon.valid_until_ms.saturating_sub(1))) }
                            div class="barcode coupon-barcode" { (PreEscaped(&c.barcode_svg)) }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="favourite" {
            h2 id="favourite" { (t.favourite) }
            form method="post" action={ (base) "/favourite?lang=" (v.lang.code()) } class="favourite" {
                label for="store" class="visually-hidden" { (t.favourite) }
                select id="store" name="store" {
                    @if favourite.is_none() {
                        option value="" selected { (t.favourite_none) }
                    }
                    @for s in v.stores {
                        option value=(s.id) selected[favourite.is_some_and(|f| f.id == s.id)] { (s.name(v.lang)) }
                    }
                }
                button type="submit" { (t.favourite_save) }
            }
            @if let Some(f) = favourite {
                p class="address" { (f.address) }
            }
        }
        section class="card" aria-labelledby="apps" {
            h2 id="apps" { (t.channels) }
            ul class="apps" {
                @for s in &m.subjects {
                    li {
                        strong { (s.channel.app_name()) }
                        " · "
                        @if s.state() != ConsentState::Granted { (t.stopped) }
                        @else if s.marketing_deliverable() { (t.receiving) }
                        @else { (t.receiving_card) }
                    }
                }
            }
            p { a href={ (base) "/data?lang=" (v.lang.code()) } { (t.your_data) } }
            @if !v.add_links.is_empty() {
                ul class="channels" {
                    @for link in &v.add_links {
                        li {
                            @let offers = link.brings_offers(v.country);
                            a class={ "button channel-" (link.channel) } href=(link.href) rel="noopener"
                                data-channel=(link.channel) data-offers=(if offers { "yes" } else { "no" }) {
                                (t.add_channel) " " (channel_named(link.channel)) " "
                                span class="what" { (what_it_brings(v.lang, offers)) }
                            }
                        }
                    }
                }
            }
        }
        (stop_section(v.lang, &base, granted))
        (languages(v.lang, &base))
    };
    document_with_script(
        v.lang,
        &format!("{} · {}", t.title, club),
        body,
        "/assets/card.js",
    )
    .into_string()
}

/// The one-tap stop (a plain form to `{base}/stop`), or the word that nothing is sent any more:
/// on the card and on the data page.
pub(crate) fn stop_section(lang: Lang, base: &str, granted: bool) -> Markup {
    let t = card_texts(lang);
    html! {
        section class="card stop" aria-labelledby="stop" {
            h2 id="stop" { (t.stop_title) }
            @if granted {
                p class="hint" { (t.stop_hint) }
                form method="post" action={ (base) "/stop?lang=" (lang.code()) } {
                    button type="submit" class="stop-button" { (t.stop_button) }
                }
            } @else {
                p { (t.stopped_already) }
            }
        }
    }
}

/// The confirmation after the one-tap stop.
pub fn stopped_page(lang: Lang, card_ref: &str) -> String {
    let t = card_texts(lang);
    document_with_script(
        lang,
        t.stopped_title,
        html! {
            section class="card confirmation" {
                h1 { (t.stopped_title) }
                p { (t.stopped_body) }
                p { a href={ "/card/" (card_ref) "?lang=" (lang.code()) } { (t.back_to_card) } }
            }
        },
        "",
    )
    .into_string()
}

fn languages(current: Lang, base: &str) -> Markup {
    html! {
        nav class="languages" aria-label="Language" {
            @for l in Lang::ALL {
                @if l == current {
                    span aria-current="true" { (l.code()) }
                } @else {
                    a href={ (base) "?lang=" (l.code()) } hreflang=(l.code()) lang=(l.code()) { (l.code()) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The admin console's words module: its coupon preview repeats words of this page, and its
    /// screens name the apps as the pages do.
    const CONSOLE_WORDS: &str = include_str!("../../../static/assets/console/words.js");

    /// The value of `export const {name} = {…};` in the console's words module, which writes
    /// the words it shares with the pages as JSON.
    fn console_words<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let start = format!("export const {name} = ");
        let at = CONSOLE_WORDS
            .find(&start)
            .unwrap_or_else(|| panic!("words.js exports {name}"))
            + start.len();
        serde_json::Deserializer::from_str(&CONSOLE_WORDS[at..])
            .into_iter()
            .next()
            .unwrap()
            .unwrap_or_else(|e| panic!("{name} of words.js is JSON: {e}"))
    }

    #[test]
    fn the_console_previews_a_coupon_in_the_words_of_the_card() {
        let shown: BTreeMap<String, BTreeMap<String, String>> = console_words("CARD_WORDS");
        let card: BTreeMap<String, BTreeMap<String, String>> = Lang::ALL
            .into_iter()
            .map(|lang| {
                let t = card_texts(lang);
                let words = [("coupons", t.coupons), ("until", t.coupon_until)];
                (
                    lang.code().to_owned(),
                    words.map(|(k, v)| (k.to_owned(), v.to_owned())).into(),
                )
            })
            .collect();
        assert_eq!(
            shown, card,
            "CARD_WORDS of static/assets/console/words.js say what card_texts says"
        );
    }

    #[test]
    fn the_console_names_the_apps_as_the_pages_do() {
        let shown: BTreeMap<String, String> = console_words("CHANNEL_NAMES");
        let pages: BTreeMap<String, String> = Channel::ALL
            .into_iter()
            .map(|c| (c.as_str().to_owned(), c.app_name().to_owned()))
            .collect();
        assert_eq!(
            shown, pages,
            "CHANNEL_NAMES of static/assets/console/words.js"
        );
    }

    fn page_with(wallets: Wallets) -> String {
        let member: MemberRecord = serde_json::from_value(serde_json::json!({
            "number": crate::ids::MemberNumber::from_body(42).to_string(),
            "created_at_ms": 0, "subjects": [],
        }))
        .unwrap();
        card_page(&CardView {
            lang: Lang::En,
            card_ref: "REF",
            member: &member,
            member_barcode_svg: String::new(),
            barcodes_expire_at: 0,
            stores: &[],
            coupons: Vec::new(),
            add_links: Vec::new(),
            country: None,
            wallets,
        })
    }

    #[test]
    fn a_wallet_is_offered_only_when_it_is_configured() {
        let none = page_with(Wallets::default());
        assert!(!none.contains("wallet-button"), "{none}");
        let apple = page_with(Wallets {
            apple: true,
            google: false,
        });
        assert_eq!(apple.matches("class=\"wallet-button\"").count(), 1);
        assert!(apple.contains("href=\"/card/REF/wallet.pkpass\""));
        assert!(!apple.contains("google-wallet"));
        let both = page_with(Wallets {
            apple: true,
            google: true,
        });
        assert!(both.contains("href=\"/card/REF/google-wallet\""));
        // The marks are decoration: the words are the buttons' names.
        assert!(both.matches("aria-hidden=\"true\"").count() >= 2);
    }
}
