use super::*;
use crate::codes::Barcode;
use crate::ids::StoreId;
use crate::lang::Lang;
use crate::settings::secrets::SigningKeys;
use crate::wallet::apple::{pass_json, pass_strings, PassFiles, PassInput};
use crate::wallet::cms::Unsigned;
use crate::wallet::keys::{pem_der, pkcs8_der, Cert, KeyKind, PassSigner, ServiceAccount};
use crate::wallet::service::{apple_pass_token, log_lines, Call, RegisterBody};

const CERT: &str = include_str!("testdata/cert.pem");
const EC_CERT: &str = include_str!("testdata/ec-cert.pem");
/// An empty SEQUENCE as PKCS#8: the shape the settings check reads (WebCrypto checks the rest).
const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
const T0: u64 = 1_800_000_000_000;

fn keys(raw: &str) -> SigningKeys {
    SigningKeys::parse(raw).unwrap()
}

const KEY_A: &str = "a:YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=";

fn member(number: u64) -> MemberRecord {
    MemberRecord {
        number: MemberNumber::from_body(number),
        created_at_ms: T0,
        card_issued_at_ms: Some(T0),
        favourite_store: Some(StoreId::parse("shibuya").unwrap()),
        lang: Some("ja".into()),
        subjects: Vec::new(),
        applied: Vec::new(),
        used_links: Vec::new(),
        redemptions: Vec::new(),
    }
}

fn coupon(id: &str, from: u64, until: u64) -> Coupon {
    serde_json::from_value(serde_json::json!({
        "id": id, "title": {"en": format!("Coupon {id}"), "ja": "クーポン"},
        "valid_from": crate::time::format_rfc3339(from), "valid_until": crate::time::format_rfc3339(until),
        "stores": null, "requires_consent": false, "updated_at_ms": T0,
    }))
    .unwrap()
}

fn store() -> Store {
    serde_json::from_value(serde_json::json!({
        "id": "shibuya", "names": {"ja": "渋谷店", "en": "Shibuya"}, "address": "1-2-3",
        "timezone": "Asia/Tokyo", "latitude": 35.67, "longitude": 139.70, "updated_at_ms": T0,
    }))
    .unwrap()
}

#[test]
fn the_first_issue_is_no_update_and_a_new_fingerprint_is_pushed_to_every_device() {
    let mut w = Wallet::default();
    assert!(!w.sync("a", T0));
    assert_eq!(w.issued.as_ref().unwrap().barcode_issued_at, T0 / 1000);
    w.register("phone", "aa", T0);
    w.register("watch", "bb", T0);
    assert!(!w.sync("a", T0 + 1), "the same content is no update");
    assert!(w.pushes.is_empty());
    assert!(w.sync("b", T0 + 5));
    let updated = w.issued.as_ref().unwrap().updated_at_ms;
    assert_eq!(updated, T0 + 1000, "the next whole second, for HTTP dates");
    assert_eq!(w.pushes.len(), 2);
    assert_eq!(w.google_due, None, "no Google object: nothing to patch");
    // A second change before the pushes went out queues each device once.
    w.google_since_ms = Some(T0);
    assert!(w.sync("c", T0 + 2000));
    assert_eq!(w.pushes.len(), 2);
    assert!(w.google_due.is_some());
    assert!(w.issued.as_ref().unwrap().updated_at_ms > updated);
}

#[test]
fn the_barcode_is_renewed_before_it_expires_and_that_is_an_update() {
    let mut w = Wallet::default();
    w.sync("a", T0);
    w.register("phone", "aa", T0);
    let renew_at = T0 + BARCODE_RENEW_SECS * 1000;
    assert!(!w.needs_sync("a", renew_at - 1000));
    assert!(w.needs_sync("a", renew_at));
    assert!(w.sync("a", renew_at));
    let issued = w.issued.as_ref().unwrap();
    assert_eq!(issued.barcode_issued_at, renew_at / 1000);
    // The renewed barcode is still valid for days when the next renewal comes.
    const { assert!(BARCODE_RENEW_SECS + 3 * 24 * 3600 < crate::codes::BARCODE_TTL_SECS) };
    assert_eq!(w.pushes.len(), 1);
    assert_eq!(
        w.next_check_ms(&[], renew_at),
        Some(renew_at),
        "the push is due now"
    );
}

