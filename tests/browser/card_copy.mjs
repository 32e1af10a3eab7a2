// The card's offline copy, as a phone keeps it: opens a member's card in Debian's headless
// Chromium, lets the card's service worker take over and keep its copy, taps "stop messages",
// and prints as JSON whether the copy was kept before and dropped after (read from Cache
// Storage in the page, the store the service worker writes).
// Usage: node tests/browser/card_copy.mjs CARD_URL
import { onPhone } from "./phone.mjs";

const [url] = process.argv.slice(2);
const key = new URL(url).origin + new URL(url).pathname;
const copyKept = (page) => page.evaluate(async (k) => Boolean(await caches.match(k)), key);

await onPhone(url, "en-GB", async ({ page, errors }) => {
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The first visit installs the worker; the next one goes through it and is copied.
  await page.reload({ waitUntil: "load" });
  const controlled = await page.evaluate(() => Boolean(navigator.serviceWorker.controller));
  let before = false;
  for (let i = 0; i < 20 && !before; i++) {
    before = await copyKept(page);
    if (!before) await page.waitForTimeout(100);
  }
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator(".stop-button").click()]);
  const stoppedPage = await page.locator("h1").first().textContent();
  let after = true;
  for (let i = 0; i < 20 && after; i++) {
    after = await copyKept(page);
    if (after) await page.waitForTimeout(100);
  }
  console.log(JSON.stringify({ controlled, before, after, stoppedPage, errors }));
});
