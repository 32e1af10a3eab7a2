//! Wallet cards: the member's card as an Apple Wallet store card and a Google Wallet loyalty
//! object, kept up to date. Everything here is pure: what a pass shows ([`PassContent`]), when
//! it changed and who must hear of it ([`Wallet`], held in the member's slot), the files of a
//! pkpass ([`apple`]), its CMS signature ([`cms`]), the Google objects and JWTs ([`google`]).
//! The edge signs with WebCrypto and sends; it decides nothing.
//!
//! **One pass per member.** Its serial number is the member number (already printed on the
//! card and never given to anyone else, erased or not), so the PassKit web service reaches the
//! member's object directly. Its `authenticationToken` is a keyed hash of the serial
//! ([`auth_token`]): unguessable, stable across updates (Apple requires it never changes), and
//! checked in constant time against every signing key during a rotation.
//!
//! **Updates.** The pass's barcode is the member barcode issued at `barcode_issued_at`, so the
//! same pass always carries the same text; it is renewed [`BARCODE_RENEW_SECS`] after issue, well
//! before its 14 days run out. What else the pass shows is fingerprinted ([`PassContent::shown`]);
//! whenever the fingerprint or the barcode changes, [`Wallet::sync`] moves `updated_at_ms` on
//! (the web service's tag and `Last-Modified`) and queues a push to every registered device and
//! a patch of the Google object. Erasure voids the pass ([`Wallet::void`]): devices are pushed
//! once more and fetch a voided shell with no personal data; the registrations go
//! [`VOIDED_KEPT_MS`] later.

pub mod apple;
pub mod cms;
pub mod google;
pub mod images;
pub mod keys;
pub mod service;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codes::BARCODE_TTL_SECS;
use crate::coupons::Coupon;
use crate::encoding::{base32_lower, hex};
use crate::ids::{CouponId, MemberNumber};
use crate::members::MemberRecord;
use crate::settings::secrets::SigningKeys;
use crate::signing::hmac_sha256;
use crate::stores::Store;

/// Devices one member's pass may be registered on: a shopper's phone, a watch, a new phone
/// before the old one is gone. Past it the oldest registration makes room.
pub const MAX_DEVICES: usize = 8;

/// How long after issue a pass's barcode is renewed (10 of its 14 days: a phone that is off for
/// a few days still gets the new one before the old expires).
pub const BARCODE_RENEW_SECS: u64 = BARCODE_TTL_SECS - 4 * 24 * 3600;

/// How often a pass is checked against the coupons even when no window opens or closes: a
/// coupon the retailer adds reaches saved passes within this time.
pub const RECHECK_MS: u64 = 24 * 3600 * 1000;

/// How long a voided pass's registrations are kept, so devices that were off fetch the voided
/// pass when they come back.
pub const VOIDED_KEPT_MS: u64 = 30 * 24 * 3600 * 1000;

/// How many times a push or a Google patch is tried before it is given up (and logged).
pub const MAX_ATTEMPTS: u32 = 6;

/// The pass's serial number: the member number's twelve digits.
pub fn serial(member: MemberNumber) -> String {
    member.to_string()
}

/// The member a serial number names.
pub fn member_of_serial(serial: &str) -> Option<MemberNumber> {
    MemberNumber::parse_plain(serial).ok()
}

/// The next moment a pass may say it changed: strictly after `previous_ms`, in a later whole
/// second (HTTP dates, which `Last-Modified` and `If-Modified-Since` carry, have seconds only).
fn next_update(previous_ms: u64, now_ms: u64) -> u64 {
    now_ms.max((previous_ms / 1000 + 1) * 1000)
}

/// The pass's `authenticationToken` (32 characters; Apple asks for at least 16).
pub fn auth_token(keys: &SigningKeys, serial: &str) -> String {
    token_with(keys.current().bytes(), serial)
}

fn token_with(key: &[u8], serial: &str) -> String {
    let tag = hmac_sha256(key, &[b"wallet-pass-auth\0", serial.as_bytes()]);
    base32_lower(&tag[..20])
}

/// Whether `token` is the pass's token under any of the keys (a rotation keeps old passes).
pub fn token_matches(keys: &SigningKeys, serial: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    keys.all().iter().fold(false, |found, key| {
        let expected = token_with(key.bytes(), serial);
        found | bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    })
}

/// A coupon as a pass lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassCoupon {
    pub id: CouponId,
    pub title: BTreeMap<String, String>,
    pub valid_until_ms: u64,
}

/// Everything a pass shows but its barcode: when this changes, the pass is updated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PassContent {
    pub number: MemberNumber,
    pub favourite: Option<Store>,
    pub coupons: Vec<PassCoupon>,
    /// Consent to marketing is granted on some channel (the back of the pass says so).
    pub offers: bool,
}

