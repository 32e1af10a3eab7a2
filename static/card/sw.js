// The card's service worker (scope /card/). Network first, so an online visit always shows
// the current card (new coupons, fresh barcodes); the last copy answers when there is no
// network. A card that the network says is gone (404: erased) is dropped from the copy, and so
// is a card whose messages were stopped (the copy showed what the stop took away: the coupons
// for members who receive our messages).
"use strict";
var CACHE = "card-v1";
var STYLES = "/assets/site.css";
var TIMEOUT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.add(STYLES); }).catch(function () {}));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function fromNetwork(request) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, TIMEOUT_MS);
    fetch(request).then(function (response) { clearTimeout(timer); resolve(response); }, function (e) {
      clearTimeout(timer);
      reject(e);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  var stopped = request.method === "POST" && url.origin === self.location.origin &&
    /^\/card\/[A-Z2-7]+\/stop$/i.test(url.pathname);
  if (stopped) {
    var card = url.origin + url.pathname.replace(/\/stop$/i, "");
    event.respondWith(fetch(request).then(function (response) {
      return caches.open(CACHE).then(function (cache) { return cache.delete(card); })
        .catch(function () {}).then(function () { return response; });
    }));
    return;
  }
  if (request.method !== "GET") return;
  var isCard = url.origin === self.location.origin && /^\/card\/[A-Z2-7]+$/i.test(url.pathname);
  var isStyles = url.origin === self.location.origin && url.pathname === STYLES;
  if (!isCard && !isStyles) return;
  // One copy per card, whatever the query (?lang=) of the visit.
  var key = url.origin + url.pathname;
  event.respondWith(
    caches.open(CACHE).then(function (cache) {
      return fromNetwork(request).then(function (response) {
        if (response.status === 200) {
          cache.put(key, response.clone());
        } else if (response.status === 404) {
          cache.delete(key);
        }
        return response;
      }, function () {
        return cache.match(key).then(function (copy) {
          return copy || Response.error();
        });
      });
    })
  );
});