#[test]
fn registrations_are_bounded_and_the_oldest_makes_room() {
    let mut w = Wallet::default();
    for i in 0..MAX_DEVICES {
        let r = w.register(&format!("d{i}"), "aa", T0 + i as u64);
        assert!(r.created && r.evicted.is_none());
    }
    let known = w.register("d3", "ff", T0 + 100);
    assert!(!known.created, "a known device renews its token");
    assert_eq!(w.devices[3].push_token, "ff");
    let full = w.register("new", "cc", T0 + 200);
    assert!(full.created);
    assert_eq!(full.evicted.as_deref(), Some("d0"));
    assert_eq!(w.devices.len(), MAX_DEVICES);
    assert!(w.unregister("new"));
    assert!(!w.unregister("new"));
    assert!(!w.is_registered("new"));
}

#[test]
fn apns_answers_decide_what_stays_due_and_failures_wait_longer_each_time() {
    let mut w = Wallet::default();
    w.sync("a", T0);
    w.register("phone", "aa", T0);
    w.register("old", "bb", T0);
    w.sync("b", T0 + 1000);
    let due = w.pushes_due(T0 + 1000);
    assert_eq!(due.len(), 2);
    let round = due[0].1;
    assert_eq!(
        w.pushed("aa", round, PushOutcome::Accepted, T0 + 1000),
        (false, vec![])
    );
    let (_, gone) = w.pushed("bb", round, PushOutcome::Gone, T0 + 1000);
    assert_eq!(
        gone.len(),
        1,
        "a gone token's registration goes (and its index key)"
    );
    assert!(w.pushes.is_empty());
    assert_eq!(w.devices.len(), 1);
    w.sync("c", T0 + 2000);
    let round = w.pushes_due(T0 + 2000)[0].1;
    let mut at = T0 + 2000;
    let mut waits = Vec::new();
    for attempt in 1..MAX_ATTEMPTS {
        assert!(
            !w.pushed("aa", round, PushOutcome::Failed, at).0,
            "attempt {attempt}"
        );
        assert!(w.pushes_due(at).is_empty(), "not due again at once");
        let next = w.pushes[0].due.due_at_ms;
        waits.push(next - at);
        assert_eq!(w.next_check_ms(&[], at), Some(next));
        at = next;
    }
    assert_eq!(waits[0], RETRY_BASE_MS);
    assert!(waits.windows(2).all(|p| p[1] == p[0] * 2), "{waits:?}");
    assert!(
        w.pushed("aa", round, PushOutcome::Failed, at).0,
        "given up, and said so"
    );
    assert!(w.pushes.is_empty());
    assert_eq!(w.devices.len(), 1, "the device stays registered");
}

#[test]
fn a_change_while_a_push_is_on_its_way_stays_owed() {
    let mut w = Wallet::default();
    w.sync("a", T0);
    w.register("phone", "aa", T0);
    w.sync("b", T0 + 1000);
    let (token, sent) = w.pushes_due(T0 + 1000)[0].clone();
    w.sync("c", T0 + 2000);
    w.pushed(&token, sent, PushOutcome::Accepted, T0 + 2500);
    assert_eq!(w.pushes.len(), 1, "the newer change still needs its push");
    let newer = w.pushes_due(T0 + 2500)[0].1;
    assert_ne!(newer, sent);
    w.pushed(&token, newer, PushOutcome::Accepted, T0 + 3000);
    assert!(w.pushes.is_empty());
    // A new push token takes over what the old one was owed; unregistering drops it.
    w.sync("d", T0 + 4000);
    w.register("phone", "cc", T0 + 4000);
    assert_eq!(w.pushes[0].push_token, "cc");
    w.unregister("phone");
    assert!(w.pushes.is_empty());
}

#[test]
fn google_patches_are_retried_then_given_up_and_a_missing_object_stops_them() {
    let mut w = Wallet {
        google_since_ms: Some(T0),
        ..Wallet::default()
    };
    w.sync("a", T0);
    w.sync("b", T0 + 1000);
    let round = w.google_patch_due(T0 + 1000).unwrap();
    assert!(!w.google_patched(round, Some(false), T0 + 1000));
    assert_eq!(w.google_patch_due(T0 + 1000), None, "later");
    assert!(!w.google_patched(round, Some(true), T0 + 70_000));
    assert_eq!(w.google_due, None);
    // Missing soon after the save link: Google may not have made it yet; tried again.
    w.sync("c", T0 + 2000);
    let round = w.google_patch_due(T0 + 2000).unwrap();
    w.google_patched(round, None, T0 + 2000);
    assert!(w.google_since_ms.is_some());
    // Still missing a day later: never saved, no more patches.
    w.google_patched(round, None, T0 + GOOGLE_SAVE_GRACE_MS);
    assert_eq!(w.google_since_ms, None);
    assert!(!w.is_held());
}

