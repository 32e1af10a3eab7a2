// The till's service worker (registered by /assets/pos.js with scope /pos): it keeps the till's
// shell — the page in each language, its script, its style, its icon and manifest — so that a
// reload without a connection still opens the till. Network first, so a connected till always
// runs what was deployed last; the cache answers when the network fails or hangs. API calls are
// never touched: they reach the server or fail, and the page queues what must wait.
"use strict";

const CACHE = "till-shell-v2";
const SHELL = [
  "/pos", "/pos?lang=ja", "/pos?lang=en", "/pos?lang=fr",
  "/assets/pos.js", "/assets/site.css", "/favicon.svg", "/pos.webmanifest",
];
const SHELL_PATHS = new Set(SHELL.map((u) => new URL(u, self.location.origin).pathname));
// A till on a line that hangs should not wait long for a page it already has.
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((u) => new Request(u, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("till-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

async function fromNetworkElseCache(request) {
  const cache = await caches.open(CACHE);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), NETWORK_WAIT_MS);
  const cached = async () => (await cache.match(request)) ||
    (new URL(request.url).pathname === "/pos" ? await cache.match("/pos") : undefined);
  try {
    const response = await fetch(request, { signal: controller.signal });
    // Kept only as served here (no redirect's target); a server in trouble (5xx) does not
    // replace a till that works.
    if (response.ok && !response.redirected) await cache.put(request, response.clone());
    if (response.status >= 500) return (await cached()) || response;
    return response;
  } catch (err) {
    const hit = await cached();
    if (hit) return hit;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !SHELL_PATHS.has(url.pathname)) return;
  event.respondWith(fromNetworkElseCache(request));
});
