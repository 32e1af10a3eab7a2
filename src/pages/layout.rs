//! The document shell shared by every page: language, viewport, the stylesheet from `static/`.

use maud::{html, Markup, DOCTYPE};

use crate::lang::Lang;

/// The stylesheet served from `static/` by the Workers assets layer.
pub const STYLESHEET: &str = "/assets/site.css";

/// Wraps a page body in the HTML document.
pub fn document(lang: Lang, title: &str, body: Markup) -> Markup {
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
            }
            body {
                main { (body) }
            }
        }
    }
}