impl PassContent {
    /// What `member`'s pass shows at `now_ms`: the coupons the card shows and the member has
    /// not redeemed yet, the favourite store.
    pub fn of(member: &MemberRecord, coupons: &[Coupon], stores: &[Store], now_ms: u64) -> Self {
        let granted = member.consent_granted();
        PassContent {
            number: member.number,
            favourite: member
                .favourite_store
                .as_ref()
                .and_then(|id| stores.iter().find(|s| &s.id == id))
                .cloned(),
            coupons: coupons
                .iter()
                .filter(|c| c.shown_on_card(now_ms, member.favourite_store.as_ref(), granted))
                .filter(|c| !member.redemptions.iter().any(|r| r.coupon_id == c.id))
                .map(|c| PassCoupon {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    valid_until_ms: c.valid_until_ms,
                })
                .collect(),
            offers: granted,
        }
    }

    /// The fingerprint of what is shown (the store's `updated_at_ms` left out: an edit that
    /// changes nothing visible is no update).
    pub fn shown(&self) -> String {
        let mut content = self.clone();
        if let Some(store) = content.favourite.as_mut() {
            store.updated_at_ms = 0;
        }
        let json = serde_json::to_vec(&content).unwrap_or_default();
        hex(&Sha256::digest(json)[..16])
    }
}

/// The next moment a coupon window opens or closes after `now_ms` (what the pass shows
/// changes then).
pub fn next_window_change(coupons: &[Coupon], now_ms: u64) -> Option<u64> {
    coupons
        .iter()
        .flat_map(|c| [c.valid_from_ms, c.valid_until_ms])
        .filter(|t| *t > now_ms)
        .min()
}

/// A device a pass is registered on (PassKit web service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Wallet's `deviceLibraryIdentifier`.
    pub library_id: String,
    pub push_token: String,
    pub registered_at_ms: u64,
}

/// A push due to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub push_token: String,
    #[serde(default)]
    pub attempts: u32,
}

/// The issued pass: when it last changed, its barcode, what it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    pub updated_at_ms: u64,
    /// Unix seconds: the member barcode in the pass is `Barcode::new(number, None, this)`.
    pub barcode_issued_at: u64,
    /// [`PassContent::shown`] of the pass as of `updated_at_ms`.
    pub shown: String,
}

/// The wallet side of a member's slot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wallet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<Issued>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    /// When the member first asked for the Google Wallet object (it is patched from then on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_since_ms: Option<u64>,
    /// Set by erasure: the pass is void.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided_at_ms: Option<u64>,
    /// Pushes not yet answered by APNs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushes: Vec<Push>,
    /// A Google patch is due (its attempts so far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_due: Option<u32>,
}

/// What registering a device came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// A new registration (201), not a known one (200).
    pub created: bool,
    /// The device whose registration made room ([`MAX_DEVICES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evicted: Option<String>,
}

/// How APNs answered a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// 200: accepted for delivery.
    Accepted,
    /// 410 (or 400 `BadDeviceToken`): the token is no longer valid; the registration goes.
    Gone,
    /// Anything else (no answer, 403, 429, 5xx): tried again up to [`MAX_ATTEMPTS`].
    Failed,
}

impl Wallet {
    /// Something outside the slot (a device, Google) holds this pass.
    pub fn is_held(&self) -> bool {
        !self.devices.is_empty() || self.google_since_ms.is_some()
    }

    /// Whether [`Wallet::sync`] with `shown` at `now_ms` would change anything (the edge asks
    /// the member's object only then).
    pub fn needs_sync(&self, shown: &str, now_ms: u64) -> bool {
        self.voided_at_ms.is_none()
            && self.issued.as_ref().is_none_or(|i| {
                i.shown != shown || now_ms / 1000 >= i.barcode_issued_at + BARCODE_RENEW_SECS
            })
    }

    /// The pass as of `shown` at `now_ms`: the first issue records it; later, a new fingerprint
    /// or a barcode due for renewal updates it and queues a push to every device and a Google
    /// patch. Answers whether the pass was updated (a first issue is no update).
    pub fn sync(&mut self, shown: &str, now_ms: u64) -> bool {
        if self.voided_at_ms.is_some() {
            return false;
        }
        let now = now_ms / 1000;
        let Some(issued) = self.issued.as_mut() else {
            self.issued = Some(Issued {
                updated_at_ms: now_ms,
                barcode_issued_at: now,
                shown: shown.to_owned(),
            });
            return false;
        };
        let renew = now >= issued.barcode_issued_at + BARCODE_RENEW_SECS;
        if !renew && issued.shown == shown {
            return false;
        }
        if renew {
            issued.barcode_issued_at = now;
        }
        issued.shown = shown.to_owned();
        // Strictly later: a device that fetched at `updated_at_ms` must see this one as new.
        issued.updated_at_ms = next_update(issued.updated_at_ms, now_ms);
        self.notify_all();
        true
    }

