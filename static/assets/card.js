// Progressive enhancement of the card page (it works without this script):
// - registers the card's service worker, so a card opened once with a connection opens again
//   at a till without signal;
// - shows a notice when the barcodes of an offline copy have expired.
(function () {
  "use strict";
  var card = document.querySelector("[data-expires]");
  if (card && Date.now() / 1000 > Number(card.getAttribute("data-expires"))) {
    var notice = card.querySelector(".expired-notice");
    if (notice) notice.hidden = false;
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/card/sw.js", { scope: "/card/" }).catch(function () {});
  }
})();
