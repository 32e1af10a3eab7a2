//! The consent notice pages: `GET /privacy` (the active version) and `GET /privacy/{version}`.

use maud::html;

use crate::lang::Lang;
use crate::pages::layout::document;
use crate::pages::texts::texts;
use crate::stores::Notice;
use crate::time::utc_day;

/// Renders one notice version, with links to every version.
pub fn privacy_page(lang: Lang, notice: &Notice, versions: &[Notice]) -> String {
    let t = texts(lang);
    let (shown_lang, text) = match notice.text(lang) {
        Some(found) => found,
        None => return String::new(),
    };
    document(
        lang,
        &format!("{} · {}", text.title, notice.version),
        html! {
            article class="card" lang=(shown_lang.code()) {
                p class="eyebrow" { (t.privacy_title) " · " (notice.version) }
                h1 { (text.title) }
                p class="meta" {
                    @match notice.activated_at_ms {
                        Some(at) => { (t.activated_on) " " (utc_day(at)) }
                        None => { (t.not_activated) }
                    }
                }
                @for para in text.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
                    p {
                        @for (i, line) in para.lines().enumerate() {
                            @if i > 0 { br; }
                            (line)
                        }
                    }
                }
            }
            section class="card" {
                h2 { (t.earlier_versions) }
                ul class="versions" {
                    @for v in versions {
                        li {
                            @if v.version == notice.version {
                                strong { (v.version) }
                            } @else {
                                a href={ "/privacy/" (v.version) "?lang=" (lang.code()) } { (v.version) }
                            }
                            @if let Some(at) = v.activated_at_ms { " · " (utc_day(at)) }
                        }
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
    use crate::stores::NoticeText;
    use std::collections::BTreeMap;

    fn notice(version: &str, body: &str, at: Option<u64>) -> Notice {
        Notice {
            version: version.into(),
            texts: BTreeMap::from([(
                "en".into(),
                NoticeText {
                    title: "Marketing <consent>".into(),
                    body: body.into(),
                },
            )]),
            created_at_ms: 0,
            activated_at_ms: at,
        }
    }

    #[test]
    fn notice_text_is_escaped_and_paragraphs_kept() {
        let n = notice(
            "v2",
            "First <b>para</b>.\n\nSecond\nline.",
            Some(1_795_367_804_987),
        );
        let page = privacy_page(Lang::Ja, &n, &[notice("v1", "x", Some(0)), n.clone()]);
        assert!(page.contains("Marketing &lt;consent&gt;"));
        assert!(page.contains("<p>First &lt;b&gt;para&lt;/b&gt;.</p>"));
        assert!(page.contains("<p>Second<br>line.</p>"));
        assert!(
            page.contains(r#"<article class="card" lang="en">"#),
            "shown in the language it has"
        );
        assert!(page.contains(r#"<a href="/privacy/v1?lang=ja">v1</a>"#));
        assert!(page.contains("2026-11-22"));
    }
}
