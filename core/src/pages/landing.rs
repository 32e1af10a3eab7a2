//! The store landing page (`GET /s/{store_id}`): what the shopper gets, one button per
//! configured channel carrying a fresh join code, the favourite-store choice (a plain GET form:
//! no JavaScript), and the consent notice.

use maud::html;

use crate::channels::links::ChannelLink;
use crate::lang::Lang;
use crate::pages::layout::document;
use crate::pages::texts::{channel_label, texts, what_it_brings};
use crate::stores::Store;

/// Everything the landing page shows.
pub struct Landing<'a> {
    pub lang: Lang,
    /// The store whose poster was scanned.
    pub store: &'a Store,
    /// Every store, for the favourite-store choice.
    pub stores: &'a [Store],
    /// The favourite store the buttons' join codes carry.
    pub favourite: &'a Store,
    pub campaign: Option<&'a str>,
    pub links: &'a [ChannelLink],
    pub notice_version: Option<&'a str>,
    /// The favourite store's country (its join codes' store): which buttons bring offers.
    pub country: Option<&'a str>,
}

/// Renders the page.
pub fn landing_page(p: &Landing<'_>) -> String {
    let t = texts(p.lang);
    let name = p.store.name(p.lang);
    let any_offers = p.links.iter().any(|l| l.brings_offers(p.country));
    let title = format!("{name} · {}", t.club);
    let path = format!("/s/{}", p.store.id);
    let lang_href = |l: Lang| {
        let mut q = format!("?lang={}", l.code());
        if let Some(c) = p.campaign {
            q.push_str(&format!("&c={c}"));
        }
        if p.favourite.id != p.store.id {
            q.push_str(&format!("&fav={}", p.favourite.id));
        }
        format!("{path}{q}")
    };
    document(
        p.lang,
        &title,
        html! {
            header class="hero" {
                p class="eyebrow" { (t.club) }
                h1 { (name) }
                p { (t.intro) }
            }
            section class="card" aria-labelledby="join" {
                h2 id="join" { (t.join_title) }
                @if p.links.is_empty() {
                    p { (t.no_channel) }
                } @else {
                    p class="hint" { (t.join_hint) }
                    ul class="channels" {
                        @for link in p.links {
                            li {
                                @let offers = link.brings_offers(p.country);
                                a class={ "button channel-" (link.channel) } href=(link.href)
                                    rel="noopener" data-channel=(link.channel)
                                    data-offers=(if offers { "yes" } else { "no" }) {
                                    (channel_label(p.lang, link.channel))
                                    // A space: the accessible name reads as two phrases.
                                    " "
                                    span class="what" { (what_it_brings(p.lang, offers)) }
                                }
                            }
                        }
                    }
                }
            }
            section class="card" aria-labelledby="benefits" {
                h2 id="benefits" { (t.benefits_title) }
                ul class="benefits" {
                    // The last one is the offers: only where a button brings them.
                    @for b in &t.benefits[..if any_offers { 3 } else { 2 }] { li { (b) } }
                }
            }
            section class="card" aria-labelledby="favourite" {
                h2 id="favourite" { (t.favourite_title) }
                form method="get" action=(path) class="favourite" {
                    label for="fav" { (t.favourite_label) }
                    select id="fav" name="fav" {
                        @for s in p.stores {
                            option value=(s.id) selected[s.id == p.favourite.id] { (s.name(p.lang)) }
                        }
                    }
                    input type="hidden" name="lang" value=(p.lang.code());
                    @if let Some(c) = p.campaign {
                        input type="hidden" name="c" value=(c);
                    }
                    button type="submit" { (t.favourite_update) }
                }
                p class="address" { (p.favourite.address) }
            }
            section class="notice" aria-label=(t.read_notice) {
                p { (if any_offers { t.consent } else { t.consent_card }) }
                @match p.notice_version {
                    Some(v) => {
                        p {
                            (t.notice_version) ": " strong { (v) } " · "
                            a href={ "/privacy/" (v) "?lang=" (p.lang.code()) } { (t.read_notice) }
                        }
                    }
                    None => p { (t.no_notice) " " a href="/privacy" { (t.read_notice) } },
                }
                p { (t.stop_anytime) }
            }
            nav class="languages" aria-label=(t.languages) {
                @for l in Lang::ALL {
                    @if l == p.lang {
                        span aria-current="true" { (l.code()) }
                    } @else {
                        a href=(lang_href(l)) hreflang=(l.code()) { (l.code()) }
                    }
                }
            }
        },
    )
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StoreId;
    use std::collections::BTreeMap;

    fn store(id: &str, name: &str) -> Store {
        Store {
            id: StoreId::parse(id).unwrap(),
            names: BTreeMap::from([("en".into(), name.into()), ("ja".into(), "渋谷店".into())]),
            address: "1-2-3 <Jingumae>".into(),
            timezone: "Asia/Tokyo".into(),
            country: None,
            latitude: None,
            longitude: None,
            updated_at_ms: 0,
        }
    }

    fn render(lang: Lang, name: &str, links: &[ChannelLink]) -> String {
        render_in(lang, name, links, Some("JP"))
    }

    fn render_in(lang: Lang, name: &str, links: &[ChannelLink], country: Option<&str>) -> String {
        let s = store("shibuya", name);
        let other = store("umeda", "Umeda");
        let stores = [s.clone(), other];
        landing_page(&Landing {
            lang,
            store: &s,
            stores: &stores,
            favourite: &s,
            campaign: Some("spring"),
            links,
            notice_version: Some("2026-11"),
            country,
        })
    }

    /// Each button says what the shopper gets there, as the platforms allow it in the store's
    /// country: no promise of offers where none can be delivered.
    #[test]
    fn buttons_promise_offers_only_where_the_platform_delivers_them() {
        let links: Vec<ChannelLink> = ["line", "whatsapp", "messenger", "instagram"]
            .into_iter()
            .map(|channel| ChannelLink {
                channel,
                href: format!("https://example.com/{channel}"),
            })
            .collect();
        let offers = |page: &str| -> Vec<bool> {
            ["line", "whatsapp", "messenger", "instagram"]
                .iter()
                .map(|c| {
                    let at = page.find(&format!("data-channel=\"{c}\"")).unwrap();
                    page[at..].starts_with(&format!("data-channel=\"{c}\" data-offers=\"yes\""))
                })
                .collect()
        };
        let fr = render_in(Lang::Fr, "Paris", &links, Some("FR"));
        assert_eq!(offers(&fr), [true, true, false, false]);
        assert_eq!(fr.matches("Offres de la semaine et votre carte").count(), 2);
        assert_eq!(
            fr.matches("Votre carte et une discussion avec le magasin")
                .count(),
            2
        );
        let us = render_in(Lang::En, "NYC", &links, Some("US"));
        assert_eq!(offers(&us), [true, false, true, false]);
        assert!(us.contains("Your card and a chat with the store"));
        let jp = render_in(Lang::Ja, "Shibuya", &links, Some("JP"));
        assert_eq!(offers(&jp), [true, true, false, false]);
        assert!(jp.contains("毎週のお得情報と会員証"));
        // No button with offers: no offer promised anywhere on the page.
        let only_ig = render_in(Lang::En, "S", &links[3..], Some("FR"));
        assert!(!only_ig.contains("Weekly offers") && !only_ig.contains("News and offers"));
        assert!(!only_ig.contains("marketing messages from us"));
        assert!(only_ig.contains("We send no marketing messages"));
    }

    #[test]
    fn hostile_store_names_are_escaped() {
        let page = render(Lang::En, "<script>alert(1)</script>\"'&", &[]);
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&amp;"));
        assert!(page.contains("1-2-3 &lt;Jingumae&gt;"));
    }

    #[test]
    fn buttons_link_exactly_and_unconfigured_channels_are_absent() {
        let links = [ChannelLink {
            channel: "whatsapp",
            href: "https://wa.me/1555?text=JOIN%20ABC".into(),
        }];
        let page = render(Lang::Ja, "Shibuya", &links);
        assert!(page.contains(r#"href="https://wa.me/1555?text=JOIN%20ABC""#));
        assert!(page.contains("WhatsAppで登録"));
        assert!(!page.contains("channel-line"));
        assert!(render(Lang::En, "S", &[]).contains("Joining is not open yet"));
    }

    #[test]
    fn the_page_is_small_and_needs_no_script() {
        let page = render(Lang::Fr, "Shibuya", &[]);
        assert!(page.len() < 20 * 1024);
        assert!(!page.contains("<script"));
        assert!(page.contains(r#"<html lang="fr">"#));
        assert!(page.contains(r#"href="/privacy/2026-11?lang=fr""#));
        assert!(page.contains(r#"<option value="shibuya" selected>"#));
    }
}
