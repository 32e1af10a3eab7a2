//! Coupons as the admin API takes them, the records kept in KV, and which coupons a member sees
//! and may use at a given time and store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{CouponId, StoreId};
use crate::lang::Lang;
use crate::stores::{clean_text, localized};
use crate::time::{format_rfc3339, parse_rfc3339, parse_rfc3339_from_epoch};

/// KV key of the index every card page reads.
pub const COUPONS_INDEX_KEY: &str = "coupons-index";
pub const COUPON_PREFIX: &str = "coupon:";

pub fn coupon_key(id: &CouponId) -> String {
    format!("{COUPON_PREFIX}{id}")
}

const MAX_TITLE: usize = 80;
const MAX_DESCRIPTION: usize = 500;
const MAX_STORES: usize = 100;

/// A coupon as kept in KV and returned by the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    pub id: CouponId,
    /// Title per language code; at least one.
    pub title: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<BTreeMap<String, String>>,
    /// Start of validity (inclusive), Unix ms; RFC 3339 in JSON.
    #[serde(rename = "valid_from", with = "rfc3339")]
    pub valid_from_ms: u64,
    /// End of validity (exclusive), Unix ms; RFC 3339 in JSON.
    #[serde(rename = "valid_until", with = "rfc3339")]
    pub valid_until_ms: u64,
    /// The stores where it is valid; `None`: every store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stores: Option<Vec<StoreId>>,
    /// Only members whose marketing consent is granted see and redeem it.
    pub requires_consent: bool,
    pub updated_at_ms: u64,
}

/// A coupon's status for a member at a till.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponStatus {
    Available,
    Redeemed,
    Expired,
    NotYetValid,
    NotValidHere,
}

impl CouponStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CouponStatus::Available => "available",
            CouponStatus::Redeemed => "redeemed",
            CouponStatus::Expired => "expired",
            CouponStatus::NotYetValid => "not_yet_valid",
            CouponStatus::NotValidHere => "not_valid_here",
        }
    }
}

fn pick(map: &BTreeMap<String, String>, lang: Lang) -> Option<&str> {
    map.get(lang.code())
        .or_else(|| Lang::ALL.into_iter().find_map(|l| map.get(l.code())))
        .map(String::as_str)
}

impl Coupon {
    /// The title in `lang`, else in the first language it has.
    pub fn title(&self, lang: Lang) -> &str {
        pick(&self.title, lang).unwrap_or(self.id.as_str())
    }

    /// The description in `lang`, else in the first language it has.
    pub fn description(&self, lang: Lang) -> Option<&str> {
        self.description.as_ref().and_then(|d| pick(d, lang))
    }

    /// The status at `now_ms` at `store` (before any redemption): the window first, then the store.
    pub fn status(&self, now_ms: u64, store: Option<&StoreId>) -> CouponStatus {
        window_status(
            (self.valid_from_ms, self.valid_until_ms),
            self.stores.as_deref(),
            now_ms,
            store,
        )
    }

    /// Whether a member's card shows it: in its window, valid at the favourite store (any store
    /// when none is chosen), and, when it requires consent, only while consent is granted.
    pub fn shown_on_card(
        &self,
        now_ms: u64,
        favourite: Option<&StoreId>,
        consent_granted: bool,
    ) -> bool {
        self.status(now_ms, favourite) == CouponStatus::Available
            && (consent_granted || !self.requires_consent)
    }
}

/// A coupon's status at `now_ms` at `store` (any store when `None`) from its window
/// (`[from, until)`) and its stores (every store when `None`): the window first, then the store.
pub fn window_status(
    (from_ms, until_ms): (u64, u64),
    stores: Option<&[StoreId]>,
    now_ms: u64,
    store: Option<&StoreId>,
) -> CouponStatus {
    if now_ms < from_ms {
        CouponStatus::NotYetValid
    } else if now_ms >= until_ms {
        CouponStatus::Expired
    } else if store.is_some_and(|s| stores.is_some_and(|list| !list.contains(s))) {
        CouponStatus::NotValidHere
    } else {
        CouponStatus::Available
    }
}

