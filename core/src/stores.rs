//! Stores and consent notices as the admin API takes them: validated input, the records kept in
//! KV, and the localized text a page picks from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::StoreId;
use crate::lang::Lang;

/// KV key of the index every landing page reads (all stores, for the favourite-store choice).
pub const STORES_INDEX_KEY: &str = "stores-index";

pub fn store_key(id: &StoreId) -> String {
    format!("store:{id}")
}

pub const STORE_PREFIX: &str = "store:";

pub fn notice_key(version: &str) -> String {
    format!("notice:{version}")
}

pub const NOTICE_PREFIX: &str = "notice:";

const MAX_NAME: usize = 80;
const MAX_ADDRESS: usize = 200;
const MAX_TITLE: usize = 120;
const MAX_NOTICE_BODY: usize = 20_000;

/// A store as kept in KV and shown on pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Store {
    pub id: StoreId,
    /// Name per language code (`ja`, `en`, `fr`); at least one.
    pub names: BTreeMap<String, String>,
    pub address: String,
    /// IANA time zone, e.g. `Asia/Tokyo`.
    pub timezone: String,
    /// ISO 3166-1 alpha-2 (`FR`); `None`: the country of `JURISDICTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// WGS 84 degrees: wallet passes show themselves near the store (both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    pub updated_at_ms: u64,
}

impl Store {
    /// `(latitude, longitude)`, when the store has both.
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        self.latitude.zip(self.longitude)
    }

    /// The store's country: its own, else `jurisdiction`'s (`None` when neither is known).
    pub fn country<'a>(&'a self, jurisdiction: Option<&'a str>) -> Option<&'a str> {
        self.country.as_deref().or(jurisdiction)
    }

    /// The languages the store has a name in, in page order.
    pub fn languages(&self) -> Vec<Lang> {
        Lang::ALL
            .into_iter()
            .filter(|l| self.names.contains_key(l.code()))
            .collect()
    }

    /// The name in `lang`, else in the store's first language.
    pub fn name(&self, lang: Lang) -> &str {
        self.names
            .get(lang.code())
            .or_else(|| {
                self.languages()
                    .first()
                    .and_then(|l| self.names.get(l.code()))
            })
            .map_or(self.id.as_str(), String::as_str)
    }
}

/// The body of `PUT /api/admin/stores/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreInput {
    pub names: BTreeMap<String, String>,
    pub address: String,
    pub timezone: String,
    /// ISO 3166-1 alpha-2, upper case; absent or null: `JURISDICTION`'s.
    #[serde(default)]
    pub country: Option<String>,
    /// WGS 84 degrees, both or neither.
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
}

impl StoreInput {
    /// Validates and builds the record.
    ///
    /// # Errors
    /// 422 with a code naming what is wrong.
    pub fn into_store(self, id: StoreId, now_ms: u64) -> Result<Store, Error> {
        check_coordinates(self.latitude, self.longitude)?;
        let names = localized("names", "invalid_names", self.names, |name| {
            clean_text("names", &name, MAX_NAME)
        })?;
        Ok(Store {
            id,
            names,
            address: clean_text("address", &self.address, MAX_ADDRESS)?,
            timezone: check_timezone(&self.timezone)?,
            country: self.country.map(|c| check_country(&c)).transpose()?,
            latitude: self.latitude,
            longitude: self.longitude,
            updated_at_ms: now_ms,
        })
    }
}

/// Both or neither, each a finite number in range.
fn check_coordinates(latitude: Option<f64>, longitude: Option<f64>) -> Result<(), Error> {
    let ok = match (latitude, longitude) {
        (None, None) => true,
        (Some(lat), Some(lon)) => (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::unprocessable(
            "invalid_coordinates",
            "`latitude` (-90 to 90) and `longitude` (-180 to 180) are given together, in degrees.",
        ))
    }
}

/// Two capital letters, as ISO 3166-1 alpha-2 writes a country (`FR`, `JP`).
fn check_country(raw: &str) -> Result<String, Error> {
    if raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw.to_owned())
    } else {
        Err(Error::unprocessable(
            "invalid_country",
            "`country` is an ISO 3166-1 alpha-2 code in capitals, such as FR or JP.",
        ))
    }
}

