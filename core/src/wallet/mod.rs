//! Wallet cards: the member's card as an Apple Wallet store card and a Google Wallet loyalty
//! object, kept up to date. Everything here is pure: what a pass shows ([`PassContent`]), when
//! it changed and who must hear of it ([`Wallet`], held in the member's slot), the files of a
//! pkpass ([`apple`]), its CMS signature ([`cms`]), the Google objects and JWTs ([`google`]).
//! The edge signs with WebCrypto and sends; it decides nothing.
//!
//! **One pass per member.** Its serial number is the member number (already printed on the
//! card and never given to anyone else, erased or not), so the PassKit web service reaches the
//! member's object directly. Its `authenticationToken` is a keyed hash of the serial
//! ([`auth_token`]) with the key that never rotates: unguessable, stable for the pass's life
//! (Apple requires it never changes), checked in constant time.
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

/// The pass's `authenticationToken` (32 characters; Apple asks for at least 16), keyed by
/// `PSEUDONYM_KEY`: the one key that never rotates, so the token never changes (Apple requires
/// that of a pass for its whole life).
pub fn auth_token(key: &[u8], serial: &str) -> String {
    let tag = hmac_sha256(key, &[b"wallet-pass-auth\0", serial.as_bytes()]);
    base32_lower(&tag[..20])
}

/// Whether `token` is the pass's token (compared in constant time).
pub fn token_matches(key: &[u8], serial: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(auth_token(key, serial).as_bytes().ct_eq(token.as_bytes()))
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

/// Something owed to a device or to Google: how often it was tried, when it is due next, and
/// which round of changes it carries (a change while it is on its way makes a new round, so
/// the answer to the old one does not settle it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub due_at_ms: u64,
    #[serde(default)]
    pub round: u32,
}

impl Due {
    /// Owed again: due now, with a new round.
    fn renew(&mut self, now_ms: u64) {
        self.round = self.round.wrapping_add(1);
        self.attempts = 0;
        self.due_at_ms = now_ms;
    }

    /// A failed try: due again after 1, 2, 4… minutes. Answers whether it is given up.
    fn failed(&mut self, now_ms: u64) -> bool {
        self.attempts += 1;
        self.due_at_ms = now_ms + (RETRY_BASE_MS << (self.attempts - 1).min(10));
        self.attempts >= MAX_ATTEMPTS
    }
}

/// The first retry's wait; each next one doubles (6 tries span about an hour).
pub const RETRY_BASE_MS: u64 = 60_000;

/// A push due to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub push_token: String,
    #[serde(flatten)]
    pub due: Due,
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
    /// A Google patch is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_due: Option<Due>,
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
    /// 410, or 400 `BadDeviceToken` / `DeviceTokenNotForTopic`: the token is no longer valid
    /// for this pass; the registration goes.
    Gone,
    /// Anything else (no answer, 403, 429, 5xx): tried again later, up to [`MAX_ATTEMPTS`].
    Failed,
}

/// How long after the save link a missing Google object means the shopper never saved it
/// (Google creates the object when they do, which may take a moment).
pub const GOOGLE_SAVE_GRACE_MS: u64 = 24 * 3600 * 1000;

impl Wallet {
    /// Something outside the slot (a device, Google) holds this pass.
    pub fn is_held(&self) -> bool {
        !self.devices.is_empty() || self.google_since_ms.is_some()
    }

    /// Something is owed to a device or to Google.
    pub fn owes(&self) -> bool {
        !self.pushes.is_empty() || self.google_due.is_some()
    }

