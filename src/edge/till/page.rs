//! `GET /pos`: the till page cashiers use with a keyboard-wedge scanner (the page itself is
//! `optin_core::pages::till_page`).

use crate::edge::runtime::respond::Outgoing;
use crate::edge::shopper::{lang, page_with_csp, query};
use crate::edge::Call;
use optin_core::lang::Lang;
use optin_core::pages;

/// This origin's script, and API calls to this origin only.
const TILL_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    script-src 'self'; worker-src 'self'; manifest-src 'self'; connect-src 'self'; \
    form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

/// Static (the POS key lives in the till's own storage and goes with each API call), so any
/// cache may keep it briefly per language.
pub fn serve(call: &Call<'_>) -> Outgoing {
    let q = query(call);
    let lang = lang(call, &q, Lang::En);
    page_with_csp(pages::till_page(lang), "public, max-age=300", TILL_CSP)
}