/// A map keyed by language code (exactly `ja`, `en` or `fr`, at least one), each value checked.
///
/// # Errors
/// 422 `empty_code` when empty, `unsupported_language`, or what `check` says.
pub(crate) fn localized<T, U>(
    field: &'static str,
    empty_code: &'static str,
    map: BTreeMap<String, T>,
    check: impl Fn(T) -> Result<U, Error>,
) -> Result<BTreeMap<String, U>, Error> {
    if map.is_empty() {
        return Err(Error::unprocessable(
            empty_code,
            format!("`{field}` needs at least one of ja, en, fr."),
        ));
    }
    let mut out = BTreeMap::new();
    for (code, value) in map {
        if Lang::parse(&code).is_none_or(|l| l.code() != code) {
            return Err(Error::unprocessable(
                "unsupported_language",
                format!("`{field}` are given in ja, en or fr."),
            ));
        }
        out.insert(code, check(value)?);
    }
    Ok(out)
}

/// 1 to `max` characters without control characters (line breaks included), not blank; kept
/// trimmed. The length and the characters are those of the text as sent, as openapi.yaml states
/// them (`maxLength`, `pattern`): trailing spaces count, a trailing newline is refused.
pub(crate) fn clean_text(field: &'static str, raw: &str, max: usize) -> Result<String, Error> {
    let text = raw.trim();
    if text.is_empty() || raw.chars().count() > max || raw.chars().any(char::is_control) {
        return Err(Error::unprocessable(
            "invalid_field",
            format!("`{field}` is 1 to {max} characters without control characters."),
        ));
    }
    Ok(text.to_owned())
}

/// One of the zones a store may be in ([`crate::time_zones`]).
fn check_timezone(raw: &str) -> Result<String, Error> {
    if crate::time_zones::is_time_zone(raw) {
        Ok(raw.to_owned())
    } else {
        Err(Error::unprocessable(
            "invalid_timezone",
            "`timezone` is an IANA time zone such as Asia/Tokyo.",
        ))
    }
}

/// The index of all stores, read by every landing page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoresIndex {
    pub stores: Vec<Store>,
}

impl StoresIndex {
    pub fn get(&self, id: &StoreId) -> Option<&Store> {
        self.stores.iter().find(|s| &s.id == id)
    }
}

/// A consent notice version: what shoppers agree to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub version: String,
    /// Title and body per language code.
    pub texts: BTreeMap<String, NoticeText>,
    pub created_at_ms: u64,
    /// When it became the notice new consents refer to; once set, the text is frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeText {
    pub title: String,
    pub body: String,
}

impl Notice {
    /// The text in `lang`, else in the first language it has.
    pub fn text(&self, lang: Lang) -> Option<(Lang, &NoticeText)> {
        self.texts.get(lang.code()).map(|t| (lang, t)).or_else(|| {
            Lang::ALL
                .into_iter()
                .find_map(|l| self.texts.get(l.code()).map(|t| (l, t)))
        })
    }
}

/// The body of `PUT /api/admin/notices/{version}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    pub texts: BTreeMap<String, NoticeText>,
}

/// A notice version: 1 to 32 of letters, digits, `.`, `_`, `-`, starting with a letter or digit.
///
/// # Errors
/// 400 `invalid_version`.
pub fn check_notice_version(raw: &str) -> Result<&str, Error> {
    let ok = !raw.is_empty()
        && raw.len() <= 32
        && raw.starts_with(|c: char| c.is_ascii_alphanumeric())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(raw)
    } else {
        Err(Error::bad_request(
            "invalid_version",
            "A notice version is 1 to 32 of letters, digits, '.', '_' and '-'.",
        ))
    }
}