#[test]
fn a_void_pushes_once_more_then_its_registrations_go() {
    let mut w = Wallet::default();
    w.sync("a", T0);
    w.register("phone", "aa", T0);
    w.void(T0 + 10);
    assert_eq!(w.pushes.len(), 1);
    assert!(!w.sync("b", T0 + 20), "a void pass changes no more");
    assert!(!w.needs_sync("b", T0 + 20));
    let round = w.pushes_due(T0 + 10)[0].1;
    w.pushed("aa", round, PushOutcome::Accepted, T0 + 10);
    assert_eq!(
        w.next_check_ms(&[], T0 + 30),
        Some(T0 + 10 + VOIDED_KEPT_MS)
    );
    assert!(w.expire_void(T0 + 11).is_empty());
    let gone = w.expire_void(T0 + 10 + VOIDED_KEPT_MS);
    assert_eq!(gone.len(), 1);
    assert_eq!(w.next_check_ms(&[], T0 + VOIDED_KEPT_MS * 2), None);
}

#[test]
fn the_next_look_is_the_soonest_of_renewal_window_and_daily_check() {
    let mut w = Wallet::default();
    assert_eq!(w.next_check_ms(&[], T0), None, "nobody holds it");
    w.sync("a", T0);
    w.register("phone", "aa", T0);
    assert_eq!(w.next_check_ms(&[], T0), Some(T0 + RECHECK_MS));
    let opens = coupon("soon", T0 + 3_600_000, T0 + 7_200_000);
    assert_eq!(w.next_check_ms(&[opens], T0), Some(T0 + 3_600_000));
    assert_eq!(
        w.next_check_ms(&[], T0 + RECHECK_MS * 9),
        Some(T0 + BARCODE_RENEW_SECS * 1000),
        "an overdue renewal is due now"
    );
}

#[test]
fn what_a_pass_shows_leaves_out_redeemed_coupons_and_store_edits_that_change_nothing() {
    let mut m = member(4_242);
    let coupons = [
        coupon("open", T0 - 1000, T0 + 86_400_000),
        coupon("ended", T0 - 2000, T0 - 1000),
    ];
    let stores = [store()];
    let before = PassContent::of(&m, &coupons, &stores, T0);
    assert_eq!(before.coupons.len(), 1);
    assert_eq!(before.favourite.as_ref().unwrap().id.as_str(), "shibuya");
    let mut edited = stores.clone();
    edited[0].updated_at_ms += 5;
    assert_eq!(
        PassContent::of(&m, &coupons, &edited, T0).shown(),
        before.shown()
    );
    edited[0].names.insert("fr".into(), "Shibuya FR".into());
    assert_ne!(
        PassContent::of(&m, &coupons, &edited, T0).shown(),
        before.shown()
    );
    m.redemptions.push(
        serde_json::from_value(serde_json::json!({
            "id": "r1", "coupon_id": "open", "member_number": m.number.to_string(),
            "store_id": "shibuya", "register_id": "R1", "transaction_id": "T1",
            "redeemed_at_ms": T0,
        }))
        .unwrap(),
    );
    let after = PassContent::of(&m, &coupons, &stores, T0);
    assert!(after.coupons.is_empty());
    assert_ne!(after.shown(), before.shown());
}

#[test]
fn serials_are_member_numbers_and_tokens_are_keyed_by_the_key_that_never_rotates() {
    let number = MemberNumber::from_body(7);
    let serial = super::serial(number);
    assert_eq!(serial.len(), 12);
    assert!(serial.starts_with("0000"));
    assert_eq!(member_of_serial(&serial), Some(number));
    for bad in ["", "7", "abc", "0000000000071", "../00000000007"] {
        assert_eq!(member_of_serial(bad), None, "{bad}");
    }
    let key = b"pseudonym-key-that-never-rotates";
    let token = auth_token(key, &serial);
    assert!(token.len() >= 16);
    assert!(token_matches(key, &serial, &token));
    assert!(!token_matches(b"another key", &serial, &token));
    assert!(!token_matches(
        key,
        &super::serial(MemberNumber::from_body(8)),
        &token
    ));
    assert!(!token_matches(key, &serial, ""));
}