    /// Erasure: the pass becomes void; every device is pushed once more and the Google
    /// object is set inactive.
    pub fn void(&mut self, now_ms: u64) {
        if self.voided_at_ms.is_some() {
            return;
        }
        self.voided_at_ms = Some(now_ms);
        if let Some(issued) = self.issued.as_mut() {
            issued.updated_at_ms = next_update(issued.updated_at_ms, now_ms);
            issued.shown = String::new();
        }
        self.notify_all();
    }

    fn notify_all(&mut self) {
        for device in &self.devices {
            if !self
                .pushes
                .iter()
                .any(|p| p.push_token == device.push_token)
            {
                self.pushes.push(Push {
                    push_token: device.push_token.clone(),
                    attempts: 0,
                });
            }
        }
        if self.google_since_ms.is_some() {
            self.google_due = Some(0);
        }
    }

    /// Registers a device for the pass (a known device's push token is renewed).
    pub fn register(&mut self, library_id: &str, push_token: &str, now_ms: u64) -> Registration {
        if let Some(device) = self.devices.iter_mut().find(|d| d.library_id == library_id) {
            device.push_token = push_token.to_owned();
            return Registration {
                created: false,
                evicted: None,
            };
        }
        self.devices.push(Device {
            library_id: library_id.to_owned(),
            push_token: push_token.to_owned(),
            registered_at_ms: now_ms,
        });
        let evicted = (self.devices.len() > MAX_DEVICES).then(|| {
            let oldest = self
                .devices
                .iter()
                .enumerate()
                .min_by_key(|(_, d)| d.registered_at_ms)
                .map_or(0, |(i, _)| i);
            self.devices.remove(oldest).library_id
        });
        Registration {
            created: true,
            evicted,
        }
    }

    /// Unregisters a device; answers whether it was registered.
    pub fn unregister(&mut self, library_id: &str) -> bool {
        let before = self.devices.len();
        self.devices.retain(|d| d.library_id != library_id);
        before != self.devices.len()
    }

    pub fn is_registered(&self, library_id: &str) -> bool {
        self.devices.iter().any(|d| d.library_id == library_id)
    }

    /// Records APNs's answer to the push for `push_token`. Answers whether it was given up.
    pub fn pushed(&mut self, push_token: &str, outcome: PushOutcome) -> bool {
        let Some(i) = self.pushes.iter().position(|p| p.push_token == push_token) else {
            return false;
        };
        match outcome {
            PushOutcome::Accepted => {
                self.pushes.remove(i);
                false
            }
            PushOutcome::Gone => {
                self.pushes.remove(i);
                self.devices.retain(|d| d.push_token != push_token);
                false
            }
            PushOutcome::Failed => {
                self.pushes[i].attempts += 1;
                let given_up = self.pushes[i].attempts >= MAX_ATTEMPTS;
                if given_up {
                    self.pushes.remove(i);
                }
                given_up
            }
        }
    }

    /// Records the Google patch's outcome (`Some(true)` done, `Some(false)` failed, `None`: the
    /// object was never saved, so there is nothing to patch). Answers whether it was given up.
    pub fn google_patched(&mut self, done: Option<bool>) -> bool {
        match done {
            Some(true) => {
                self.google_due = None;
                false
            }
            None => {
                self.google_due = None;
                self.google_since_ms = None;
                false
            }
            Some(false) => {
                let attempts = self.google_due.unwrap_or(0) + 1;
                let given_up = attempts >= MAX_ATTEMPTS;
                self.google_due = (!given_up).then_some(attempts);
                given_up
            }
        }
    }

    /// When the member's object should look at the pass again: a retry of pushes still due,
    /// the barcode's renewal, the next coupon window, a daily check for new coupons; after a
    /// void, the moment the registrations go. `None`: nothing holds the pass.
    pub fn next_check_ms(&self, coupons: &[Coupon], now_ms: u64, retry_ms: u64) -> Option<u64> {
        if let Some(voided) = self.voided_at_ms {
            if !self.pushes.is_empty() || self.google_due.is_some() {
                return Some(now_ms + retry_ms);
            }
            return self.is_held().then_some(voided + VOIDED_KEPT_MS);
        }
        if !self.is_held() {
            return None;
        }
        let retry =
            (!self.pushes.is_empty() || self.google_due.is_some()).then_some(now_ms + retry_ms);
        let renewal = self
            .issued
            .as_ref()
            .map(|i| (i.barcode_issued_at + BARCODE_RENEW_SECS) * 1000);
        let window = next_window_change(coupons, now_ms);
        [retry, renewal, window, Some(now_ms + RECHECK_MS)]
            .into_iter()
            .flatten()
            .min()
    }

    /// After a void: drops the registrations once [`VOIDED_KEPT_MS`] have passed. Answers the
    /// devices dropped.
    pub fn expire_void(&mut self, now_ms: u64) -> Vec<Device> {
        match self.voided_at_ms {
            Some(voided) if now_ms >= voided + VOIDED_KEPT_MS => {
                self.google_since_ms = None;
                self.pushes.clear();
                std::mem::take(&mut self.devices)
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
