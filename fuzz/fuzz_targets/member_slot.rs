//! A member slot fed arbitrary JSON requests: the Durable Object's decisions never panic, and a
//! slot always survives its own JSON round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optin_core::members::{Request, Slot};

fuzz_target!(|data: &[u8]| {
    let mut slot = Slot::default();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(request) = serde_json::from_slice::<Request>(line) {
            let _ = slot.handle(request, 1_795_000_000_000);
            let text = serde_json::to_string(&slot).unwrap();
            assert_eq!(serde_json::from_str::<Slot>(&text).unwrap(), slot);
        }
    }
});
