//! The short HTML error page shoppers see, in their language.

use maud::html;

use crate::error::Error;
use crate::lang::Lang;
use crate::pages::layout::document;

struct ErrorTexts {
    title: &'static str,
    hint: &'static str,
}

fn texts(lang: Lang, status: u16) -> ErrorTexts {
    let (title, hint) = match (lang, status) {
        (Lang::En, 404) => ("Page not found", "Please scan the code in the store again."),
        (Lang::Ja, 404) => (
            "ページが見つかりません",
            "店内のコードをもう一度読み取ってください。",
        ),
        (Lang::Fr, 404) => (
            "Page introuvable",
            "Veuillez scanner à nouveau le code en magasin.",
        ),
        (Lang::En, 429) => ("Too many taps", "Please wait a minute, then try again."),
        (Lang::Ja, 429) => (
            "操作が多すぎます",
            "1分ほど待ってから、もう一度お試しください。",
        ),
        (Lang::Fr, 429) => (
            "Trop de demandes",
            "Veuillez patienter une minute, puis réessayer.",
        ),
        (Lang::En, 400..=499) => (
            "This request could not be handled",
            "Please go back and try again.",
        ),
        (Lang::Ja, 400..=499) => (
            "このリクエストは処理できません",
            "前のページに戻って、もう一度お試しください。",
        ),
        (Lang::Fr, 400..=499) => (
            "Cette demande n’a pas pu être traitée",
            "Veuillez revenir en arrière et réessayer.",
        ),
        (Lang::En, _) => ("Something went wrong", "Please try again in a moment."),
        (Lang::Ja, _) => (
            "エラーが発生しました",
            "しばらくしてから、もう一度お試しください。",
        ),
        (Lang::Fr, _) => (
            "Une erreur est survenue",
            "Veuillez réessayer dans un instant.",
        ),
    };
    ErrorTexts { title, hint }
}

/// The page for an error, in `lang`. Says nothing of the cause beyond the status.
pub fn error_page(lang: Lang, error: &Error) -> String {
    let status = error.status();
    let t = texts(lang, status);
    document(
        lang,
        t.title,
        html! {
            section class="error" {
                h1 { (t.title) }
                p { (t.hint) }
                p class="status" { (status) }
            }
        },
    )
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_page_is_in_the_shoppers_language() {
        let page = error_page(Lang::Ja, &Error::NotFound);
        assert!(page.starts_with("<!DOCTYPE html><html lang=\"ja\">"));
        assert!(page.contains("ページが見つかりません"));
        assert!(error_page(Lang::Fr, &Error::NotFound).contains("Page introuvable"));
    }

    #[test]
    fn a_rate_limited_shopper_is_asked_to_wait_in_their_language() {
        let limited = Error::TooManyRequests {
            retry_after_secs: 60,
        };
        assert!(error_page(Lang::En, &limited).contains("Please wait a minute"));
        assert!(error_page(Lang::Ja, &limited).contains("1分ほど待って"));
        assert!(error_page(Lang::Fr, &limited).contains("Veuillez patienter"));
    }

    #[test]
    fn server_error_page_reveals_no_cause() {
        let page = error_page(Lang::En, &Error::internal("kv exploded at key ledger:abc"));
        assert!(page.contains("Something went wrong"));
        assert!(!page.contains("kv exploded"));
    }
}
