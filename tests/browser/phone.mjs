// What every page check shares: Debian's headless Chromium (playwright-core; no browser
// download) at a phone viewport, with the console errors and requests of the page recorded, and
// axe-core's serious and critical violations (axe is evaluated in the page, not fetched, so the
// page's CSP is untouched).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Opens `url`; runs `inspect({ page, response, errors, requests })` and closes the browser. */
export async function onPhone(url, locale, inspect) {
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
    return await inspect({ page, response, errors, requests });
  } finally {
    await browser.close();
  }
}

/** axe-core's serious and critical violations on the page. */
export async function axeViolations(page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
}
