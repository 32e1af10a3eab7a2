//! Bindings to `glue.js`: the request's head, the runtime `Response` for an answer, a Durable
//! Object call and a queue send, each in one crossing into JavaScript (see the file's header).

use js_sys::Promise;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;

#[wasm_bindgen(module = "/src/edge/runtime/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = requestHead)]
    pub fn request_head(request: &web_sys::Request) -> String;

    pub fn answer(
        body: Option<&[u8]>,
        status: u16,
        content_type: &str,
        extra: &str,
        request_id: &str,
    ) -> web_sys::Response;

    #[wasm_bindgen(js_name = answerStream)]
    pub fn answer_stream(
        stream: &web_sys::ReadableStream,
        status: u16,
        content_type: &str,
        extra: &str,
        request_id: &str,
    ) -> web_sys::Response;

    #[wasm_bindgen(catch, js_name = signWith)]
    pub fn sign_with(name: &str, der: &[u8], kind: &str, data: &[u8]) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = apnsPush)]
    pub fn apns_push(env: &JsValue, url: &str, topic: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = sendJson)]
    pub fn send_json(env: &JsValue, binding: &str, lines: &str) -> Result<Promise, JsValue>;

    #[wasm_bindgen(catch, js_name = callObject)]
    pub fn call_object(
        env: &JsValue,
        binding: &str,
        name: &str,
        body: &str,
    ) -> Result<Promise, JsValue>;
}
