// Drives the till page (GET /pos) in Debian's headless Chromium (playwright-core) at a till
// screen's 1280×800, the way a cashier and a keyboard-wedge scanner do, and prints ONE JSON
// object with what was observed (fields below). Steps:
//  1. open BASE_URL/pos, enter the POS key and register id "R1" in the set-up form (keyboard);
//  2. reload: the key must be kept (localStorage) and the set-up form not shown again;
//  3. focus the transaction-no. field and "scan" MEMBER_BARCODE: keystrokes 5 ms apart, then
//     Enter; the member and coupons must appear (and the scanned text must not stay in the field);
//  4. redeem COUPON_ID with the digit key the page shows on that coupon; read the result panel;
//  5. axe-core (serious and critical violations) with the result on screen; a tablet screenshot;
//  6. type MEMBER_BARCODE slowly (180 ms a key, like a person) into the transaction-no. field and
//     press Enter: it must not be taken for a scan (no scan request, the text stays in the field);
//  7. Esc clears the member.
// Screenshots: SCREENSHOT_DIR/pos-after-scan.png, pos-after-redeem.png, pos-tablet.png.
//
// Usage: node tests/browser/pos.mjs BASE_URL POS_KEY MEMBER_BARCODE COUPON_ID SCREENSHOT_DIR [LOCALE]
// (LOCALE, default ja-JP, sets Accept-Language and so the page language.) Exit status 0 when the
// run completed, whatever it observed (the caller asserts); 1 when the driver itself failed.
//
// Output fields:
//   status                 HTTP status of GET /pos
//   lang                   <html lang>
//   errors                 JS errors and console errors (CSP violations included), except the
//                          browser's own "Failed to load resource" lines, which go to resourceErrors
//   resourceErrors         [{url, text}] of those lines (e.g. a 409 of the redeem API)
//   foreignRequests        requests that did not go to BASE_URL (must be [])
//   setupShownFirst        the set-up form was shown on the first visit
//   keyKept                after reload: localStorage holds the key and the set-up form is hidden
//   scanRequests           POST /api/pos/scan requests made in the whole run
//   scanRequestBodies      their JSON bodies
//   scan                   {httpStatus, memberNumber (from the page), memberNumberShown (text),
//                          memberNumberFontPx, favouriteStore, consent, focusedCouponId,
//                          textLeftInField (what stayed in the focused field after the scan)}
//   memberNumber           = scan.memberNumber
//   coupons                [{id, title, status (chip text), kind (chip class), key (digit or null),
//                          usable (a button), named (the barcode's own coupon)}] after the scan
//   couponStatuses         {coupon id: chip class} after the scan (available, redeemed, expired,
//                          not-yet, elsewhere, consent)
//   redeem                 {key (digit pressed or null), requests, request (body sent),
//                          httpStatus, replayed, result: {state, title, subject, details}}
//   redeemResult           = redeem.result.state: ok | refused | uncertain | null
//   couponStatusesAfter    {coupon id: chip class} after the redemption
//   slowTyping             {scanRequestsDuring, fieldValue, textKept}
//   slowTypingTakenForScan true if the slow typing caused a scan request or lost its text
//   escClears              Esc brought back the "ready to scan" state
//   layout                 {till: {width, height, overflowX}, tablet: {...}}
//   axe                    [{id, impact, nodes}] serious/critical violations (must be [])
//   screenshots            {afterScan, afterRedeem, tablet}
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, posKey, barcode, couponId, shotDir, locale = "ja-JP"] = process.argv.slice(2);
if (!shotDir) {
  console.error("usage: node tests/browser/pos.mjs BASE_URL POS_KEY MEMBER_BARCODE COUPON_ID SCREENSHOT_DIR [LOCALE]");
  process.exit(2);
}
const origin = new URL(base).origin;
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(shotDir, { recursive: true });
const shots = {
  afterScan: join(shotDir, "pos-after-scan.png"),
  afterRedeem: join(shotDir, "pos-after-redeem.png"),
  tablet: join(shotDir, "pos-tablet.png"),
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const out = { screenshots: shots };
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
  const page = await context.newPage();
  const errors = [];
  const resourceErrors = [];
  const foreignRequests = [];
  const scanBodies = [];
  const redeemBodies = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (m.text().startsWith("Failed to load resource")) resourceErrors.push({ url: m.location().url, text: m.text() });
    else errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin && url.protocol !== "data:") foreignRequests.push(r.url());
    if (r.method() === "POST" && url.pathname === "/api/pos/scan") scanBodies.push(r.postDataJSON());
    if (r.method() === "POST" && url.pathname === "/api/pos/redeem") redeemBodies.push(r.postDataJSON());
  });

  const resultState = () => page.$eval("#till-result", (r) => r.dataset.state);
  const couponsOnScreen = () => page.$$eval("#till-member .till-coupon", (rows) => rows.map((row) => {
    const chip = row.querySelector(".till-chip");
    return {
      id: row.dataset.couponId,
      title: row.querySelector(".till-coupon-title")?.textContent ?? "",
      status: chip?.querySelector(".till-chip-label")?.textContent ?? "",
      kind: [...(chip?.classList ?? [])].find((c) => c.startsWith("is-"))?.slice(3) ?? "",
      key: row.dataset.key ? Number(row.dataset.key) : null,
      usable: row.tagName === "BUTTON",
      named: row.dataset.named === "true",
    };
  }));
  const statuses = (list) => Object.fromEntries(list.map((c) => [c.id, c.kind]));
  const overflow = () => page.evaluate(() => ({
    width: innerWidth, height: innerHeight,
    overflowX: document.scrollingElement.scrollWidth > innerWidth + 1,
  }));

  // 1. First visit: set-up.
  const response = await page.goto(base + "/pos", { waitUntil: "load" });
  out.status = response.status();
  out.lang = await page.getAttribute("html", "lang");
  out.setupShownFirst = await page.isVisible("#till-setup");
  await page.focus("#till-key");
  await page.keyboard.type(posKey);
  await page.focus("#till-register-id");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("R1");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#till-work", { state: "visible", timeout: 5000 });

  // 2. Reload: the key is kept.
  await page.reload({ waitUntil: "load" });
  await page.waitForFunction(() => !document.getElementById("till-work").hidden || !document.getElementById("till-setup").hidden);
  const stored = await page.evaluate(() => localStorage.getItem("till.key"));
  out.setupShownAfterReload = await page.isVisible("#till-setup");
  out.keyKept = stored === posKey && !out.setupShownAfterReload && (await page.isVisible("#till-work"));

  // 3. A scan, with the focus in the transaction-no. field.
  await page.focus("#till-txn");
  const scanResponse = page.waitForResponse((r) => r.url().endsWith("/api/pos/scan"), { timeout: 15000 });
  await page.keyboard.type(barcode, { delay: 5 });
  await page.keyboard.press("Enter");
  const scanned = await scanResponse.catch(() => null);
  await page.waitForFunction(() => document.getElementById("till-result").dataset.state !== "busy", null, { timeout: 15000 }).catch(() => {});
  const memberShown = await page.isVisible("#till-member");
  out.scan = {
    httpStatus: scanned ? scanned.status() : null,
    memberShown,
    memberNumber: memberShown ? await page.$eval("#till-member", (m) => m.dataset.memberNumber ?? null) : null,
    memberNumberShown: memberShown ? await page.$eval("#till-member .till-number", (n) => n.textContent) : null,
    memberNumberFontPx: memberShown ? await page.$eval("#till-member .till-number", (n) => parseFloat(getComputedStyle(n).fontSize)) : null,
    favouriteStore: memberShown ? await page.$eval("#till-member", (m) => m.dataset.favouriteStore || null) : null,
    consent: memberShown ? await page.$eval("#till-member", (m) => m.dataset.consent || null) : null,
    focusedCouponId: await page.evaluate(() => document.activeElement?.dataset?.couponId ?? null),
    textLeftInField: await page.inputValue("#till-txn"),
    resultState: await resultState(),
  };
  out.memberNumber = out.scan.memberNumber;
  out.coupons = memberShown ? await couponsOnScreen() : [];
  out.couponStatuses = statuses(out.coupons);
  out.layout = { till: await overflow() };
  await page.screenshot({ path: shots.afterScan });

  // 4. Redeem with the key the page shows on the coupon.
  const target = out.coupons.find((c) => c.id === couponId);
  out.redeem = { key: target?.key ?? null, requests: 0, request: null, httpStatus: null, replayed: false, result: null };
  if (target?.key) {
    const redeemResponse = page.waitForResponse((r) => r.url().endsWith("/api/pos/redeem"), { timeout: 15000 });
    await page.keyboard.press(String(target.key));
    const answer = await redeemResponse.catch(() => null);
    await page.waitForFunction(() => ["ok", "refused", "uncertain"].includes(document.getElementById("till-result").dataset.state), null, { timeout: 15000 }).catch(() => {});
    out.redeem.httpStatus = answer ? answer.status() : null;
    out.redeem.replayed = answer ? (await answer.headerValue("idempotent-replayed")) === "true" : false;
  }
  out.redeem.requests = redeemBodies.length;
  out.redeem.request = redeemBodies[0] ?? null;
  out.redeem.result = await page.$eval("#till-result", (r) => ({
    state: r.dataset.state,
    title: r.querySelector(".till-result-title")?.textContent ?? "",
    subject: r.querySelector(".till-result-subject")?.textContent ?? "",
    details: [...r.querySelectorAll(".till-result-detail")].map((p) => p.textContent),
    liveRegion: document.getElementById("till-live").textContent,
  }));
  out.redeemResult = target?.key ? out.redeem.result.state : null;
  out.couponStatusesAfter = statuses(await couponsOnScreen());
  await page.waitForTimeout(100); // the live region is filled after a short pause
  out.redeem.result.liveRegion = await page.$eval("#till-live", (l) => l.textContent);
  await page.screenshot({ path: shots.afterRedeem });

  // 5. axe-core with the result on screen (evaluated, not fetched: the page's CSP is untouched).
  await page.evaluate(axeSource);
  out.axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  await page.setViewportSize({ width: 820, height: 1180 });
  out.layout.tablet = await overflow();
  await page.screenshot({ path: shots.tablet });
  await page.setViewportSize({ width: 1280, height: 800 });

  // 6. The same text typed slowly by a person, in the transaction-no. field, then Enter.
  const scansBefore = scanBodies.length;
  await page.fill("#till-txn", "");
  await page.focus("#till-txn");
  await page.keyboard.type(barcode, { delay: 180 });
  await page.keyboard.press("Enter");
  await page.waitForTimeout(600);
  const fieldValue = await page.inputValue("#till-txn");
  out.slowTyping = {
    scanRequestsDuring: scanBodies.length - scansBefore,
    fieldValue,
    textKept: fieldValue === barcode,
  };
  out.slowTypingTakenForScan = out.slowTyping.scanRequestsDuring > 0 || !out.slowTyping.textKept;

  // 7. Esc: ready for the next customer.
  await page.keyboard.press("Escape");
  out.escClears = (await page.isVisible("#till-idle")) && !(await page.isVisible("#till-member"))
    && (await resultState()) === "idle" && (await page.inputValue("#till-txn")) === "";

  out.scanRequests = scanBodies.length;
  out.scanRequestBodies = scanBodies;
  out.errors = errors;
  out.resourceErrors = resourceErrors;
  out.foreignRequests = foreignRequests;
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(e);
  console.log(JSON.stringify({ ...out, driverError: String(e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
