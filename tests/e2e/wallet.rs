//! Wallet cards, checked independently of the Worker's code: the pkpass is unzipped by Python's
//! `zipfile`, its manifest hashes recomputed and its signature verified by `openssl cms -verify`
//! against the local test CA (`tests/wallet/check.py`); its barcode is drawn as a QR code,
//! read back by rqrr and scanned at the till. The PassKit web service is driven as a device
//! drives it; APNs, Google's token endpoint and the Wallet API are the recorder; the Google
//! JWTs are verified by PyJWT with the service account's public key.

use std::process::Command;

use serde_json::{json, Value};

use crate::cards::{admin, coupon, coupon_id, put_coupon, DAY};
use crate::harness::{repo_root, wallet_setting, Reply, Worker, E2E_CONTROLLER};
use crate::recorder::{Recorded, TOKEN_PATH};
use crate::till::{new_member, new_pos_key, redeem, scan, store_id};
use crate::webhooks::{now_ms, unique};
use crate::{Fixture, Test};

pub fn tests() -> Vec<Test> {
    crate::tests![
        wallet_apple_pass_is_a_signed_store_card_whose_barcode_scans_at_the_till,
        wallet_device_registers_hears_of_a_redemption_and_fetches_the_new_pass,
        wallet_google_link_is_a_jwt_by_the_service_account_and_changes_patch_the_object,
        wallet_of_an_erased_member_is_voided_on_devices_and_in_google_wallet,
        wallet_bad_requests_are_refused_and_change_nothing,
    ]
}

const PASS_TYPE: &str = "pass.example.optin.members";

/// A store with coordinates, a coupon open there, a POS key and a member who joined there.
struct WalletScene {
    store: String,
    coupon: String,
    title: String,
    key: String,
    number: String,
    card: String,
}

impl WalletScene {
    fn new(f: &Fixture) -> WalletScene {
        let store = store_id("wal");
        let put = admin(
            &f.app,
            "PUT",
            &format!("/api/admin/stores/{store}"),
            Some(
                json!({"names": {"en": format!("Store {store}"), "ja": "ウォレット店", "fr": "Magasin"},
                "address": "1-2-3 Example", "timezone": "Asia/Tokyo",
                "latitude": 35.6702, "longitude": 139.7027}),
            ),
        );
        assert!(matches!(put.status, 200 | 201), "{}", put.text());
        assert_eq!(put.json()["store"]["latitude"], 35.6702);
        let coupon_id = coupon_id("wal");
        let title = format!("Wallet coffee {coupon_id}");
        let now = now_ms();
        let reply = put_coupon(
            &f.app,
            &coupon_id,
            coupon(&title, now - DAY, now + 30 * DAY, Some(vec![&store]), false),
        );
        assert_eq!(reply.status, 201, "{}", reply.text());
        let key = new_pos_key(&f.app, &store, "Wallet till");
        let (_, number, card) = new_member(f, &store);
        WalletScene {
            store,
            coupon: coupon_id,
            title,
            key,
            number,
            card,
        }
    }

    fn pkpass(&self, f: &Fixture) -> Value {
        let reply = f.app.get(&format!("{}/wallet.pkpass", self.card));
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("application/vnd.apple.pkpass")
        );
        check_pkpass(&reply.body)
    }
}

