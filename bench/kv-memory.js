// An in-memory KV service for the benchmark's workerd: speaks the protocol workerd's
// `kvNamespace` binding uses (GET/PUT/DELETE /<key>, GET /?prefix=&cursor=&key_count_limit=),
// so the Worker runs unchanged. Benchmarks only: nothing persists.
//
// Listing must stay cheap as the ledger grows: every key is indexed under each of its prefixes
// that end in ':' (the Worker's listings always use such a prefix); any other prefix scans.
const store = new Map(); // key -> { value: ArrayBuffer, metadata: string | null }
const byPrefix = new Map(); // "a:b:" -> Set of keys starting with it
const MAX_LIST = 1000;

function prefixesOf(key) {
  const out = [];
  for (let i = key.indexOf(":"); i !== -1; i = key.indexOf(":", i + 1)) out.push(key.slice(0, i + 1));
  return out;
}

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get("urlencoded") === "true" ? decodeURIComponent(raw) : raw;
}

function list(url) {
  const prefix = url.searchParams.get("prefix") ?? "";
  const limit = Math.min(Number(url.searchParams.get("key_count_limit") ?? MAX_LIST), MAX_LIST);
  const after = url.searchParams.get("cursor") ?? "";
  const candidates = prefix.endsWith(":") ? [...(byPrefix.get(prefix) ?? [])] : [...store.keys()];
  const names = candidates.filter((k) => k.startsWith(prefix) && k > after).sort();
  const page = names.slice(0, limit);
  const keys = page.map((name) => ({ name, metadata: store.get(name).metadata ?? undefined }));
  return names.length <= limit
    ? { keys, list_complete: true }
    : { keys, list_complete: false, cursor: page[page.length - 1] };
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/") return Response.json(list(url));
    const key = keyOf(url);
    if (request.method === "GET") {
      const entry = store.get(key);
      if (!entry) return new Response("Not Found", { status: 404 });
      const headers = new Headers();
      if (entry.metadata) headers.set("CF-KV-Metadata", entry.metadata);
      return new Response(entry.value, { headers });
    }
    if (request.method === "PUT") {
      if (!store.has(key)) {
        for (const p of prefixesOf(key)) {
          if (!byPrefix.has(p)) byPrefix.set(p, new Set());
          byPrefix.get(p).add(key);
        }
      }
      store.set(key, { value: await request.arrayBuffer(), metadata: request.headers.get("CF-KV-Metadata") });
      return new Response();
    }
    if (request.method === "DELETE") {
      if (store.delete(key)) for (const p of prefixesOf(key)) byPrefix.get(p)?.delete(key);
      return new Response();
    }
    return new Response("Method Not Allowed", { status: 405 });
  },
};
