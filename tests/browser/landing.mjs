// Loads a page at a phone viewport (tests/browser/phone.mjs) and prints what a shopper would meet
// as JSON: the HTTP status, console errors, every request made, the channel buttons (href, text,
// visible), and saves a screenshot.
// Usage: node tests/browser/landing.mjs URL SCREENSHOT_PATH [LOCALE]
import { onPhone } from "./phone.mjs";

const [url, screenshot, locale = "ja-JP"] = process.argv.slice(2);
await onPhone(url, locale, async ({ page, response, errors, requests }) => {
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
});
