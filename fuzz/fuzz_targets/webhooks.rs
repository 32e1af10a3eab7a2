//! The LINE and Meta webhook parsers and the signature checks on arbitrary bodies: never a
//! panic, and a body is never accepted under a signature it does not carry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optin_core::channels::{interpret, line, meta};
use optin_core::settings::secrets::{Secret, SigningKeys};

fuzz_target!(|data: &[u8]| {
    let keys = SigningKeys::parse("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap();
    for parsed in [line::parse(data), meta::parse(data)] {
        if let Ok((events, _)) = parsed {
            for event in &events {
                let _ = interpret(event, Some(&keys), 1_795_000_000);
            }
        }
    }
    let secrets = [Secret::new("fuzz-secret")];
    assert!(line::verify_signature(&secrets, data, Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")).is_err());
    assert!(meta::verify_signature(&secrets, data, Some(&format!("sha256={}", "0".repeat(64)))).is_err());
});