/// The body of `PUT /api/admin/coupons/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponInput {
    pub title: BTreeMap<String, String>,
    #[serde(default)]
    pub description: Option<BTreeMap<String, String>>,
    pub valid_from: String,
    pub valid_until: String,
    #[serde(default)]
    pub stores: Option<Vec<String>>,
    #[serde(default)]
    pub requires_consent: Option<bool>,
}

/// Something about a coupon that was saved which its author probably did not mean: it is kept
/// as sent (a coupon may name a store before the store is created, and ending a scheduled
/// coupon at or before its start cancels it), and the admin API says so beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

impl Coupon {
    /// What its author should know: an empty window (never valid), stores that do not exist
    /// (yet); `known_store` says whether a store exists.
    pub fn warnings(&self, known_store: impl Fn(&StoreId) -> bool) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if self.valid_until_ms <= self.valid_from_ms {
            warnings.push(Warning {
                code: "never_valid",
                message: "`valid_until` is not after `valid_from`: no member can see or redeem \
                          this coupon."
                    .into(),
            });
        }
        for store in self.stores.iter().flatten().filter(|s| !known_store(s)) {
            warnings.push(Warning {
                code: "unknown_store",
                message: format!(
                    "There is no store `{store}` yet: the coupon is valid there once it is created."
                ),
            });
        }
        warnings
    }
}

impl CouponInput {
    /// Validates and builds the record. A time before 1970 counts as 1970-01-01T00:00:00Z
    /// (nothing happens earlier); see [`Coupon::warnings`] for what is kept but worth a word.
    ///
    /// # Errors
    /// 422 with a code naming what is wrong.
    pub fn into_coupon(self, id: CouponId, now_ms: u64) -> Result<Coupon, Error> {
        let title = localized("title", "invalid_title", self.title, |t| {
            clean_text("title", &t, MAX_TITLE)
        })?;
        let description = match self.description {
            None => None,
            Some(d) => Some(localized("description", "invalid_description", d, |t| {
                description_text(&t)
            })?),
        };
        let valid_from = parse_rfc3339_from_epoch(&self.valid_from).ok_or_else(|| {
            Error::unprocessable(
                "invalid_valid_from",
                "`valid_from` is an RFC 3339 date-time, e.g. 2026-12-01T00:00:00+09:00.",
            )
        })?;
        let valid_until = parse_rfc3339_from_epoch(&self.valid_until).ok_or_else(|| {
            Error::unprocessable(
                "invalid_valid_until",
                "`valid_until` is an RFC 3339 date-time, e.g. 2026-12-31T23:59:59+09:00.",
            )
        })?;
        let stores = match self.stores {
            None => None,
            Some(raw) => Some(check_stores(raw)?),
        };
        Ok(Coupon {
            id,
            title,
            description,
            valid_from_ms: valid_from,
            valid_until_ms: valid_until,
            stores,
            requires_consent: self.requires_consent.unwrap_or(true),
            updated_at_ms: now_ms,
        })
    }
}

fn check_stores(raw: Vec<String>) -> Result<Vec<StoreId>, Error> {
    if raw.is_empty() || raw.len() > MAX_STORES {
        return Err(Error::unprocessable(
            "invalid_stores",
            format!("`stores` lists 1 to {MAX_STORES} store ids, or is left out for every store."),
        ));
    }
    let mut stores: Vec<StoreId> = Vec::with_capacity(raw.len());
    for s in raw {
        let id = StoreId::parse(&s).map_err(|why| Error::unprocessable("invalid_store_id", why))?;
        if stores.contains(&id) {
            return Err(Error::unprocessable(
                "invalid_stores",
                format!("`stores` lists `{id}` twice."),
            ));
        }
        stores.push(id);
    }
    Ok(stores)
}

