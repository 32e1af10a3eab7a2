//! The shopper's own data page (`GET /card/{card}/data`): every consent they gave or withdrew,
//! per app — when, how, which notice version (linked), from which store — the download of their
//! consent receipts, and the one-tap stop. Self-service access (GDPR Art. 15) before anyone has
//! to file a request. Plain HTML: no script needed.

use maud::html;

use crate::consent::{Action, Channel, ConsentEvent, ConsentState};
use crate::evidence::receipt::collection_text;
use crate::ids::MemberNumber;
use crate::lang::Lang;
use crate::pages::card::stop_section;
use crate::pages::layout::document;
use crate::pages::texts::texts as page_texts;
use crate::stores::Store;
use crate::time::format_rfc3339;

/// One app of the member: its current state and its history, oldest first.
pub struct AppHistory {
    pub channel: Channel,
    pub state: ConsentState,
    pub events: Vec<ConsentEvent>,
}

/// Everything the data page shows.
pub struct DataView<'a> {
    pub lang: Lang,
    pub card_ref: &'a str,
    pub member: MemberNumber,
    pub apps: Vec<AppHistory>,
    pub stores: &'a [Store],
    /// `RETENTION_DAYS`, to say how long the evidence is kept.
    pub retention_days: u32,
    /// Where the page of older entries starts (a `before` position), if there are older ones.
    pub older: Option<String>,
    /// This page shows older entries (not the newest).
    pub paged: bool,
}

struct DataTexts {
    title: &'static str,
    intro: &'static str,
    member_number: &'static str,
    now_receiving: &'static str,
    now_stopped: &'static str,
    no_events: &'static str,
    given: &'static str,
    withdrawn: &'static str,
    how: &'static str,
    notice: &'static str,
    store: &'static str,
    /// What the app's latest grant is for, beside each entry: offers, or the card only.
    purpose: &'static str,
    purpose_marketing: &'static str,
    purpose_card: &'static str,
    /// The state line of an app granted for the card only.
    now_card: &'static str,
    receipts_title: &'static str,
    receipts_hint: &'static str,
    receipts_link: &'static str,
    retention: &'static str,
    back_to_card: &'static str,
    older_entries: &'static str,
    latest_entries: &'static str,
    history_pages: &'static str,
}

