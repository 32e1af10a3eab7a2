// An in-memory KV service for the benchmark's workerd: speaks the protocol workerd's
// `kvNamespace` binding uses (GET/PUT/DELETE /<key>, GET /?prefix=&cursor=&key_count_limit=),
// so the Worker runs unchanged. Benchmarks only: nothing persists.
const store = new Map(); // key -> { value: ArrayBuffer, metadata: string | null }
const MAX_LIST = 1000;

function keyOf(url) {
  const raw = url.pathname.slice(1);
  return url.searchParams.get("urlencoded") === "true" ? decodeURIComponent(raw) : raw;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const limit = Math.min(Number(url.searchParams.get("key_count_limit") ?? MAX_LIST), MAX_LIST);
      const after = url.searchParams.get("cursor") ?? "";
      const names = [...store.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = names.slice(0, limit);
      const done = names.length <= limit;
      const keys = page.map((name) => ({ name, metadata: store.get(name).metadata ?? undefined }));
      return Response.json(done ? { keys, list_complete: true } : { keys, list_complete: false, cursor: page[page.length - 1] });
    }
    const key = keyOf(url);
    if (request.method === "GET") {
      const entry = store.get(key);
      if (!entry) return new Response("Not Found", { status: 404 });
      const headers = new Headers();
      if (entry.metadata) headers.set("CF-KV-Metadata", entry.metadata);
      return new Response(entry.value, { headers });
    }
    if (request.method === "PUT") {
      store.set(key, { value: await request.arrayBuffer(), metadata: request.headers.get("CF-KV-Metadata") });
      return new Response();
    }
    if (request.method === "DELETE") {
      store.delete(key);
      return new Response();
    }
    return new Response("Method Not Allowed", { status: 405 });
  },
};
