// Loads a page in Debian's headless Chromium (driven by playwright-core; no browser download)
// at a phone viewport, and prints what a shopper would meet as JSON: the HTTP status, console
// errors, every request made, the channel buttons (href, text, visible), and saves a screenshot.
// Usage: node tests/browser/landing.mjs URL SCREENSHOT_PATH [LOCALE]
import { chromium } from "playwright-core";

const [url, screenshot, locale = "ja-JP"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale,
  });
  const errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  const response = await page.goto(url, { waitUntil: "load" });
  const buttons = await page.$$eval("a.button", (links) => links.map((a) => {
    const box = a.getBoundingClientRect();
    const style = getComputedStyle(a);
    return {
      href: a.getAttribute("href"), text: a.textContent, channel: a.dataset.channel,
      visible: box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.display !== "none",
      height: box.height,
    };
  }));
  const lang = await page.getAttribute("html", "lang");
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ status: response.status(), lang, errors, requests, buttons }));
} finally {
  await browser.close();
}