fn data_texts(lang: Lang) -> &'static DataTexts {
    match lang {
        Lang::En => &DataTexts {
            title: "Your data",
            intro: "Every consent to our messages you gave or withdrew, as we keep it as evidence.",
            member_number: "Member number",
            now_receiving: "You receive our offers here.",
            now_stopped: "You receive no marketing messages here.",
            no_events: "Nothing recorded.",
            given: "Consent given",
            withdrawn: "Consent withdrawn",
            how: "How",
            notice: "Notice",
            store: "Store",
            purpose: "For",
            purpose_marketing: "Offers and your card",
            purpose_card: "Your card and a chat with the store (no offers)",
            now_card: "You have your card and a chat with the store here: no marketing messages.",
            receipts_title: "Your consent receipts",
            receipts_hint: "One receipt per consent you gave, in the Kantara Consent Receipt v1.1 format (JSON).",
            receipts_link: "Download my receipts",
            retention: "When a consent ends, we keep its record for {days} days as evidence, then delete it.",
            back_to_card: "Back to my card",
            older_entries: "Older entries",
            latest_entries: "Latest entries",
            history_pages: "More entries",
        },
        Lang::Ja => &DataTexts {
            title: "お客様のデータ",
            intro: "お知らせ配信への同意と同意の撤回の記録です。証拠として保管しています。",
            member_number: "会員番号",
            now_receiving: "このアプリでお知らせを受信中です。",
            now_stopped: "このアプリへのマーケティングメッセージは停止中です。",
            no_events: "記録はありません。",
            given: "同意",
            withdrawn: "同意の撤回",
            how: "方法",
            notice: "同意事項",
            store: "店舗",
            purpose: "内容",
            purpose_marketing: "お得情報と会員証",
            purpose_card: "会員証と店舗とのチャット（お得情報なし）",
            now_card: "このアプリでは会員証と店舗とのチャットをご利用中です（マーケティングメッセージはありません）。",
            receipts_title: "同意の記録（レシート）",
            receipts_hint: "同意ごとに1件、Kantara Consent Receipt v1.1 形式（JSON）でダウンロードできます。",
            receipts_link: "同意の記録をダウンロード",
            retention: "同意が終了した記録は、証拠として{days}日間保管した後に削除します。",
            back_to_card: "会員証に戻る",
            older_entries: "以前の記録",
            latest_entries: "最新の記録",
            history_pages: "ほかの記録",
        },
        Lang::Fr => &DataTexts {
            title: "Vos données",
            intro: "Chaque consentement à nos messages que vous avez donné ou retiré, tel que nous le conservons comme preuve.",
            member_number: "Numéro de membre",
            now_receiving: "Vous recevez nos offres ici.",
            now_stopped: "Vous ne recevez aucun message marketing ici.",
            no_events: "Rien d’enregistré.",
            given: "Consentement donné",
            withdrawn: "Consentement retiré",
            how: "Comment",
            notice: "Notice",
            store: "Magasin",
            purpose: "Pour",
            purpose_marketing: "Les offres et votre carte",
            purpose_card: "Votre carte et une discussion avec le magasin (sans offres)",
            now_card: "Vous avez ici votre carte et une discussion avec le magasin : aucun message marketing.",
            receipts_title: "Vos reçus de consentement",
            receipts_hint: "Un reçu par consentement donné, au format Kantara Consent Receipt v1.1 (JSON).",
            receipts_link: "Télécharger mes reçus",
            retention: "Quand un consentement prend fin, nous en gardons la trace {days} jours comme preuve, puis nous la supprimons.",
            back_to_card: "Retour à ma carte",
            older_entries: "Entrées plus anciennes",
            latest_entries: "Dernières entrées",
            history_pages: "Autres entrées",
        },
    }
}