/// `tests/wallet/check.py pkpass`: the pass as Python and openssl read it.
fn check_pkpass(bytes: &[u8]) -> Value {
    let root = repo_root();
    let path = root.join(format!("test-artifacts/{}.pkpass", unique("pass")));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/wallet/check.py"))
        .arg("pkpass")
        .arg(&path)
        .arg(root.join(".wallet-dev/ca.pem"))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `tests/wallet/check.py jwt`: the claims, once PyJWT verified the RS256 signature.
fn check_jwt(token: &str, audience: &str) -> Value {
    let root = repo_root();
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/wallet/check.py"))
        .arg("jwt")
        .arg(token)
        .arg(root.join(".wallet-dev/google.pub.pem"))
        .arg(audience)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn grouped(number: &str) -> String {
    number
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

fn wallet_call(app: &Worker, method: &str, path: &str, token: Option<&str>, body: Value) -> Reply {
    let auth = token.map(|t| format!("ApplePass {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let body = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    app.send(method, &format!("/wallet{path}"), &headers, body)
}

fn registration(device: &str, serial: &str) -> String {
    format!("/v1/devices/{device}/registrations/{PASS_TYPE}/{serial}")
}

/// A device library id and a hex push token, unique to the test.
fn new_device() -> (String, String) {
    let id = unique("dev");
    let token: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    (id, format!("{token:0>64}"))
}

fn pushes(f: &Fixture, push_token: &str, count: usize) -> Vec<Recorded> {
    f.platforms
        .wait_for_path(&format!("/3/device/{push_token}"), count)
}

fn wallet_apple_pass_is_a_signed_store_card_whose_barcode_scans_at_the_till(f: &Fixture) {
    let s = WalletScene::new(f);
    // The card offers both wallets when they are configured.
    let page = f.app.get(&format!("{}?lang=en", s.card)).text();
    assert!(page.contains("Add to Apple Wallet"), "{page}");
    assert!(page.contains("Add to Google Wallet"), "{page}");
    assert!(page.contains(&format!("{}/wallet.pkpass", s.card)));

    let checked = s.pkpass(f);
    assert!(checked["signing_time"].as_bool().unwrap(), "{checked}");
    assert_eq!(checked["certificates"], 2, "the pass certificate and WWDR");
    let pass = &checked["pass"];
    assert_eq!(pass["formatVersion"], 1);
    assert_eq!(pass["passTypeIdentifier"], PASS_TYPE);
    assert_eq!(pass["teamIdentifier"], "OPTINTEAM1");
    assert_eq!(pass["serialNumber"], s.number.as_str());
    assert_eq!(pass["organizationName"], E2E_CONTROLLER);
    assert_eq!(pass["webServiceURL"], "https://shop.example/wallet");
    assert!(pass["authenticationToken"].as_str().unwrap().len() >= 16);
    let card = &pass["storeCard"];
    assert_eq!(card["primaryFields"][0]["value"], grouped(&s.number));
    let store_key = card["secondaryFields"][0]["value"].as_str().unwrap();
    assert_eq!(checked["strings"]["ja"][store_key], "ウォレット店");
    assert_eq!(
        checked["strings"]["en"][store_key],
        format!("Store {}", s.store)
    );
    let back = card["backFields"].as_array().unwrap();
    let coupon = back
        .iter()
        .find(|f| f["key"] == format!("coupon-{}", s.coupon))
        .expect("the coupon on the back");
    let label = coupon["label"].as_str().unwrap();
    assert_eq!(checked["strings"]["en"][label], s.title);
    assert_eq!(checked["strings"]["ja"][label], format!("{} (ja)", s.title));
    assert_eq!(checked["strings"]["fr"][label], format!("{} (fr)", s.title));
    assert_eq!(checked["strings"]["en"]["DESCRIPTION"], "Membership card");
    assert_eq!(checked["strings"]["ja"]["DESCRIPTION"], "会員カード");
    assert_eq!(checked["strings"]["fr"]["DESCRIPTION"], "Carte de fidélité");
    assert_eq!(pass["locations"][0]["latitude"], 35.6702);
    assert_eq!(pass["locations"][0]["longitude"], 139.7027);

    // The barcode: a QR code of its message, read back by a real decoder, scans at the till.
    let barcode = &pass["barcodes"][0];
    assert_eq!(barcode["format"], "PKBarcodeFormatQR");
    assert_eq!(barcode["altText"], grouped(&s.number));
    let message = barcode["message"].as_str().unwrap();
    let drawn = optin_core::images::barcode::BarcodeImage::encode(message)
        .unwrap()
        .png(4)
        .unwrap();
    let decoded = crate::stores::decode_png_qr(&drawn);
    assert_eq!(decoded, message);
    let seen = scan(&f.app, &s.key, &decoded);
    assert_eq!(seen.status, 200, "{}", seen.text());
    assert_eq!(seen.json()["member"]["number"], s.number.as_str());

    // The same pass twice: the same barcode (a pass is stable until it changes).
    let again = s.pkpass(f);
    assert_eq!(again["pass"]["barcodes"][0]["message"], message);
    // The settings report names every wallet setting as set.
    let report = admin(&f.app, "GET", "/api/admin/config", None).json();
    let text = report.to_string();
    for name in [
        "APPLE_PASS_CERT",
        "APPLE_WWDR_CERT",
        "GOOGLE_WALLET_SERVICE_ACCOUNT",
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }
}

fn wallet_device_registers_hears_of_a_redemption_and_fetches_the_new_pass(f: &Fixture) {
    let s = WalletScene::new(f);
    let pass = s.pkpass(f)["pass"].clone();
    let token = pass["authenticationToken"].as_str().unwrap().to_owned();
    let coupons_before = pass["storeCard"]["auxiliaryFields"][0]["value"]
        .as_u64()
        .unwrap();
    assert!(coupons_before >= 1);
    let (device, push_token) = new_device();
    let path = registration(&device, &s.number);
    let body = json!({ "pushToken": push_token });

    let first = wallet_call(&f.app, "POST", &path, Some(&token), body.clone());
    assert_eq!(first.status, 201, "{}", first.text());
    let again = wallet_call(&f.app, "POST", &path, Some(&token), body.clone());
    assert_eq!(again.status, 200, "{}", again.text());

    // Serial numbers since the beginning: this pass, with a tag.
    let serials = format!("/v1/devices/{device}/registrations/{PASS_TYPE}");
    let listed = wallet_call(&f.app, "GET", &serials, None, Value::Null);
    assert_eq!(listed.status, 200, "{}", listed.text());
    let listed = listed.json();
    assert_eq!(listed["serialNumbers"], json!([s.number]));
    let tag = listed["lastUpdated"]
        .as_str()
        .expect("a string tag")
        .to_owned();
    let since = wallet_call(
        &f.app,
        "GET",
        &format!("{serials}?passesUpdatedSince={tag}"),
        None,
        Value::Null,
    );
    assert_eq!(since.status, 204, "{}", since.text());

    // The latest pass, then 304 for its Last-Modified.
    let pass_path = format!("/v1/passes/{PASS_TYPE}/{}", s.number);
    let latest = wallet_call(&f.app, "GET", &pass_path, Some(&token), Value::Null);
    assert_eq!(latest.status, 200, "{}", latest.text());
    let modified = latest.header("last-modified").unwrap().to_owned();
    let unchanged = f.app.send(
        "GET",
        &format!("/wallet{pass_path}"),
        &[
            ("authorization", &format!("ApplePass {token}")),
            ("if-modified-since", &modified),
        ],
        Vec::new(),
    );
    assert_eq!(unchanged.status, 304, "{}", unchanged.text());

    // A redemption changes what the pass shows: APNs hears of it, the serial is listed as
    // updated, and the new pass no longer offers the coupon.
    let code = crate::till::barcode(&s.number, "");
    let redeemed = redeem(&f.app, &s.key, &code, &s.coupon, &unique("TW-"));
    assert_eq!(redeemed.status, 200, "{}", redeemed.text());
    let pushed = pushes(f, &push_token, 1);
    assert_eq!(pushed.len(), 1, "one push to the device");
    assert_eq!(pushed[0].method, "POST");
    assert_eq!(pushed[0].header("apns-topic"), Some(PASS_TYPE));
    assert_eq!(pushed[0].body, b"{}");
    let updated = wallet_call(
        &f.app,
        "GET",
        &format!("{serials}?passesUpdatedSince={tag}"),
        None,
        Value::Null,
    );
    assert_eq!(updated.status, 200, "{}", updated.text());
    let updated = updated.json();
    assert_eq!(updated["serialNumbers"], json!([s.number]));
    assert!(
        updated["lastUpdated"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > tag.parse().unwrap()
    );
    let newer = f.app.send(
        "GET",
        &format!("/wallet{pass_path}"),
        &[
            ("authorization", &format!("ApplePass {token}")),
            ("if-modified-since", &modified),
        ],
        Vec::new(),
    );
    assert_eq!(newer.status, 200, "changed since: {}", newer.text());
    let newer = check_pkpass(&newer.body);
    let back = newer["pass"]["storeCard"]["backFields"].to_string();
    assert!(
        !back.contains(&s.coupon),
        "the redeemed coupon is gone: {back}"
    );
    // (Coupons that other tests add everywhere may be listed too: one fewer than before.)
    assert_eq!(
        newer["pass"]["storeCard"]["auxiliaryFields"][0]["value"],
        coupons_before - 1
    );
    // The token never changes across updates (Apple requires it).
    assert_eq!(newer["pass"]["authenticationToken"], token.as_str());

    // Unregistered: no longer listed; Wallet's log is taken.
    let gone = wallet_call(&f.app, "DELETE", &path, Some(&token), Value::Null);
    assert_eq!(gone.status, 200, "{}", gone.text());
    let after = wallet_call(&f.app, "GET", &serials, None, Value::Null);
    assert_eq!(after.status, 204, "{}", after.text());
    let log = wallet_call(
        &f.app,
        "POST",
        "/v1/log",
        None,
        json!({"logs": ["Web service error for pass.example.optin.members: test line"]}),
    );
    assert_eq!(log.status, 200, "{}", log.text());
}

fn wallet_google_link_is_a_jwt_by_the_service_account_and_changes_patch_the_object(f: &Fixture) {
    let s = WalletScene::new(f);
    let reply = f.app.get_unfollowed(&format!("{}/google-wallet", s.card));
    assert_eq!(reply.status, 303, "{}", reply.text());
    let location = reply.header("location").unwrap();
    let jwt = location
        .strip_prefix("https://pay.google.com/gp/v/save/")
        .expect("the save link");
    let claims = check_jwt(jwt, "google");
    let account: Value =
        serde_json::from_str(&wallet_setting("GOOGLE_WALLET_SERVICE_ACCOUNT")).unwrap();
    assert_eq!(claims["iss"], account["client_email"]);
    assert_eq!(claims["typ"], "savetowallet");
    assert_eq!(claims["origins"], json!(["https://shop.example"]));
    let issuer = wallet_setting("GOOGLE_WALLET_ISSUER_ID");
    let object = &claims["payload"]["loyaltyObjects"][0];
    assert_eq!(object["id"], format!("{issuer}.member-{}", s.number));
    assert_eq!(object["classId"], format!("{issuer}.members"));
    assert_eq!(object["state"], "ACTIVE");
    assert_eq!(object["accountId"], grouped(&s.number));
    assert_eq!(object["barcode"]["type"], "QR_CODE");
    let value = object["barcode"]["value"].as_str().unwrap();
    let seen = scan(&f.app, &s.key, value);
    assert_eq!(
        seen.status,
        200,
        "the Google barcode scans: {}",
        seen.text()
    );
    assert_eq!(
        claims["payload"]["loyaltyClasses"][0]["id"],
        format!("{issuer}.members")
    );

    // A redemption patches the object, with a token from the JWT-bearer grant.
    let code = crate::till::barcode(&s.number, "");
    let redeemed = redeem(&f.app, &s.key, &code, &s.coupon, &unique("TG-"));
    assert_eq!(redeemed.status, 200, "{}", redeemed.text());
    let object_path = format!(
        "/walletobjects/v1/loyaltyObject/{issuer}.member-{}",
        s.number
    );
    let patches = f.platforms.wait_for_path(&object_path, 1);
    assert_eq!(patches.len(), 1, "one patch");
    let patch = &patches[0];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(
        patch.header("authorization"),
        Some("Bearer e2e-google-access-token")
    );
    let body = patch.json();
    assert_eq!(body["state"], "ACTIVE");
    assert!(
        !body.to_string().contains(&s.title),
        "the redeemed coupon is gone"
    );
    // The grant (one per isolate while its token lasts) is a JWT PyJWT verifies.
    let grants = f.platforms.wait_for_path(TOKEN_PATH, 1);
    let grant = String::from_utf8_lossy(&grants[0].body).to_string();
    let assertion = grant
        .split('&')
        .find_map(|p| p.strip_prefix("assertion="))
        .expect("an assertion");
    assert!(grant.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"));
    let token_url = format!("{}{TOKEN_PATH}", f.platforms.base);
    let claims = check_jwt(assertion, &token_url);
    assert_eq!(claims["iss"], account["client_email"]);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/wallet_object.issuer"
    );
    assert!(claims["exp"].as_u64().unwrap() <= claims["iat"].as_u64().unwrap() + 3600);
}

fn wallet_of_an_erased_member_is_voided_on_devices_and_in_google_wallet(f: &Fixture) {
    let s = WalletScene::new(f);
    let pass = s.pkpass(f)["pass"].clone();
    let token = pass["authenticationToken"].as_str().unwrap().to_owned();
    let (device, push_token) = new_device();
    let path = registration(&device, &s.number);
    let registered = wallet_call(
        &f.app,
        "POST",
        &path,
        Some(&token),
        json!({ "pushToken": push_token }),
    );
    assert_eq!(registered.status, 201, "{}", registered.text());
    assert_eq!(
        f.app
            .get_unfollowed(&format!("{}/google-wallet", s.card))
            .status,
        303
    );

    let erased = admin(
        &f.app,
        "DELETE",
        &format!("/api/admin/members/{}", s.number),
        None,
    );
    assert_eq!(erased.status, 200, "{}", erased.text());
    assert_eq!(pushes(f, &push_token, 1).len(), 1, "the device is told");
    // The device fetches the pass: void, with nothing personal in it.
    let latest = wallet_call(
        &f.app,
        "GET",
        &format!("/v1/passes/{PASS_TYPE}/{}", s.number),
        Some(&token),
        Value::Null,
    );
    assert_eq!(latest.status, 200, "{}", latest.text());
    let voided = check_pkpass(&latest.body);
    assert_eq!(voided["pass"]["voided"], true);
    assert_eq!(voided["pass"]["barcodes"], Value::Null);
    assert!(!voided["pass"].to_string().contains(&grouped(&s.number)));
    assert!(!voided["pass"].to_string().contains(&s.title));
    // The card is gone, and so is its pass link; no new registration.
    assert_eq!(f.app.get(&format!("{}/wallet.pkpass", s.card)).status, 404);
    let (other, other_token) = new_device();
    let refused = wallet_call(
        &f.app,
        "POST",
        &registration(&other, &s.number),
        Some(&token),
        json!({ "pushToken": other_token }),
    );
    assert_eq!(refused.status, 401, "{}", refused.text());
    // Google's object is replaced by an inactive one with nothing personal left.
    let issuer = wallet_setting("GOOGLE_WALLET_ISSUER_ID");
    let object_path = format!(
        "/walletobjects/v1/loyaltyObject/{issuer}.member-{}",
        s.number
    );
    let patches = f.platforms.wait_for_path(&object_path, 1);
    assert_eq!(patches.len(), 1, "one patch");
    assert_eq!(patches[0].method, "PUT", "replaced whole, not patched");
    let body = patches[0].json();
    assert_eq!(body["state"], "INACTIVE");
    assert_eq!(body["barcode"], Value::Null);
    assert_eq!(body["accountId"], Value::Null);
}

fn wallet_bad_requests_are_refused_and_change_nothing(f: &Fixture) {
    let s = WalletScene::new(f);
    let pass = s.pkpass(f)["pass"].clone();
    let token = pass["authenticationToken"].as_str().unwrap().to_owned();
    let (device, push_token) = new_device();
    let path = registration(&device, &s.number);
    let body = json!({ "pushToken": push_token });
    // No token, a wrong one, another pass's, another pass type: 401.
    for auth in [
        None,
        Some("ApplePass wrongwrongwrongwrong"),
        Some("Bearer x"),
    ] {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = auth {
            headers.push(("authorization", a));
        }
        let reply = f.app.send(
            "POST",
            &format!("/wallet{path}"),
            &headers,
            body.to_string().into_bytes(),
        );
        assert_eq!(reply.status, 401, "{auth:?}: {}", reply.text());
    }
    let (_, other, _) = new_member(f, &s.store);
    let theirs = wallet_call(
        &f.app,
        "POST",
        &registration(&device, &other),
        Some(&token),
        body.clone(),
    );
    assert_eq!(theirs.status, 401, "another pass's serial");
    let other_type = format!(
        "/v1/devices/{device}/registrations/pass.other.type/{}",
        s.number
    );
    assert_eq!(
        wallet_call(&f.app, "POST", &other_type, Some(&token), body.clone()).status,
        401
    );
    // A malformed push token: 400. Nothing was registered by any of these.
    let bad = wallet_call(
        &f.app,
        "POST",
        &path,
        Some(&token),
        json!({ "pushToken": "<script>" }),
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    let serials = format!("/v1/devices/{device}/registrations/{PASS_TYPE}");
    assert_eq!(
        wallet_call(&f.app, "GET", &serials, None, Value::Null).status,
        204
    );
    // A forged card reference: no pass, no link.
    assert_eq!(f.app.get("/card/FORGED123/wallet.pkpass").status, 404);
    assert_eq!(f.app.get("/card/FORGED123/google-wallet").status, 404);
    // A pass fetched with a wrong token: 401; an unknown call: 404; a huge log: accepted, bounded.
    let pass_path = format!("/v1/passes/{PASS_TYPE}/{}", s.number);
    assert_eq!(
        wallet_call(
            &f.app,
            "GET",
            &pass_path,
            Some("nottherighttoken1234"),
            Value::Null
        )
        .status,
        401
    );
    assert_eq!(
        wallet_call(&f.app, "GET", "/v1/nothing", None, Value::Null).status,
        404
    );
    let lines: Vec<String> = (0..500)
        .map(|i| format!("line {i} {}", "x".repeat(100)))
        .collect();
    let log = wallet_call(&f.app, "POST", "/v1/log", None, json!({ "logs": lines }));
    assert_eq!(log.status, 200, "{}", log.text());
}
