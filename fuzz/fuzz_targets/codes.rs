//! Every signed code's verifier (join, card, link, barcode) on arbitrary text: never a panic,
//! and nothing but a code we signed is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optin_core::codes::{Barcode, CardRef, JoinCode, LinkCode};
use optin_core::settings::secrets::SigningKeys;

fuzz_target!(|data: &[u8]| {
    let keys = SigningKeys::parse("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = 1_795_000_000;
    // An 80-bit tag cannot be hit by chance: any acceptance would be a bug.
    assert!(JoinCode::verify(&keys, text, now).is_err());
    assert!(CardRef::verify(&keys, text).is_err());
    assert!(LinkCode::verify(&keys, text, now).is_err());
    assert!(Barcode::verify(&keys, text, now).is_err());
});
