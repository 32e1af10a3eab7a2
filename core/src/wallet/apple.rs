//! An Apple Wallet store card (`.pkpass`): `pass.json`, its texts in `ja`, `en` and `fr`
//! `.lproj` folders, the images, `manifest.json` (the SHA-1 of every file) and `signature`
//! ([`super::cms`]), zipped. Field names and rules: Apple's "Wallet Passes" reference
//! (PassKit Package Format, read 2026-12-03): `formatVersion` 1, `barcodes` (iOS 9+), at most
//! 10 `locations`, `webServiceURL` https (devices in developer mode accept http),
//! `authenticationToken` of 16 characters or more; `pass.strings` written as UTF-16 with a
//! byte-order mark, which every Wallet version reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use super::PassContent;
use crate::error::Error;
use crate::lang::Lang;
use crate::stores::Store;

/// Apple's limit on a pass's locations.
pub const MAX_LOCATIONS: usize = 10;

/// The pass's media type.
pub const CONTENT_TYPE: &str = "application/vnd.apple.pkpass";

/// Everything one pass is made of.
#[derive(Debug, Clone)]
pub struct PassInput<'a> {
    pub pass_type_id: &'a str,
    pub team_id: &'a str,
    pub organization: &'a str,
    pub serial: &'a str,
    pub auth_token: &'a str,
    /// `{PUBLIC_BASE_URL}/wallet`.
    pub web_service_url: &'a str,
    /// What the pass shows; `None`: the member was erased and the pass is void (nothing but
    /// its serial, which Apple needs to match it: the number no one else is ever given).
    pub content: Option<&'a PassContent>,
    /// The member barcode's text.
    pub barcode: Option<&'a str>,
    /// The card page's address (printed on the back: coupons, data, stop).
    pub card_url: Option<&'a str>,
    /// Every store (those with coordinates make the pass show near them, the favourite first).
    pub stores: &'a [Store],
}

fn texts(lang: Lang) -> [(&'static str, &'static str); 11] {
    match lang {
        Lang::Ja => [
            ("DESCRIPTION", "会員カード"),
            ("MEMBER", "会員番号"),
            ("STORE", "お気に入りの店舗"),
            ("NO_STORE", "未選択"),
            ("COUPONS", "クーポン"),
            ("OFFERS", "お知らせ"),
            ("OFFERS_ON", "受け取る"),
            ("OFFERS_OFF", "受け取らない"),
            ("CARD", "カード・データ・配信停止"),
            ("NEAR", "会員カードをご提示ください"),
            ("VOID", "このカードは削除されました"),
        ],
        Lang::En => [
            ("DESCRIPTION", "Membership card"),
            ("MEMBER", "Member"),
            ("STORE", "Favourite store"),
            ("NO_STORE", "Not chosen"),
            ("COUPONS", "Coupons"),
            ("OFFERS", "Offers"),
            ("OFFERS_ON", "On"),
            ("OFFERS_OFF", "Off"),
            ("CARD", "Card, your data, stop messages"),
            ("NEAR", "Show your membership card at the till"),
            ("VOID", "This card was deleted"),
        ],
        Lang::Fr => [
            ("DESCRIPTION", "Carte de fidélité"),
            ("MEMBER", "Membre"),
            ("STORE", "Magasin préféré"),
            ("NO_STORE", "Non choisi"),
            ("COUPONS", "Coupons"),
            ("OFFERS", "Offres"),
            ("OFFERS_ON", "Oui"),
            ("OFFERS_OFF", "Non"),
            ("CARD", "Carte, vos données, arrêter les messages"),
            ("NEAR", "Présentez votre carte en caisse"),
            ("VOID", "Cette carte a été supprimée"),
        ],
    }
}

/// A value in `lang` from a map keyed by language code, else the first there is.
fn localized(map: &BTreeMap<String, String>, lang: Lang) -> &str {
    map.get(lang.code())
        .or_else(|| map.values().next())
        .map_or("", String::as_str)
}

fn field(key: &str, label: &str, value: impl Into<Value>) -> Value {
    json!({ "key": key, "label": label, "value": value.into() })
}

