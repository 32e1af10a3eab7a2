// The few runtime calls a request makes most, each done here in one wasm→JS crossing where the
// generated bindings (web-sys, worker) cross once per header, per init field and per copy: in
// a CPU profile those crossings, not our Rust, are most of a small route's time.
// Header values and serialized URLs never contain a line break, so `\n` can join them.

/** The request's method, URL, `cf-ray` and `content-length`, one per line. */
export function requestHead(request) {
  const headers = request.headers;
  return `${request.method}\n${request.url}\n${headers.get("cf-ray") ?? ""}\n${headers.get("content-length") ?? ""}`;
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
 * POSTs a JSON body to the Durable Object `name` of the namespace bound as `binding`. Resolves
 * to the answer's text when it is 200, otherwise to its status (the body read and dropped).
 */
export function callObject(env, binding, name, body) {
  const namespace = env[binding];
  const stub = namespace.get(namespace.idFromName(name));
  return stub
    .fetch("https://object/", { method: "POST", body })
    .then((answer) => (answer.status === 200 ? answer.text() : answer.arrayBuffer().then(() => answer.status)));
}
