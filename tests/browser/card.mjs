// Loads a member's card in Debian's headless Chromium (playwright-core) at a phone viewport and
// prints what a shopper and a cashier would meet, as JSON: status, console errors, every request,
// axe-core's serious and critical violations, the member barcode's on-screen size; saves a
// screenshot of the page and one of the member barcode alone (for a real QR decoder), and the
// wallet buttons (words, links, sizes).
// Usage: node tests/browser/card.mjs URL PAGE_PNG BARCODE_PNG [LOCALE]
import { axeViolations, onPhone } from "./phone.mjs";

const [url, pageShot, barcodeShot, locale = "ja-JP"] = process.argv.slice(2);
await onPhone(url, locale, async ({ page, response, errors, requests }) => {
  const barcode = page.locator(".member-card .barcode svg");
  const box = await barcode.boundingBox();
  await barcode.screenshot({ path: barcodeShot });
  await page.screenshot({ path: pageShot, fullPage: true });
  const lang = await page.getAttribute("html", "lang");
  const axe = await axeViolations(page);
  const stopButton = await page.locator(".stop-button").count();
  // The wallet buttons as a shopper sees them: their words, where they lead, their size.
  const wallets = [];
  for (const button of await page.locator(".wallet-button").all()) {
    wallets.push({ text: (await button.innerText()).trim(), href: await button.getAttribute("href"), box: await button.boundingBox() });
  }
  console.log(JSON.stringify({ status: response.status(), lang, errors, requests, axe, barcode: box, stopButton, wallets }));
});
