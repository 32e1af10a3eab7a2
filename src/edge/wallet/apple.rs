//! The Apple Wallet pass (`GET /card/{card}/wallet.pkpass`) and Apple's PassKit web service
//! (`/wallet/v1/…`, [`optin_core::wallet::service`]). A device's registrations live in the
//! member's object (the truth, bounded per member); KV keeps one key per (device, serial)
//! only to answer "which passes does this device hold", each written once by its own
//! registration, and every answer is checked against the member's object.

use std::rc::Rc;

use worker::Env;

use super::{apple_settings, current, sign, Current};
use crate::edge::members;
use crate::edge::runtime::respond::{self, Outgoing};
use crate::edge::runtime::{body, env};
use crate::edge::Call;
use optin_core::codes::CardRef;
use optin_core::error::Error;
use optin_core::log::{EventLog, Level};
use optin_core::members::{Answer, Request as Ask, WalletOp};
use optin_core::settings::config::{AppleWallet, Config};
use optin_core::settings::secrets::SigningKeys;
use optin_core::time::{format_http_date, parse_http_date};
use optin_core::wallet::apple::{PassFiles, PassInput, CONTENT_TYPE};
use optin_core::wallet::cms::Unsigned;
use optin_core::wallet::service::{self, Call as WalletCall, RegisterBody};
use optin_core::wallet::{self, auth_token, member_of_serial, serial, token_matches};

/// KV: one key per device holding a pass, `wallet:device:{device}:{serial}`.
const DEVICE_PREFIX: &str = "wallet:device:";
/// The most passes one device is answered for (a family's cards on one phone).
const MAX_PASSES_PER_DEVICE: u32 = 20;

/// The pass's images, `(file name, PNG)`.
type Images = Rc<Vec<(String, Vec<u8>)>>;

thread_local! {
    static IMAGES: std::cell::OnceCell<Images> = const { std::cell::OnceCell::new() };
}

fn images() -> Result<Images, Error> {
    if let Some(images) = IMAGES.with(|c| c.get().cloned()) {
        return Ok(images);
    }
    let images = Rc::new(wallet::images::pass_images()?);
    IMAGES.with(|c| {
        let _ = c.set(images.clone());
    });
    Ok(images)
}

/// The key of the passes' tokens: `PSEUDONYM_KEY`, which never rotates.
fn pass_token_key(config: &Config) -> Result<&[u8], Error> {
    Ok(config
        .pseudonym_key
        .require("PSEUDONYM_KEY")?
        .expose()
        .as_bytes())
}

/// The signed `.pkpass` of the pass as it is now.
async fn pkpass(
    config: &Config,
    apple: &AppleWallet,
    keys: &SigningKeys,
    pass: &Current,
    serial: &str,
) -> Result<Vec<u8>, Error> {
    let base = config.public_base_url.require("PUBLIC_BASE_URL")?;
    let web_service_url = format!("{base}/wallet");
    let token = auth_token(pass_token_key(config)?, serial);
    let barcode = pass.barcode(keys);
    let card_url = pass.card_url(config, keys);
    let organization = config
        .controller_name
        .get()
        .map_or("Membership", String::as_str);
    let input = PassInput {
        pass_type_id: &apple.pass_type_id,
        team_id: &apple.team_id,
        organization,
        serial,
        auth_token: &token,
        web_service_url: &web_service_url,
        content: pass.content.as_ref(),
        barcode: barcode.as_deref(),
        card_url: card_url.as_deref(),
        stores: &pass.snapshot.stores.stores,
    };
    let files = PassFiles::new(&input, &images()?);
    let unsigned = Unsigned::new(&files.manifest, worker::Date::now().as_millis() / 1000)?;
    let signature = sign(
        "apple",
        &apple.signer.key_pkcs8,
        apple.signer.kind,
        &unsigned.to_sign,
    )
    .await?;
    let signature = unsigned.finish(&apple.signer, &signature)?;
    files.pkpass(&signature)
}

fn pass_answer(bytes: Vec<u8>, updated_at_ms: u64) -> Outgoing {
    let modified = format_http_date(updated_at_ms);
    respond::bytes_with(
        200,
        CONTENT_TYPE,
        bytes,
        &[
            ("cache-control", "private, no-store"),
            ("last-modified", &modified),
            (
                "content-disposition",
                "attachment; filename=\"card.pkpass\"",
            ),
        ],
    )
}

/// `GET /card/{card}/wallet.pkpass`
pub async fn card_pass(call: &Call<'_>, card: &str) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let number = CardRef::verify(keys, card)
        .map_err(|_| Error::NotFound)?
        .member;
    let apple = apple_settings(call.env)?;
    let pass = current(call.env, number, false).await?;
    if pass.member.is_none() {
        return Err(Error::NotFound);
    }
    let bytes = pkpass(&config, &apple, keys, &pass, &serial(number)).await?;
    Ok(pass_answer(bytes, pass.updated_at_ms()))
}

