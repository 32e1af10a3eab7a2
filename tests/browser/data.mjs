// Loads a member's data page at a phone viewport and prints what a shopper would meet, as JSON:
// status, language, console errors, every request, scripts on the page, axe-core's serious and
// critical violations, and what the page lists; saves a full-page screenshot.
// Usage: node tests/browser/data.mjs URL PAGE_PNG
import { axeViolations, onPhone } from "./phone.mjs";

const [url, pageShot] = process.argv.slice(2);
await onPhone(url, "en-US", async ({ page, response, errors, requests }) => {
  await page.screenshot({ path: pageShot, fullPage: true });
  const count = (selector) => page.locator(selector).count();
  console.log(JSON.stringify({
    status: response.status(),
    lang: await page.getAttribute("html", "lang"),
    errors,
    requests,
    scripts: await count("script"),
    events: await count("ol.history > li"),
    noticeLinks: await count("ol.history a[href^='/privacy/']"),
    receipts: await count("a[href$='/receipts.json']"),
    stopButton: await count(".stop-button"),
    axe: await axeViolations(page),
  }));
});