/// `2026-11-23 14:05 UTC`: a date and minute any reader parses, in the one zone the evidence
/// uses.
fn when(ms: u64) -> String {
    let iso = format_rfc3339(ms);
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

/// Renders the data page.
pub fn data_page(v: &DataView<'_>) -> String {
    let t = data_texts(v.lang);
    let club = page_texts(v.lang).club;
    let base = format!("/card/{}", v.card_ref);
    let granted = v.apps.iter().any(|a| a.state == ConsentState::Granted);
    let store_name = |id: &crate::ids::StoreId| -> String {
        v.stores
            .iter()
            .find(|s| &s.id == id)
            .map_or_else(|| id.as_str().to_owned(), |s| s.name(v.lang).to_owned())
    };
    let body = html! {
        header class="hero" {
            p class="eyebrow" { (club) }
            h1 { (t.title) }
            p { (t.intro) }
            p class="meta" { (t.member_number) " " strong { (v.member.grouped()) } }
        }
        @for app in &v.apps {
            section class="card" aria-labelledby={ "app-" (app.channel.as_str()) } {
                h2 id={ "app-" (app.channel.as_str()) } { (app.channel.app_name()) }
                @let card_only = app.events.iter().rev().find(|e| e.action == Action::Granted)
                    .is_some_and(ConsentEvent::card_only);
                p class="hint" {
                    @if app.state != ConsentState::Granted { (t.now_stopped) }
                    @else if card_only { (t.now_card) }
                    @else { (t.now_receiving) }
                }
                @if app.events.is_empty() {
                    p { (t.no_events) }
                } @else {
                    ol class="history" reversed {
                        @for e in app.events.iter().rev() {
                            li class={ "history-" @if e.action == Action::Granted { "given" } @else { "withdrawn" } } {
                                p class="history-what" {
                                    strong { @if e.action == Action::Granted { (t.given) } @else { (t.withdrawn) } }
                                    " "
                                    time datetime=(format_rfc3339(e.occurred_at_ms)) { (when(e.occurred_at_ms)) }
                                }
                                dl class="history-facts" {
                                    div { dt { (t.how) } dd { (collection_text(v.lang, e.collection)) } }
                                    div {
                                        dt { (t.purpose) }
                                        dd {
                                            @if e.card_only() { (t.purpose_card) }
                                            @else { (t.purpose_marketing) }
                                        }
                                    }
                                    @if let Some(version) = &e.notice_version {
                                        div { dt { (t.notice) } dd { a href={ "/privacy/" (crate::channels::links::percent_encode(version)) "?lang=" (v.lang.code()) } { (version) } } }
                                    }
                                    @if let Some(store) = &e.store_id {
                                        div { dt { (t.store) } dd { (store_name(store)) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if v.older.is_some() || v.paged {
            nav class="pages" aria-label=(t.history_pages) {
                @if v.paged {
                    a href={ (base) "/data?lang=" (v.lang.code()) } { (t.latest_entries) }
                }
                @if let Some(older) = &v.older {
                    a rel="next" href={ (base) "/data?lang=" (v.lang.code()) "&before=" (older) } { (t.older_entries) }
                }
            }
        }
        section class="card" aria-labelledby="receipts" {
            h2 id="receipts" { (t.receipts_title) }
            p class="hint" { (t.receipts_hint) }
            p { a class="button download" href={ (base) "/receipts.json" } download="consent-receipts.json" type="application/json" { (t.receipts_link) } }
            p class="hint" { (t.retention.replace("{days}", &v.retention_days.to_string())) }
        }
        (stop_section(v.lang, &base, granted))
        p class="back" { a href={ (base) "?lang=" (v.lang.code()) } { (t.back_to_card) } }
        nav class="languages" aria-label="Language" {
            @for l in Lang::ALL {
                @if l == v.lang {
                    span aria-current="true" { (l.code()) }
                } @else {
                    a href={ (base) "/data?lang=" (l.code()) } hreflang=(l.code()) lang=(l.code()) { (l.code()) }
                }
            }
        }
    };
    document(v.lang, &format!("{} · {}", t.title, club), body).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::tests::event;

    #[test]
    fn the_page_lists_each_app_newest_first_with_its_notice_and_escapes_everything() {
        let mut grant = event("g", 1_795_000_000_000, Action::Granted, "U1");
        grant.notice_version = Some("2026-11<b>".into());
        let stop = event("s", 1_795_000_100_000, Action::Withdrawn, "U1");
        let html = data_page(&DataView {
            lang: Lang::Fr,
            card_ref: "CARD",
            member: MemberNumber::from_body(42),
            apps: vec![AppHistory {
                channel: Channel::Whatsapp,
                state: ConsentState::Withdrawn,
                events: vec![grant, stop],
            }],
            stores: &[],
            retention_days: 1826,
            older: None,
            paged: false,
        });
        assert!(html.contains("<html lang=\"fr\""));
        assert!(
            html.find("Consentement retiré").unwrap() < html.find("Consentement donné").unwrap()
        );
        assert!(html.contains("href=\"/privacy/2026-11%3Cb%3E?lang=fr\""));
        assert!(html.contains("2026-11&lt;b&gt;") && !html.contains("2026-11<b>"));
        assert!(html.contains("/card/CARD/receipts.json"));
        assert!(html.contains("1826 jours"));
        assert!(!html.contains("<script"), "no script needed");
        assert!(!html.contains("stop-button"), "nothing left to stop");
        assert!(!html.contains("class=\"pages\""), "one page holds it all");
    }

    #[test]
    fn a_long_history_links_to_its_older_entries_and_back_to_the_latest() {
        let view = |older: Option<&str>, paged| {
            data_page(&DataView {
                lang: Lang::Ja,
                card_ref: "CARD",
                member: MemberNumber::from_body(42),
                apps: Vec::new(),
                stores: &[],
                retention_days: 30,
                older: older.map(str::to_owned),
                paged,
            })
        };
        let first = view(Some("1795000000000-1-abc"), false);
        assert!(first.contains("href=\"/card/CARD/data?lang=ja&amp;before=1795000000000-1-abc\""));
        assert!(!first.contains("最新の記録"));
        let last = view(None, true);
        assert!(last.contains("href=\"/card/CARD/data?lang=ja\""));
        assert!(last.contains("最新の記録") && !last.contains("以前の記録"));
    }
}
