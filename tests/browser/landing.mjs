// Loads a page at a phone viewport (tests/browser/phone.mjs) and prints what a shopper would meet
// as JSON: the HTTP status, console errors, every request made, the channel buttons (href, text,
// what each brings, visible), axe-core's serious and critical violations, and saves a screenshot.
// Usage: node tests/browser/landing.mjs URL SCREENSHOT_PATH [LOCALE]
import { axeViolations, onPhone } from "./phone.mjs";

const [url, screenshot, locale = "ja-JP"] = process.argv.slice(2);
await onPhone(url, locale, async ({ page, response, errors, requests }) => {
  const buttons = await page.$$eval("a.button", (links) => links.map((a) => {
    const box = a.getBoundingClientRect();
    const style = getComputedStyle(a);
    return {
      href: a.getAttribute("href"), text: a.textContent, channel: a.dataset.channel,
      offers: a.dataset.offers, what: a.querySelector(".what")?.textContent ?? null,
      visible: box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.display !== "none",
      height: box.height,
    };
  }));
  const lang = await page.getAttribute("html", "lang");
  const consent = await page.$eval(".notice p", (p) => p.textContent);
  await page.screenshot({ path: screenshot, fullPage: true });
  const axe = await axeViolations(page);
  console.log(JSON.stringify({ status: response.status(), lang, errors, requests, buttons, consent, axe }));
});
