// The few runtime calls a request makes most, each done here in one wasm→JS crossing where the
// generated bindings (web-sys, worker) cross once per header, per init field and per copy: in
// a CPU profile those crossings, not our Rust, were most of a small route's time (issue 10).
// Header values and serialized URLs never contain a line break, so `\n` can join them.

/** The request's method, URL, `cf-ray` and `content-length`, one per line. */
export function requestHead(request) {
  const headers = request.headers;
  return `${request.method}\n${request.url}\n${headers.get("cf-ray") ?? ""}\n${headers.get("content-length") ?? ""}`;
}

/** The headers every answer carries, then `extra` as `name\nvalue\n…` (set over them). */
export function answerHeaders(contentType, extra) {
  const headers = new Headers({
    "content-type": contentType,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  if (extra) setHeaders(headers, extra);
  return headers;
}

/** Sets headers given as `name\nvalue\nname\nvalue…`. */
export function setHeaders(headers, lines) {
  const parts = lines.split("\n");
  for (let i = 0; i + 1 < parts.length; i += 2) headers.set(parts[i], parts[i + 1]);
}

/**
 * The runtime's Response for a body (bytes viewed in wasm memory, copied here), a status and
 * headers, stamped with the request id; `body` undefined for none.
 */
export function response(body, status, headers, requestId) {
  headers.set("x-request-id", requestId);
  return new Response(body === undefined ? null : body.slice(), { status, headers });
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