/// `pass.json`.
pub fn pass_json(input: &PassInput<'_>) -> Value {
    let mut pass = json!({
        "formatVersion": 1,
        "passTypeIdentifier": input.pass_type_id,
        "serialNumber": input.serial,
        "teamIdentifier": input.team_id,
        "organizationName": input.organization,
        "description": "DESCRIPTION",
        "logoText": input.organization,
        "foregroundColor": "rgb(255, 255, 255)",
        "labelColor": "rgb(200, 232, 220)",
        "backgroundColor": "rgb(27, 77, 62)",
        "webServiceURL": input.web_service_url,
        "authenticationToken": input.auth_token,
        "sharingProhibited": true,
    });
    let Some(content) = input.content else {
        pass["voided"] = json!(true);
        pass["storeCard"] = json!({ "primaryFields": [field("status", "", "VOID")] });
        return pass;
    };
    let store = content
        .favourite
        .as_ref()
        .map_or("NO_STORE".to_owned(), |s| {
            format!("STORE_{}", s.id.as_str())
        });
    let mut back = vec![field(
        "offers",
        "OFFERS",
        if content.offers {
            "OFFERS_ON"
        } else {
            "OFFERS_OFF"
        },
    )];
    for coupon in &content.coupons {
        let mut f = field(
            &format!("coupon-{}", coupon.id.as_str()),
            &format!("COUPON_{}", coupon.id.as_str()),
            json!(rfc3339(coupon.valid_until_ms)),
        );
        f["dateStyle"] = json!("PKDateStyleMedium");
        f["changeMessage"] = json!("%@");
        back.push(f);
    }
    if let Some(url) = input.card_url {
        let mut f = field("card", "CARD", url);
        f["dataDetectorTypes"] = json!(["PKDataDetectorTypeLink"]);
        back.push(f);
    }
    let mut coupons = field("coupons", "COUPONS", content.coupons.len());
    coupons["changeMessage"] = json!("%@");
    pass["storeCard"] = json!({
        "primaryFields": [field("member", "MEMBER", content.number.grouped())],
        "secondaryFields": [field("store", "STORE", store)],
        "auxiliaryFields": [coupons],
        "backFields": back,
    });
    if let Some(text) = input.barcode {
        pass["barcodes"] = json!([{
            "format": "PKBarcodeFormatQR",
            "message": text,
            "messageEncoding": "iso-8859-1",
            "altText": content.number.grouped(),
        }]);
    }
    let locations: Vec<Value> = content
        .favourite
        .iter()
        .chain(input.stores.iter().filter(|s| Some(&s.id) != content.favourite.as_ref().map(|f| &f.id)))
        .filter_map(Store::coordinates)
        .take(MAX_LOCATIONS)
        .map(|(latitude, longitude)| {
            json!({ "latitude": latitude, "longitude": longitude, "relevantText": "NEAR" })
        })
        .collect();
    if !locations.is_empty() {
        pass["locations"] = json!(locations);
    }
    pass
}

/// The `pass.strings` of `lang`, as UTF-16 LE with a byte-order mark.
pub fn pass_strings(input: &PassInput<'_>, lang: Lang) -> Vec<u8> {
    let mut entries: Vec<(String, String)> = texts(lang)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if let Some(content) = input.content {
        if let Some(store) = &content.favourite {
            entries.push((
                format!("STORE_{}", store.id.as_str()),
                store.name(lang).to_owned(),
            ));
        }
        for coupon in &content.coupons {
            entries.push((
                format!("COUPON_{}", coupon.id.as_str()),
                localized(&coupon.title, lang).to_owned(),
            ));
        }
    }
    let mut text = String::new();
    for (key, value) in entries {
        let _ = writeln!(text, "\"{}\" = \"{}\";", escape(&key), escape(&value));
    }
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// A `.strings` literal: quotes, backslashes and line breaks escaped.
fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            '\n' | '\r' => vec!['\\', 'n'],
            c => vec![c],
        })
        .collect()
}

/// Unix milliseconds as RFC 3339 in UTC, the W3C date Wallet reads.
fn rfc3339(ms: u64) -> String {
    // Whole seconds: Wallet's date parser refuses fractions.
    crate::time::format_rfc3339(ms / 1000 * 1000)
}

/// The files of a pass, with their manifest, waiting for the signature.
#[derive(Debug, Clone)]
pub struct PassFiles {
    pub files: Vec<(String, Vec<u8>)>,
    /// `manifest.json`: what the signature signs.
    pub manifest: Vec<u8>,
}

impl PassFiles {
    /// `pass.json`, the texts of every language and `images`, with their manifest.
    pub fn new(input: &PassInput<'_>, images: &[(String, Vec<u8>)]) -> PassFiles {
        let mut files = vec![(
            "pass.json".to_owned(),
            serde_json::to_vec(&pass_json(input)).unwrap_or_default(),
        )];
        for lang in Lang::ALL {
            files.push((
                format!("{}.lproj/pass.strings", lang.code()),
                pass_strings(input, lang),
            ));
        }
        files.extend(images.iter().cloned());
        let manifest: BTreeMap<&str, String> = files
            .iter()
            .map(|(name, bytes)| (name.as_str(), crate::encoding::hex(&Sha1::digest(bytes))))
            .collect();
        PassFiles {
            manifest: serde_json::to_vec(&manifest).unwrap_or_default(),
            files,
        }
    }

    /// The `.pkpass`: every file, `manifest.json` and `signature`, zipped (stored: the PNGs
    /// are compressed already and the rest is a few kilobytes).
    ///
    /// # Errors
    /// Only if the zip writer fails (it writes to memory).
    pub fn pkpass(self, signature: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::Internal {
            cause: "the pass could not be zipped".into(),
        };
        let mut out = Vec::new();
        let mut archive = rawzip::ZipArchiveWriter::new(&mut out);
        let manifest = ("manifest.json".to_owned(), self.manifest);
        let signature = ("signature".to_owned(), signature.to_vec());
        for (name, bytes) in self.files.iter().chain([&manifest, &signature]) {
            let (mut entry, config) = archive
                .new_file(name.as_str())
                .compression_method(rawzip::CompressionMethod::STORE)
                .start()
                .map_err(failed)?;
            let mut writer = config.wrap(&mut entry);
            writer.write_all(bytes).map_err(|_| Error::Internal {
                cause: "the pass could not be zipped".into(),
            })?;
            let (_, descriptor) = writer.finish().map_err(failed)?;
            entry.finish(descriptor).map_err(failed)?;
        }
        archive.finish().map_err(failed)?;
        Ok(out)
    }
}
