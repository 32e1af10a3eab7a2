//! The store landing page (`GET /s/{store_id}`): what the shopper gets, one button per
//! configured channel carrying a fresh join code, the favourite-store choice (a plain GET form:
//! no JavaScript), and the consent notice.

use maud::html;

use crate::lang::Lang;
use crate::links::ChannelLink;
use crate::pages::layout::document;
use crate::pages::texts::{channel_label, texts};
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
}

/// Renders the page.
pub fn landing_page(p: &Landing<'_>) -> String {
    let t = texts(p.lang);
    let name = p.store.name(p.lang);
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
                                a class={ "button channel-" (link.channel) } href=(link.href)
                                    rel="noopener" data-channel=(link.channel) {
                                    (channel_label(p.lang, link.channel))
                                }
                            }
                        }
                    }
                }
            }
            section class="card" aria-labelledby="benefits" {
                h2 id="benefits" { (t.benefits_title) }
                ul class="benefits" {
                    @for b in t.benefits { li { (b) } }
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
                p { (t.consent) }
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
            updated_at_ms: 0,
        }
    }

    fn render(lang: Lang, name: &str, links: &[ChannelLink]) -> String {
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
        })
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
