//! Random bytes for secrets (POS keys), from the runtime's CSPRNG (`crypto.getRandomValues`).

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// Fills the buffer (wasm-bindgen copies the bytes back into the slice).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buf: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// `N` bytes from the CSPRNG.
///
/// # Errors
/// [`optin_core::error::Error::Internal`] if the runtime refuses (it does not for up to 65,536 bytes).
pub fn bytes<const N: usize>() -> Result<[u8; N], optin_core::error::Error> {
    let mut buf = [0u8; N];
    get_random_values(&mut buf)
        .map_err(|_| optin_core::error::Error::internal("crypto.getRandomValues failed"))?;
    if buf.iter().all(|b| *b == 0) {
        return Err(optin_core::error::Error::internal(
            "crypto.getRandomValues gave zeros",
        ));
    }
    Ok(buf)
}