impl NoticeInput {
    /// Validates and builds the record.
    ///
    /// # Errors
    /// 422 with a code naming what is wrong.
    pub fn into_notice(self, version: &str, now_ms: u64) -> Result<Notice, Error> {
        let texts = localized("texts", "invalid_texts", self.texts, |text: NoticeText| {
            let body = text.body.trim();
            if body.is_empty() || text.body.chars().count() > MAX_NOTICE_BODY {
                return Err(Error::unprocessable(
                    "invalid_field",
                    format!("`body` is 1 to {MAX_NOTICE_BODY} characters."),
                ));
            }
            Ok(NoticeText {
                title: clean_text("title", &text.title, MAX_TITLE)?,
                body: body.to_owned(),
            })
        })?;
        Ok(Notice {
            version: version.to_owned(),
            texts,
            created_at_ms: now_ms,
            activated_at_ms: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(names: &[(&str, &str)], tz: &str) -> StoreInput {
        StoreInput {
            names: names
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            address: "1-2-3 Jingumae, Shibuya".into(),
            timezone: tz.into(),
            country: None,
            latitude: None,
            longitude: None,
        }
    }

    fn with_country(country: &str) -> StoreInput {
        StoreInput {
            country: Some(country.into()),
            ..input(&[("en", "X")], "UTC")
        }
    }

    fn id() -> StoreId {
        StoreId::parse("shibuya").unwrap()
    }

    #[test]
    fn a_valid_store_keeps_its_names_trimmed() {
        let s = input(&[("ja", " 渋谷店 "), ("en", "Shibuya")], "Asia/Tokyo")
            .into_store(id(), 5)
            .unwrap();
        assert_eq!(s.name(Lang::Ja), "渋谷店");
        assert_eq!(
            s.name(Lang::Fr),
            "渋谷店",
            "falls back to the first language"
        );
        assert_eq!(s.languages(), [Lang::Ja, Lang::En]);
    }

    #[test]
    fn hostile_names_are_kept_verbatim_for_escaping_later() {
        let s = input(
            &[("en", "<script>alert(1)</script> \"Ü\" \u{202E}RTL 🛒")],
            "UTC",
        )
        .into_store(id(), 0)
        .unwrap();
        assert!(s.name(Lang::En).contains("<script>"));
    }

    #[test]
    fn invalid_stores_are_422_with_a_code() {
        let cases = [
            (input(&[], "UTC"), "invalid_names"),
            (input(&[("de", "X")], "UTC"), "unsupported_language"),
            (input(&[("JA", "X")], "UTC"), "unsupported_language"),
            (input(&[("en", "  ")], "UTC"), "invalid_field"),
            (input(&[("en", "a\nb")], "UTC"), "invalid_field"),
            (input(&[("en", &"x".repeat(81))], "UTC"), "invalid_field"),
            // As sent: the spaces count towards the length, a trailing newline is refused.
            (
                input(&[("en", &format!("{}  ", "x".repeat(79)))], "UTC"),
                "invalid_field",
            ),
            (input(&[("en", "Shibuya\n")], "UTC"), "invalid_field"),
            (input(&[("en", "\tShibuya")], "UTC"), "invalid_field"),
            (input(&[("en", "X")], "Tokyo"), "invalid_timezone"),
            (input(&[("en", "X")], "asia/tokyo"), "invalid_timezone"),
            (input(&[("en", "X")], "Asia/Tokyo;DROP"), "invalid_timezone"),
            (input(&[("en", "X")], "A/A"), "invalid_timezone"),
            (with_country("fr"), "invalid_country"),
            (with_country("FRA"), "invalid_country"),
        ];
        for (i, code) in cases {
            let err = i.into_store(id(), 0).unwrap_err();
            assert_eq!((err.status(), err.code()), (422, code));
        }
    }

    #[test]
    fn notice_versions_and_texts_are_validated() {
        assert!(check_notice_version("2026-11.v2").is_ok());
        for bad in ["", "-1", "a b", "a/b", &"v".repeat(33)] {
            assert_eq!(
                check_notice_version(bad).unwrap_err().code(),
                "invalid_version"
            );
        }
        let text = |t: &str, b: &str| NoticeText {
            title: t.into(),
            body: b.into(),
        };
        let ok = NoticeInput {
            texts: [("en".to_string(), text("Privacy", "We send offers."))].into(),
        };
        let n = ok.into_notice("v1", 9).unwrap();
        assert_eq!(n.text(Lang::Ja).unwrap().0, Lang::En);
        let empty = NoticeInput {
            texts: [("en".to_string(), text("Privacy", " "))].into(),
        };
        assert_eq!(
            empty.into_notice("v1", 9).unwrap_err().code(),
            "invalid_field"
        );
        // A body's length is counted as sent, surrounding line breaks included; kept trimmed.
        let at_limit = format!("\n{}\n", "b".repeat(MAX_NOTICE_BODY - 2));
        let texts = [("en".to_string(), text("Privacy", &at_limit))].into();
        let n = NoticeInput { texts }.into_notice("v1", 9).unwrap();
        assert_eq!(n.texts["en"].body.len(), MAX_NOTICE_BODY - 2);
        let over = format!("{at_limit} ");
        let texts = [("en".to_string(), text("Privacy", &over))].into();
        assert_eq!(
            NoticeInput { texts }
                .into_notice("v1", 9)
                .unwrap_err()
                .code(),
            "invalid_field"
        );
    }
}
