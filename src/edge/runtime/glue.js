// The few runtime calls a request makes most, each done here in one wasm→JS crossing where the
// generated bindings (web-sys, worker) cross once per header, per init field and per copy: in
// a CPU profile those crossings, not our Rust, are most of a small route's time.
// Header values and serialized URLs never contain a line break, so `\n` can join them.

/**
 * The request's method, URL, `cf-ray` and `content-length`, one per line; for a POST (a webhook
 * perhaps) then LINE's and Meta's signature headers, which every webhook reads.
 */
export function requestHead(request) {
  const headers = request.headers;
  const method = request.method;
  const head = `${method}\n${request.url}\n${headers.get("cf-ray") ?? ""}\n${headers.get("content-length") ?? ""}`;
  if (method !== "POST") return head;
  return `${head}\n${headers.get("x-line-signature") ?? ""}\n${headers.get("x-hub-signature-256") ?? ""}`;
}

/**
 * The runtime's Response: a body (bytes viewed in wasm memory, copied here; `undefined` for
 * none), a status, and headers built as one plain object: for a non-empty `contentType`, the
 * three every answer carries; then `extra` as `name\nvalue\n…`, set over them; then the
 * request id.
 */
export function answer(body, status, contentType, extra, requestId) {
  const headers = headersOf(contentType, extra, requestId);
  return new Response(body === undefined ? null : body.slice(), { status, headers });
}

/** `answer` for a streamed body (a ReadableStream). */
export function answerStream(stream, status, contentType, extra, requestId) {
  return new Response(stream, { status, headers: headersOf(contentType, extra, requestId) });
}

function headersOf(contentType, extra, requestId) {
  const headers = contentType
    ? { "content-type": contentType, "cache-control": "no-store", "x-content-type-options": "nosniff" }
    : {};
  if (extra) {
    const parts = extra.split("\n");
    for (let i = 0; i + 1 < parts.length; i += 2) headers[parts[i]] = parts[i + 1];
  }
  headers["x-request-id"] = requestId;
  return headers;
}

/**
 * Calls the Durable Object `name` of the namespace bound as `binding` by RPC: its `ask` method
 * (entry.js) takes the request's JSON text and resolves to the answer's.
 */
export function callObject(env, binding, name, body) {
  const namespace = env[binding];
  return namespace.get(namespace.idFromName(name)).ask(body);
}

/**
 * Sends messages to the queue bound as `binding`, as JSON: `lines` holds each message's JSON
 * text, one per line (JSON text has no raw line break). Resolves once the queue has them.
 */
export function sendJson(env, binding, lines) {
  const messages = lines
    .split("\n")
    .map((text) => ({ body: JSON.parse(text), contentType: "json" }));
  return env[binding].sendBatch(messages);
}

// Wallet signing keys, imported by WebCrypto once per isolate (a rejected import is forgotten,
// so a fixed secret is used at the next call).
const signingKeys = new Map();

/**
 * Signs `data` with the PKCS#8 key `der` ("rsa": RSASSA-PKCS1-v1_5, "ec": ECDSA P-256; both
 * SHA-256), imported once under `name`. Resolves to the signature's bytes (ECDSA: r || s).
 */
export function signWith(name, der, kind, data) {
  const algorithm = kind === "ec" ? { name: "ECDSA", namedCurve: "P-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  let key = signingKeys.get(name);
  if (!key) {
    key = crypto.subtle.importKey("pkcs8", der.slice(), algorithm, false, ["sign"]);
    key.catch(() => signingKeys.delete(name));
    signingKeys.set(name, key);
  }
  const params = kind === "ec" ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5" };
  const bytes = data.slice();
  return key.then((k) => crypto.subtle.sign(params, k, bytes)).then((s) => new Uint8Array(s));
}

/**
 * POSTs an empty JSON body to APNs for one pass (`url` ends in the push token), through the
 * `APNS_CERT` mTLS binding when the Worker has one (it presents the Pass Type ID certificate),
 * else a plain fetch (a local stand-in; APNs itself refuses it). Resolves to
 * `status\nvia\napns-reason`; status 0 when no answer came.
 */
export function apnsPush(env, url, topic) {
  const binding = env.APNS_CERT;
  const via = binding && typeof binding.fetch === "function" ? "mtls" : "fetch";
  const request = new Request(url, {
    method: "POST",
    // Only the topic: Apple's pass-update push names no push type and carries no `aps`.
    headers: { "content-type": "application/json", "apns-topic": topic },
    body: "{}",
  });
  const sent = via === "mtls" ? binding.fetch(request) : fetch(request);
  return sent.then(
    (r) => r.text().then((t) => `${r.status}\n${via}\n${reasonOf(t)}`),
    (e) => `0\n${via}\n${String(e && e.message ? e.message : e).slice(0, 120)}`,
  );
}

function reasonOf(text) {
  try {
    return String(JSON.parse(text).reason ?? "").slice(0, 60);
  } catch {
    return "";
  }
}
