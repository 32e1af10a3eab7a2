//! The document shell shared by every page: language, viewport, the stylesheet from `static/`.

use maud::{html, Markup, DOCTYPE};

use crate::lang::Lang;

/// The stylesheet served from `static/` by the Workers assets layer.
pub const STYLESHEET: &str = "/assets/site.css";

/// Wraps a page body in the HTML document.
pub fn document(lang: Lang, title: &str, body: Markup) -> Markup {
    document_with_script(lang, title, body, "")
}

/// The document with one deferred script of this origin (`""`: none). Scripts only enhance:
/// every page works without them.
pub fn document_with_script(lang: Lang, title: &str, body: Markup, script: &str) -> Markup {
    document_with_manifest(lang, title, body, script, "")
}

/// [`document_with_script`] of an installable page: its web app manifest (`""`: none).
pub fn document_with_manifest(
    lang: Lang,
    title: &str,
    body: Markup,
    script: &str,
    manifest: &str,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href=(STYLESHEET);
                @if !manifest.is_empty() {
                    link rel="manifest" href=(manifest);
                }
                @if !script.is_empty() {
                    script src=(script) defer {}
                }
            }
            body {
                main { (body) }
            }
        }
    }
}
