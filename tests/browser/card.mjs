// Loads a member's card in Debian's headless Chromium (playwright-core) at a phone viewport and
// prints what a shopper and a cashier would meet, as JSON: status, console errors, every request,
// axe-core's serious and critical violations, the member barcode's on-screen size; saves a
// screenshot of the page and one of the member barcode alone (for a real QR decoder).
// Usage: node tests/browser/card.mjs URL PAGE_PNG BARCODE_PNG [LOCALE]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [url, pageShot, barcodeShot, locale = "ja-JP"] = process.argv.slice(2);
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale,
  });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  const response = await page.goto(url, { waitUntil: "load" });
  const barcode = page.locator(".member-card .barcode svg");
  const box = await barcode.boundingBox();
  await barcode.screenshot({ path: barcodeShot });
  await page.screenshot({ path: pageShot, fullPage: true });
  const lang = await page.getAttribute("html", "lang");
  // axe-core runs in the page; it is evaluated, not fetched, so the page's CSP is untouched.
  await page.evaluate(axeSource);
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  const stopButton = await page.locator(".stop-button").count();
  console.log(JSON.stringify({ status: response.status(), lang, errors, requests, axe, barcode: box, stopButton }));
} finally {
  await browser.close();
}