    /// Whether [`Wallet::sync`] with `shown` at `now_ms` would change anything.
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
        self.notify_all(now_ms);
        true
    }

    /// Erasure: the pass becomes void; every device is pushed once more and the Google
    /// object is emptied and set inactive.
    pub fn void(&mut self, now_ms: u64) {
        if self.voided_at_ms.is_some() {
            return;
        }
        self.voided_at_ms = Some(now_ms);
        if let Some(issued) = self.issued.as_mut() {
            issued.updated_at_ms = next_update(issued.updated_at_ms, now_ms);
            issued.shown = String::new();
        }
        self.notify_all(now_ms);
    }

    fn notify_all(&mut self, now_ms: u64) {
        for device in &self.devices {
            match self
                .pushes
                .iter_mut()
                .find(|p| p.push_token == device.push_token)
            {
                Some(push) => push.due.renew(now_ms),
                None => {
                    let mut due = Due::default();
                    due.renew(now_ms);
                    self.pushes.push(Push {
                        push_token: device.push_token.clone(),
                        due,
                    });
                }
            }
        }
        if self.google_since_ms.is_some() {
            self.google_due
                .get_or_insert_with(Due::default)
                .renew(now_ms);
        }
    }

    /// Registers a device for the pass (a known device's push token is renewed).
    pub fn register(&mut self, library_id: &str, push_token: &str, now_ms: u64) -> Registration {
        if let Some(device) = self.devices.iter_mut().find(|d| d.library_id == library_id) {
            // A push still owed to the old token goes to the new one.
            for push in self
                .pushes
                .iter_mut()
                .filter(|p| p.push_token == device.push_token)
            {
                push.push_token = push_token.to_owned();
            }
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
            let gone = self.devices.remove(oldest);
            self.drop_pushes_of(&gone.push_token);
            gone.library_id
        });
        Registration {
            created: true,
            evicted,
        }
    }

    fn drop_pushes_of(&mut self, push_token: &str) {
        if !self.devices.iter().any(|d| d.push_token == push_token) {
            self.pushes.retain(|p| p.push_token != push_token);
        }
    }

    /// Unregisters a device; answers whether it was registered.
    pub fn unregister(&mut self, library_id: &str) -> bool {
        let Some(i) = self.devices.iter().position(|d| d.library_id == library_id) else {
            return false;
        };
        let gone = self.devices.remove(i);
        self.drop_pushes_of(&gone.push_token);
        true
    }

    pub fn is_registered(&self, library_id: &str) -> bool {
        self.devices.iter().any(|d| d.library_id == library_id)
    }

    /// The pushes due at `now_ms`: `(push token, round)`.
    pub fn pushes_due(&self, now_ms: u64) -> Vec<(String, u32)> {
        self.pushes
            .iter()
            .filter(|p| p.due.due_at_ms <= now_ms)
            .map(|p| (p.push_token.clone(), p.due.round))
            .collect()
    }

    /// The Google patch's round, when one is due at `now_ms`.
    pub fn google_patch_due(&self, now_ms: u64) -> Option<u32> {
        self.google_due
            .as_ref()
            .filter(|d| d.due_at_ms <= now_ms)
            .map(|d| d.round)
    }

    /// Records APNs's answer to the push of `round` for `push_token` (a newer round stays
    /// owed). Answers `(given up, devices dropped)`.
    pub fn pushed(
        &mut self,
        push_token: &str,
        round: u32,
        outcome: PushOutcome,
        now_ms: u64,
    ) -> (bool, Vec<Device>) {
        let Some(i) = self.pushes.iter().position(|p| p.push_token == push_token) else {
            return (false, Vec::new());
        };
        let current = self.pushes[i].due.round == round;
        match outcome {
            PushOutcome::Accepted if current => {
                self.pushes.remove(i);
                (false, Vec::new())
            }
            PushOutcome::Accepted => (false, Vec::new()),
            PushOutcome::Gone => {
                self.pushes.remove(i);
                let (gone, kept) = std::mem::take(&mut self.devices)
                    .into_iter()
                    .partition(|d| d.push_token == push_token);
                self.devices = kept;
                (false, gone)
            }
            PushOutcome::Failed => {
                let given_up = self.pushes[i].due.failed(now_ms);
                if given_up {
                    self.pushes.remove(i);
                }
                (given_up, Vec::new())
            }
        }
    }

    /// Records the outcome of the Google patch of `round` (`Some(true)` done, `Some(false)`
    /// failed, `None`: no such object). Answers whether it was given up.
    pub fn google_patched(&mut self, round: u32, done: Option<bool>, now_ms: u64) -> bool {
        let Some(due) = self.google_due.as_mut() else {
            return false;
        };
        let current = due.round == round;
        match done {
            Some(true) if current => {
                self.google_due = None;
                false
            }
            Some(true) => false,
            // Never saved (past the grace a save takes): nothing to patch, ever.
            None if self
                .google_since_ms
                .is_none_or(|since| now_ms >= since + GOOGLE_SAVE_GRACE_MS) =>
            {
                self.google_due = None;
                self.google_since_ms = None;
                false
            }
            None | Some(false) => {
                let given_up = due.failed(now_ms);
                if given_up {
                    self.google_due = None;
                }
                given_up
            }
        }
    }

    /// When the member's object should look at the pass again: the next push or patch due,
    /// the barcode's renewal, the next coupon window, a daily check for new coupons; after a
    /// void, the moment the registrations go. `None`: nothing holds the pass.
    pub fn next_check_ms(&self, coupons: &[Coupon], now_ms: u64) -> Option<u64> {
        let owed = self
            .pushes
            .iter()
            .map(|p| p.due.due_at_ms)
            .chain(self.google_due.iter().map(|d| d.due_at_ms))
            .min()
            .map(|t| t.max(now_ms));
        if let Some(voided) = self.voided_at_ms {
            let expiry = self.is_held().then_some(voided + VOIDED_KEPT_MS);
            return [owed, expiry].into_iter().flatten().min();
        }
        if !self.is_held() {
            return owed;
        }
        let renewal = self
            .issued
            .as_ref()
            .map(|i| (i.barcode_issued_at + BARCODE_RENEW_SECS) * 1000);
        let window = next_window_change(coupons, now_ms);
        [owed, renewal, window, Some(now_ms + RECHECK_MS)]
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
                self.google_due = None;
                self.pushes.clear();
                std::mem::take(&mut self.devices)
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
