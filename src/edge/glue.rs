//! Bindings to `glue.js`: the request's head, an answer's headers and the runtime `Response`,
//! and a Durable Object call, each in one crossing into JavaScript (see the file's header).

use js_sys::Promise;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;

#[wasm_bindgen(module = "/src/edge/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = requestHead)]
    pub fn request_head(request: &web_sys::Request) -> String;

    #[wasm_bindgen(js_name = answerHeaders)]
    pub fn answer_headers(content_type: &str, extra: &str) -> web_sys::Headers;

    #[wasm_bindgen(js_name = setHeaders)]
    pub fn set_headers(headers: &web_sys::Headers, lines: &str);

    pub fn response(
        body: Option<&[u8]>,
        status: u16,
        headers: &web_sys::Headers,
        request_id: &str,
    ) -> web_sys::Response;

    #[wasm_bindgen(catch, js_name = callObject)]
    pub fn call_object(
        env: &JsValue,
        binding: &str,
        name: &str,
        body: &str,
    ) -> Result<Promise, JsValue>;
}