/// `/wallet/v1/…`: Apple's PassKit web service.
pub async fn service(mut call: Call<'_>, wallet_call: WalletCall) -> Result<Outgoing, Error> {
    let config = env::config(call.env);
    if wallet_call == WalletCall::Log {
        let raw = body::read_limited(&mut call.req).await?;
        for line in service::log_lines(&raw) {
            let log = EventLog {
                level: Level::Warn,
                msg: "wallet log",
                request_id: call.request_id,
                detail: Some(line),
            };
            worker::console_warn!("{}", log.to_line());
        }
        return Ok(respond::text(200, respond::JSON, "{}".into()));
    }
    let keys = config.signing_keys.require("SIGNING_KEYS")?;
    let token_key = pass_token_key(&config)?;
    let apple = apple_settings(call.env)?;
    let unauthorized = Error::Unauthorized {
        code: "wallet_token",
    };
    // The member whose pass `serial` of `pass_type_id` the caller holds (its token, compared
    // in constant time), else 401.
    let holder = |pass_type_id: &str, serial: &str| {
        let held = pass_type_id == apple.pass_type_id
            && service::apple_pass_token(call.header("authorization").as_deref())
                .is_some_and(|token| token_matches(token_key, serial, token));
        held.then(|| member_of_serial(serial))
            .flatten()
            .ok_or_else(|| unauthorized.clone())
    };
    match wallet_call {
        WalletCall::Registration {
            register,
            device,
            pass_type_id,
            serial,
        } => {
            let number = holder(&pass_type_id, &serial)?;
            let kv = call.kv()?;
            let key = format!("{DEVICE_PREFIX}{device}:{serial}");
            if !register {
                members::ask(
                    call.env,
                    number,
                    &Ask::Wallet {
                        ask: WalletOp::Unregister {
                            device: device.clone(),
                        },
                    },
                )
                .await?;
                kv.delete(&key).await?;
                return Ok(respond::text(200, respond::JSON, "{}".into()));
            }
            let raw = body::read_limited(&mut call.req).await?;
            let body = RegisterBody::parse(&raw).ok_or_else(|| {
                Error::bad_request(
                    "invalid_push_token",
                    "`pushToken` is the device's hex token.",
                )
            })?;
            let ask = Ask::Wallet {
                ask: WalletOp::Register {
                    device,
                    push_token: body.push_token,
                },
            };
            let Answer::Wallet {
                registration: Some(registration),
                ..
            } = members::ask(call.env, number, &ask).await?
            else {
                // Erased (or never a member): the pass is void and registers nothing.
                return Err(unauthorized);
            };
            kv.put_text(&key, "1".into(), None::<&()>).await?;
            if let Some(evicted) = registration.evicted {
                kv.delete(&format!("{DEVICE_PREFIX}{evicted}:{serial}"))
                    .await?;
            }
            let status = if registration.created { 201 } else { 200 };
            Ok(respond::text(status, respond::JSON, "{}".into()))
        }
        WalletCall::Serials {
            device,
            pass_type_id,
        } => {
            if pass_type_id != apple.pass_type_id {
                return Ok(respond::no_content());
            }
            let since = service::since_tag(call.query("passesUpdatedSince").as_deref());
            let kv = call.kv()?;
            let prefix = format!("{DEVICE_PREFIX}{device}:");
            let page = kv.list(&prefix, None, MAX_PASSES_PER_DEVICE).await?;
            let mut serials = Vec::new();
            let mut last = since;
            for key in page.keys {
                let Some(number) = key.name.strip_prefix(&prefix).and_then(member_of_serial) else {
                    continue;
                };
                let ask = Ask::Wallet { ask: WalletOp::Get };
                if let Answer::Wallet { wallet, .. } = members::ask(call.env, number, &ask).await? {
                    let updated = wallet.issued.as_ref().map_or(0, |i| i.updated_at_ms);
                    if wallet.is_registered(&device) && updated > since {
                        serials.push(serial(number));
                        last = last.max(updated);
                    }
                }
            }
            if serials.is_empty() {
                return Ok(respond::no_content());
            }
            Ok(respond::json(
                200,
                &serde_json::json!({ "serialNumbers": serials, "lastUpdated": last.to_string() }),
            ))
        }
        WalletCall::Pass {
            pass_type_id,
            serial,
        } => {
            let number = holder(&pass_type_id, &serial)?;
            let pass = current(call.env, number, false).await?;
            let updated = pass.updated_at_ms();
            // HTTP dates have whole seconds: unchanged since the second it was last sent.
            let since = call
                .header("if-modified-since")
                .as_deref()
                .and_then(parse_http_date);
            if since.is_some_and(|s| updated / 1000 * 1000 <= s) {
                let modified = format_http_date(updated);
                return Ok(respond::empty(304, &[("last-modified", &modified)]));
            }
            let bytes = pkpass(&config, &apple, keys, &pass, &serial).await?;
            Ok(pass_answer(bytes, updated))
        }
        WalletCall::Log => Ok(respond::text(200, respond::JSON, "{}".into())),
    }
}

/// Drops the device index keys of registrations that are gone (after a void).
pub async fn forget_devices(env: &Env, serial: &str, devices: &[wallet::Device]) {
    let Ok(kv) = crate::edge::runtime::kv::namespace(env) else {
        return;
    };
    for device in devices {
        let _ = kv
            .delete(&format!("{DEVICE_PREFIX}{}:{serial}", device.library_id))
            .await;
    }
}