/// 1 to 500 characters as sent, not blank; line breaks allowed, other control characters not;
/// kept trimmed.
fn description_text(raw: &str) -> Result<String, Error> {
    let text = raw.trim();
    if text.is_empty()
        || raw.chars().count() > MAX_DESCRIPTION
        || raw.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(Error::unprocessable(
            "invalid_description",
            format!("`description` is 1 to {MAX_DESCRIPTION} characters per language."),
        ));
    }
    Ok(text.to_owned())
}

/// The index of all coupons, read by every card page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponsIndex {
    pub coupons: Vec<Coupon>,
}

impl CouponsIndex {
    pub fn get(&self, id: &CouponId) -> Option<&Coupon> {
        self.coupons.iter().find(|c| &c.id == id)
    }
}

/// Unix ms as RFC 3339 strings in JSON.
mod rfc3339 {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_rfc3339(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_rfc3339(&text).ok_or_else(|| D::Error::custom("not an RFC 3339 date-time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: u64 = 1_795_000_000_000;
    const DAY: u64 = 86_400_000;

    fn store(id: &str) -> StoreId {
        StoreId::parse(id).unwrap()
    }

    fn input(body: serde_json::Value) -> Result<Coupon, Error> {
        let input: CouponInput = serde_json::from_value(body).map_err(Error::from)?;
        input.into_coupon(CouponId::parse("c1").unwrap(), T0)
    }

    fn good() -> serde_json::Value {
        json!({
            "title": {"en": "10% off", "ja": "10%オフ"},
            "description": {"en": "Once.\nAny store."},
            "valid_from": "2026-12-01T00:00:00+09:00",
            "valid_until": "2026-12-31T15:00:00Z",
            "stores": ["shibuya", "umeda"],
        })
    }

    #[test]
    fn a_coupon_keeps_the_contract_fields_and_rfc_3339_dates() {
        let c = input(good()).unwrap();
        assert!(
            c.requires_consent,
            "consent is required unless said otherwise"
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["valid_from"], "2026-11-30T15:00:00Z");
        assert_eq!(v["valid_until"], "2026-12-31T15:00:00Z");
        assert_eq!(v["stores"], json!(["shibuya", "umeda"]));
        assert_eq!(v["title"]["ja"], "10%オフ");
        assert_eq!(v["requires_consent"], true);
        let back: Coupon = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
        let mut everywhere = good();
        everywhere.as_object_mut().unwrap().remove("stores");
        everywhere.as_object_mut().unwrap().remove("description");
        everywhere["requires_consent"] = json!(false);
        let v = serde_json::to_value(input(everywhere).unwrap()).unwrap();
        assert!(v.get("stores").is_none() && v.get("description").is_none());
        assert_eq!(v["requires_consent"], false);
    }

    #[test]
    fn invalid_coupons_are_refused_with_a_code() {
        let with = |k: &str, v: serde_json::Value| {
            let mut b = good();
            b[k] = v;
            b
        };
        for (body, code) in [
            (with("title", json!({})), "invalid_title"),
            (with("title", json!({"de": "x"})), "unsupported_language"),
            (with("title", json!({"en": " "})), "invalid_field"),
            (
                with("description", json!({"en": "a\u{7}b"})),
                "invalid_description",
            ),
            // Counted and checked as sent (openapi.yaml's maxLength and pattern).
            (
                with(
                    "description",
                    json!({"en": format!("{}  ", "d".repeat(499))}),
                ),
                "invalid_description",
            ),
            (
                with("description", json!({"en": "Once.\r\n"})),
                "invalid_description",
            ),
            (
                with("valid_from", json!("2026-12-01")),
                "invalid_valid_from",
            ),
            (with("valid_until", json!("soon")), "invalid_valid_until"),
            (with("stores", json!([])), "invalid_stores"),
            (with("stores", json!(["a", "a"])), "invalid_stores"),
            (with("stores", json!(["Bad Id"])), "invalid_store_id"),
            (with("discount", json!(5)), "invalid_body"),
        ] {
            let err = input(body).unwrap_err();
            assert_eq!(err.code(), code, "{err:?}");
        }
    }

    /// Kept as sent, with a word: an empty window (a scheduled coupon cancelled by ending it
    /// at its start), a store not created yet; a time before 1970 is 1970.
    #[test]
    fn an_empty_window_and_unknown_stores_are_kept_with_warnings() {
        let known = |s: &StoreId| s.as_str() != "ghost";
        assert!(input(good()).unwrap().warnings(known).is_empty());
        let mut body = good();
        body["valid_until"] = json!("2026-11-30T15:00:00Z");
        body["stores"] = json!(["shibuya", "ghost"]);
        let c = input(body).unwrap();
        let codes: Vec<&str> = c.warnings(known).iter().map(|w| w.code).collect();
        assert_eq!(codes, ["never_valid", "unknown_store"]);
        for now in [c.valid_until_ms - 1, c.valid_from_ms, c.valid_from_ms + DAY] {
            assert_ne!(c.status(now, None), CouponStatus::Available, "{now}");
        }
        let mut old = good();
        old["valid_from"] = json!("0001-01-01T00:00:00Z");
        old["valid_until"] = json!("1969-12-31T23:59:59+09:00");
        let c = input(old).unwrap();
        assert_eq!((c.valid_from_ms, c.valid_until_ms), (0, 0));
        let codes: Vec<&str> = c.warnings(known).iter().map(|w| w.code).collect();
        assert_eq!(codes, ["never_valid"]);
    }

    #[test]
    fn status_has_an_inclusive_start_an_exclusive_end_and_the_window_wins() {
        let mut c = input(good()).unwrap();
        c.valid_from_ms = T0;
        c.valid_until_ms = T0 + DAY;
        let (here, elsewhere) = (store("shibuya"), store("namba"));
        assert_eq!(c.status(T0 - 1, Some(&here)), CouponStatus::NotYetValid);
        assert_eq!(c.status(T0, Some(&here)), CouponStatus::Available);
        assert_eq!(c.status(T0 + DAY - 1, None), CouponStatus::Available);
        assert_eq!(c.status(T0 + DAY, Some(&here)), CouponStatus::Expired);
        assert_eq!(c.status(T0, Some(&elsewhere)), CouponStatus::NotValidHere);
        assert_eq!(c.status(T0 + DAY, Some(&elsewhere)), CouponStatus::Expired);
        assert_eq!(CouponStatus::NotValidHere.as_str(), "not_valid_here");
        assert_eq!(
            serde_json::to_value(CouponStatus::NotYetValid).unwrap(),
            "not_yet_valid"
        );
    }

    #[test]
    fn the_card_shows_coupons_by_window_favourite_store_and_consent() {
        let mut c = input(good()).unwrap();
        c.valid_from_ms = T0;
        c.valid_until_ms = T0 + DAY;
        let fav = store("umeda");
        assert!(c.shown_on_card(T0, Some(&fav), true));
        assert!(!c.shown_on_card(T0, Some(&fav), false), "consent-gated");
        assert!(
            !c.shown_on_card(T0, Some(&store("namba")), true),
            "not at the favourite store"
        );
        assert!(c.shown_on_card(T0, None, true), "no favourite: any store");
        assert!(!c.shown_on_card(T0 + DAY, Some(&fav), true), "expired");
        c.requires_consent = false;
        assert!(c.shown_on_card(T0, Some(&fav), false));
    }

    #[test]
    fn titles_fall_back_to_the_first_language_and_keep_hostile_text_verbatim() {
        let mut b = good();
        b["title"] = json!({"fr": "<script>alert(1)</script>"});
        let c = input(b).unwrap();
        assert_eq!(c.title(Lang::Ja), "<script>alert(1)</script>");
        assert_eq!(c.description(Lang::Fr), Some("Once.\nAny store."));
    }
}