fn input<'a>(
    content: Option<&'a PassContent>,
    barcode: Option<&'a str>,
    stores: &'a [Store],
) -> PassInput<'a> {
    PassInput {
        pass_type_id: "pass.example.members",
        team_id: "ABCDE12345",
        organization: "Demo \"Retail\"",
        serial: "000000004242",
        auth_token: "abcdefghijklmnopqrstuvwxyz234567",
        web_service_url: "https://shop.example/wallet",
        content,
        barcode,
        card_url: Some("https://shop.example/card/REF"),
        stores,
    }
}

#[test]
fn pass_json_is_a_store_card_with_the_member_barcode_and_the_store_nearby() {
    let m = member(4_242);
    let stores = [store()];
    let content = PassContent::of(&m, &[coupon("open", T0 - 1, T0 + 1000)], &stores, T0);
    let code = Barcode::new(m.number, None, T0 / 1000).issue(&keys(KEY_A));
    let pass = pass_json(&input(Some(&content), Some(&code), &stores));
    assert_eq!(pass["formatVersion"], 1);
    assert_eq!(pass["serialNumber"], "000000004242");
    assert_eq!(pass["barcodes"][0]["message"], code.as_str());
    assert_eq!(pass["barcodes"][0]["messageEncoding"], "iso-8859-1");
    assert_eq!(
        pass["storeCard"]["primaryFields"][0]["value"],
        m.number.grouped()
    );
    assert_eq!(
        pass["storeCard"]["secondaryFields"][0]["value"],
        "STORE_shibuya"
    );
    assert_eq!(pass["locations"][0]["latitude"], 35.67);
    assert_eq!(pass["voided"], serde_json::Value::Null);
    let ja = pass_strings(&input(Some(&content), None, &stores), Lang::Ja);
    assert_eq!(&ja[..2], &[0xFF, 0xFE], "UTF-16 LE with a byte-order mark");
    let text = String::from_utf16(
        &ja[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(text.contains("\"STORE_shibuya\" = \"渋谷店\";"), "{text}");
    assert!(text.contains("\"COUPON_open\" = \"クーポン\";"), "{text}");
    // A void pass carries nothing personal.
    let void = pass_json(&input(None, None, &stores));
    assert_eq!(void["voided"], true);
    assert_eq!(void["barcodes"], serde_json::Value::Null);
    assert_eq!(void["locations"], serde_json::Value::Null);
    assert!(!void.to_string().contains("4242 "), "{void}");
}

#[test]
fn strings_escape_quotes_and_line_breaks() {
    let mut m = member(1);
    m.favourite_store = None;
    let mut c = coupon("q", T0 - 1, T0 + 1000);
    c.title.insert("en".into(), "Say \"hi\"\nnow \\ ok".into());
    let content = PassContent::of(&m, &[c], &[], T0);
    let bytes = pass_strings(&input(Some(&content), None, &[]), Lang::En);
    let text = String::from_utf16(
        &bytes[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(
        text.contains(r#""COUPON_q" = "Say \"hi\"\nnow \\ ok";"#),
        "{text}"
    );
}

#[test]
fn the_manifest_hashes_every_file_and_the_zip_holds_them_all() {
    use sha1::{Digest, Sha1};
    let files = PassFiles::new(&input(None, None, &[]), &images::pass_images().unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(&files.manifest).unwrap();
    for (name, bytes) in &files.files {
        assert_eq!(
            manifest[name],
            crate::encoding::hex(&Sha1::digest(bytes)),
            "{name}"
        );
    }
    assert!(manifest["ja.lproj/pass.strings"].is_string());
    assert!(manifest["icon@3x.png"].is_string());
    let names: Vec<String> = files.files.iter().map(|(n, _)| n.clone()).collect();
    let zip = files.pkpass(b"sig").unwrap();
    let archive = rawzip::ZipArchive::from_slice(&zip).unwrap();
    let mut entries = archive.entries();
    let mut read = Vec::new();
    while let Some(entry) = entries.next_entry().unwrap() {
        read.push(
            entry
                .file_path()
                .try_normalize()
                .unwrap()
                .as_ref()
                .to_owned(),
        );
    }
    for name in names
        .iter()
        .chain(["manifest.json".into(), "signature".into()].iter())
    {
        assert!(read.contains(name), "{name} in {read:?}");
    }
}

#[test]
fn the_signature_is_a_detached_signed_data_with_both_certificates() {
    use ::cms::content_info::ContentInfo;
    use ::cms::signed_data::SignedData;
    use der::{Decode, Encode};
    let signer = PassSigner::new(CERT, KEY, EC_CERT).unwrap();
    assert_eq!(signer.kind, KeyKind::Rsa);
    let unsigned = Unsigned::new(b"{}", 1_800_000_000).unwrap();
    assert_eq!(
        unsigned.to_sign[0], 0x31,
        "the attributes are signed as a SET"
    );
    let der = unsigned.finish(&signer, &[7u8; 256]).unwrap();
    let info = ContentInfo::from_der(&der).unwrap();
    assert_eq!(info.content_type.to_string(), "1.2.840.113549.1.7.2");
    let signed: SignedData = info.content.decode_as().unwrap();
    assert!(signed.encap_content_info.econtent.is_none(), "detached");
    assert_eq!(signed.certificates.unwrap().0.len(), 2);
    let signer_info = signed.signer_infos.0.get(0).unwrap();
    assert_eq!(signer_info.signature.as_bytes(), &[7u8; 256]);
    let attrs = signer_info.signed_attrs.as_ref().unwrap();
    let oids: Vec<String> = attrs.iter().map(|a| a.oid.to_string()).collect();
    for oid in [
        "1.2.840.113549.1.9.3",
        "1.2.840.113549.1.9.4",
        "1.2.840.113549.1.9.5",
    ] {
        assert!(oids.contains(&oid.to_owned()), "{oid} in {oids:?}");
    }
    assert_eq!(attrs.to_der().unwrap(), unsigned_again());
    // ECDSA's r || s becomes the DER sequence CMS carries.
    let ec = PassSigner::new(EC_CERT, KEY, CERT).unwrap();
    assert_eq!(ec.kind, KeyKind::EcP256);
    let mut raw = [0u8; 64];
    raw[0] = 0x80;
    raw[63] = 1;
    let der = Unsigned::new(b"{}", 1_800_000_000)
        .unwrap()
        .finish(&ec, &raw)
        .unwrap();
    let signed: SignedData = ContentInfo::from_der(&der)
        .unwrap()
        .content
        .decode_as()
        .unwrap();
    let sig = signed
        .signer_infos
        .0
        .get(0)
        .unwrap()
        .signature
        .as_bytes()
        .to_vec();
    assert_eq!(
        &sig[..4],
        &[0x30, 0x26, 0x02, 0x21],
        "r gains a leading zero"
    );
    assert!(Unsigned::new(b"{}", 1)
        .unwrap()
        .finish(&ec, &[0; 10])
        .is_err());
}

fn unsigned_again() -> Vec<u8> {
    Unsigned::new(b"{}", 1_800_000_000).unwrap().to_sign
}

#[test]
fn settings_read_pem_with_escaped_newlines_and_refuse_what_webcrypto_cannot_import() {
    let escaped = CERT.replace('\n', "\\n");
    assert_eq!(
        pem_der(&escaped, "CERTIFICATE"),
        pem_der(CERT, "CERTIFICATE")
    );
    assert!(Cert::from_pem(&escaped).is_ok());
    assert!(Cert::from_pem("not a certificate").is_err());
    assert!(pkcs8_der(KEY).is_ok());
    assert!(
        pkcs8_der("-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----").is_err()
    );
    let account =
        serde_json::json!({"client_email": "w@p.iam.gserviceaccount.com", "private_key": KEY});
    assert!(ServiceAccount::parse(&account.to_string()).is_ok());
    assert!(ServiceAccount::parse("{}").is_err());
    let no_at = serde_json::json!({"client_email": "nobody", "private_key": KEY});
    assert!(ServiceAccount::parse(&no_at.to_string()).is_err());
}

#[test]
fn web_service_paths_tokens_and_bodies_are_read_strictly() {
    assert_eq!(
        Call::parse("POST", "/v1/devices/d1/registrations/pass.x/000000000001"),
        Some(Call::Registration {
            register: true,
            device: "d1".into(),
            pass_type_id: "pass.x".into(),
            serial: "000000000001".into()
        })
    );
    assert!(matches!(
        Call::parse("DELETE", "/v1/devices/d1/registrations/pass.x/1"),
        Some(Call::Registration {
            register: false,
            ..
        })
    ));
    assert!(matches!(
        Call::parse("GET", "/v1/devices/d1/registrations/pass.x"),
        Some(Call::Serials { .. })
    ));
    assert!(matches!(
        Call::parse("GET", "/v1/passes/pass.x/1"),
        Some(Call::Pass { .. })
    ));
    assert_eq!(Call::parse("POST", "/v1/log"), Some(Call::Log));
    assert_eq!(Call::parse("GET", "/v1/log"), None);
    assert_eq!(Call::parse("GET", "/v1/passes/pass.x/a%2Fb"), None);
    assert_eq!(Call::parse("GET", "/v1/passes/pass.x/"), None);
    assert_eq!(apple_pass_token(Some("ApplePass abc")), Some("abc"));
    assert_eq!(apple_pass_token(Some("Bearer abc")), None);
    assert_eq!(apple_pass_token(Some("ApplePass ")), None);
    assert_eq!(apple_pass_token(None), None);
    assert!(RegisterBody::parse(br#"{"pushToken":"0a1b"}"#).is_some());
    assert!(RegisterBody::parse(br#"{"pushToken":"<x>"}"#).is_none());
    assert!(RegisterBody::parse(b"not json").is_none());
    let many: Vec<String> = (0..50)
        .map(|i| format!("{i}\u{7}{}", "y".repeat(500)))
        .collect();
    let lines = log_lines(serde_json::json!({ "logs": many }).to_string().as_bytes());
    assert_eq!(lines.len(), service::MAX_LOG_LINES);
    assert!(lines
        .iter()
        .all(|l| l.chars().count() <= service::MAX_LOG_CHARS && !l.contains('\u{7}')));
    assert!(log_lines(b"[]").is_empty());
}

#[test]
fn google_claims_name_the_service_account_and_the_object() {
    let m = member(4_242);
    let content = PassContent::of(&m, &[], &[store()], T0);
    let object = google::ObjectInput {
        issuer_id: "3388000000012345678",
        organization: "Demo",
        serial: "000000004242",
        content: Some(&content),
        barcode: Some("CODE"),
        card_url: None,
        logo_url: "https://shop.example/wallet/logo.png",
        lang: Lang::En,
    };
    let claims = google::save_claims(
        "w@p.iam.gserviceaccount.com",
        "https://shop.example",
        &object,
        100,
    );
    assert_eq!(claims["aud"], "google");
    assert_eq!(claims["typ"], "savetowallet");
    assert_eq!(claims["origins"][0], "https://shop.example");
    let o = &claims["payload"]["loyaltyObjects"][0];
    assert_eq!(o["id"], "3388000000012345678.member-000000004242");
    assert_eq!(o["barcode"]["value"], "CODE");
    assert_eq!(o["accountId"], m.number.grouped());
    let void = google::loyalty_object(&google::ObjectInput {
        content: None,
        barcode: None,
        ..object
    });
    assert_eq!(void["state"], "INACTIVE");
    assert_eq!(void.as_object().unwrap().len(), 3, "{void}");
    let grant = google::grant_claims("w@p", "https://oauth2.googleapis.com/token", 100);
    assert_eq!(grant["exp"], 100 + google::ASSERTION_SECS);
    let input = google::signing_input(&grant);
    assert!(input.starts_with("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."));
    assert_eq!(google::jwt("a.b", &[0xfb, 0xff]), "a.b.-_8");
    assert_eq!(
        google::grant_body("x.y+z"),
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=x.y%2Bz"
    );
    assert_eq!(
        google::parse_token(br#"{"access_token":"t","expires_in":3599}"#),
        Some(("t".into(), 3599))
    );
    assert_eq!(google::parse_token(b"{}"), None);
}

#[test]
fn http_dates_round_trip_to_the_second() {
    assert_eq!(
        crate::time::format_http_date(0),
        "Thu, 01 Jan 1970 00:00:00 GMT"
    );
    assert_eq!(
        crate::time::format_http_date(1_796_310_245_123),
        "Thu, 03 Dec 2026 15:04:05 GMT"
    );
    assert_eq!(
        crate::time::parse_http_date("Thu, 03 Dec 2026 15:04:05 GMT"),
        Some(1_796_310_245_000)
    );
    for bad in [
        "",
        "Thu, 32 Dec 2026 15:04:05 GMT",
        "Thu, 03 Dex 2026 15:04:05 GMT",
        "Thursday",
    ] {
        assert_eq!(crate::time::parse_http_date(bad), None, "{bad}");
    }
}
