// Loads a member's data page in Debian's headless Chromium (playwright-core) at a phone viewport
// and prints what a shopper would meet, as JSON: status, language, console errors, every request,
// scripts on the page, axe-core's serious and critical violations, and what the page lists;
// saves a full-page screenshot.
// Usage: node tests/browser/data.mjs URL PAGE_PNG
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [url, pageShot] = process.argv.slice(2);
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
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    javaScriptEnabled: true,
  });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  const response = await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: pageShot, fullPage: true });
  const lang = await page.getAttribute("html", "lang");
  const scripts = await page.locator("script").count();
  const events = await page.locator("ol.history > li").count();
  const noticeLinks = await page.locator("ol.history a[href^='/privacy/']").count();
  const receipts = await page.locator("a[href$='/receipts.json']").count();
  const stopButton = await page.locator(".stop-button").count();
  await page.evaluate(axeSource);
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  console.log(JSON.stringify({
    status: response.status(), lang, errors, requests, scripts, events, noticeLinks, receipts,
    stopButton, axe,
  }));
} finally {
  await browser.close();
}
