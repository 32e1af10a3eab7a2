//! Wallet cards at the edge ([`optin_core::wallet`] decides): the Apple pass and the PassKit web
//! service ([`apple`]), the Google Wallet save link and patches ([`google`]), APNs pushes
//! ([`push`]); the member's object runs the pass's updates at its alarm. Private keys
//! are imported by WebCrypto once per isolate (`glue.js`); the settings are checked once too.

pub(crate) mod apple;
pub(crate) mod google;
pub(crate) mod push;

use std::rc::Rc;

use wasm_bindgen_futures::JsFuture;
use worker::Env;

use crate::edge::members;
use crate::edge::runtime::cache::{self, Snapshot};
use crate::edge::runtime::{env, glue};
use optin_core::codes::{Barcode, CardRef};
use optin_core::error::Error;
use optin_core::ids::MemberNumber;
use optin_core::members::{Answer, MemberRecord, Request as Ask, WalletOp};
use optin_core::settings::config::{AppleWallet, Config, GoogleWallet};
use optin_core::settings::secrets::SigningKeys;
use optin_core::wallet::keys::KeyKind;
use optin_core::wallet::{PassContent, Wallet};

thread_local! {
    static APPLE: std::cell::OnceCell<Result<Rc<AppleWallet>, Error>> =
        const { std::cell::OnceCell::new() };
    static GOOGLE: std::cell::OnceCell<Result<Rc<GoogleWallet>, Error>> =
        const { std::cell::OnceCell::new() };
}

/// Apple Wallet's settings, checked once per isolate.
pub fn apple_settings(env: &Env) -> Result<Rc<AppleWallet>, Error> {
    APPLE.with(|cell| {
        cell.get_or_init(|| env::config(env).apple_wallet().map(Rc::new))
            .clone()
    })
}

/// Google Wallet's settings, checked once per isolate.
pub fn google_settings(env: &Env) -> Result<Rc<GoogleWallet>, Error> {
    GOOGLE.with(|cell| {
        cell.get_or_init(|| env::config(env).google_wallet().map(Rc::new))
            .clone()
    })
}

/// Signs `data` with a PKCS#8 key through WebCrypto (`name` keys the isolate's import).
pub async fn sign(name: &str, der: &[u8], kind: KeyKind, data: &[u8]) -> Result<Vec<u8>, Error> {
    let kind = match kind {
        KeyKind::Rsa => "rsa",
        KeyKind::EcP256 => "ec",
    };
    let fail = |e: wasm_bindgen::JsValue| Error::Config {
        setting: if name == "google" {
            "GOOGLE_WALLET_SERVICE_ACCOUNT"
        } else {
            "APPLE_PASS_KEY"
        },
        problem: if e.is_object() {
            "WebCrypto refused the key (not a PKCS#8 key matching the certificate?)"
        } else {
            "WebCrypto could not sign"
        },
    };
    let promise = glue::sign_with(name, der, kind, data).map_err(fail)?;
    let signature = JsFuture::from(promise).await.map_err(fail)?;
    Ok(js_sys::Uint8Array::new(&signature).to_vec())
}

/// What `member`'s pass shows at `now_ms`, by the coupons and stores of `snapshot`.
pub fn pass_content(member: &MemberRecord, snapshot: &Snapshot, now_ms: u64) -> PassContent {
    PassContent::of(
        member,
        &snapshot.coupons.coupons,
        &snapshot.stores.stores,
        now_ms,
    )
}

/// A member's pass as it is now.
pub struct Current {
    /// `None`: erased; the pass is void.
    pub member: Option<MemberRecord>,
    pub content: Option<PassContent>,
    pub wallet: Wallet,
    pub snapshot: Rc<Snapshot>,
}

impl Current {
    /// The barcode the pass carries (none once void).
    pub fn barcode(&self, keys: &SigningKeys) -> Option<String> {
        let member = self.member.as_ref()?;
        let issued = self.wallet.issued.as_ref()?;
        Some(Barcode::new(member.number, None, issued.barcode_issued_at).issue(keys))
    }

    /// The card page's address, for the back of the pass.
    pub fn card_url(&self, config: &Config, keys: &SigningKeys) -> Option<String> {
        let member = self.member.as_ref()?;
        let base = config.public_base_url.get()?;
        Some(format!(
            "{base}/card/{}",
            CardRef {
                member: member.number
            }
            .issue(keys)
        ))
    }

    /// When the pass last changed (Unix ms).
    pub fn updated_at_ms(&self) -> u64 {
        self.wallet.issued.as_ref().map_or(0, |i| i.updated_at_ms)
    }
}

/// Reads `number`'s pass; its first issue (or first Google save) is recorded in the member's
/// object first.
///
/// # Errors
/// [`Error::NotFound`] when there never was such a member; storage errors.
pub async fn current(env: &Env, number: MemberNumber, google: bool) -> Result<Current, Error> {
    let now_ms = worker::Date::now().as_millis();
    let ask = |op: WalletOp| Ask::Wallet { ask: op };
    let snapshot = cache::snapshot(env, now_ms).await?;
    let (mut member, mut wallet) = match members::ask(env, number, &ask(WalletOp::Get)).await? {
        Answer::Wallet { member, wallet, .. } => (member.map(|m| *m), *wallet),
        _ => return Err(Error::NotFound),
    };
    let content = member.as_ref().map(|m| pass_content(m, &snapshot, now_ms));
    if let Some(content) = &content {
        let shown = content.shown();
        // Only the first issue (or the first Google save) is recorded from here: after that the
        // member's object alone decides when the pass changed, with its own view of the
        // coupons, so two views a cache apart never undo each other's updates.
        if wallet.issued.is_none() || (google && wallet.google_since_ms.is_none()) {
            if let Answer::Wallet {
                member: m,
                wallet: w,
                ..
            } = members::ask(env, number, &ask(WalletOp::Sync { shown, google })).await?
            {
                member = m.map(|m| *m);
                wallet = *w;
            }
        }
    }
    Ok(Current {
        content: if member.is_some() { content } else { None },
        member,
        wallet,
        snapshot,
    })
}

/// `GET /wallet/logo.png`: the program logo Google Wallet fetches for the loyalty class.
pub fn logo() -> Result<crate::edge::runtime::respond::Outgoing, Error> {
    let png = optin_core::wallet::images::mark(660, 660)?;
    Ok(crate::edge::runtime::respond::bytes_with(
        200,
        "image/png",
        png,
        &[("cache-control", "public, max-age=86400")],
    ))
}
