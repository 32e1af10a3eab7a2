// Drives the till page (GET /pos) through a dropped connection in Debian's headless Chromium
// (playwright-core) at a till's 1280×800, with `context.setOffline(true)` and a wedge scanner's
// keystrokes (5 ms apart, then Enter), and prints ONE JSON object of what was observed; the
// caller (tests/e2e/offline.rs) asserts on it and on the server's records.
//
// Usage: node tests/browser/offline.mjs MODE 'JSON'
//   JSON: {base, shots, tills: [{key, register}], codes: {name: barcode text}}
// Modes:
//   journey    till 0: online set-up, offline scan of codes.coupon and redeem (key 1), reload
//              while offline (the till opens from the service worker, the queue is there), back
//              online: the queue is sent. Screenshots: offline-online.png, offline-offline.png.
//   two-tills  tills 0 and 1 (two contexts) set up online, go offline, both redeem codes.coupon,
//              then 0 reconnects, then 1: 1 lists a conflict. Screenshot: offline-conflict.png.
//   cut        till 0 scans codes.member online (the till remembers it), goes offline, redeems
//              the member's coupons 1 and 2, then codes.forged and codes.extra (a coupon barcode;
//              refused when the offline limit is reached); back online, a proxy's 404 page
//              answers the first send, then the next send's answer is cut after the server had
//              it; the sync is repeated.
// Output: {mode, errors, foreignRequests, redeemBodies, steps: {...}, axe: {state: [...]}}
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [mode, raw] = process.argv.slice(2);
if (!mode || !raw) {
  console.error("usage: node tests/browser/offline.mjs MODE JSON");
  process.exit(2);
}
const args = JSON.parse(raw);
const origin = new URL(args.base).origin;
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(args.shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const out = { mode, errors: [], foreignRequests: [], redeemBodies: [], steps: {}, axe: {}, screenshots: {} };

async function till(index) {
  const { key, register } = args.tills[index];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-GB" });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) out.errors.push(`till ${index}: ${m.text()}`);
  });
  page.on("pageerror", (e) => out.errors.push(`till ${index}: ${e}`));
  context.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin && url.protocol !== "data:") out.foreignRequests.push(r.url());
    if (r.method() === "POST" && url.pathname === "/api/pos/redeem") out.redeemBodies.push({ till: index, ...r.postDataJSON() });
  });
  await page.goto(args.base + "/pos", { waitUntil: "load" });
  await page.focus("#till-key");
  await page.keyboard.type(key);
  await page.focus("#till-register-id");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(register);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#till-work", { state: "visible", timeout: 5000 });
  // The service worker has the shell, and whoami's offline settings are kept.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => localStorage.getItem("till.offline"), null, { timeout: 10000 });
  return { context, page };
}

const net = (page) => page.$eval("#till-net", (n) => ({
  state: n.dataset.state, queued: Number(n.dataset.queued || 0), conflicts: Number(n.dataset.conflicts || 0),
  text: n.textContent.trim(),
}));
const result = (page) => page.$eval("#till-result", (r) => ({
  state: r.dataset.state,
  title: r.querySelector(".till-result-title")?.textContent ?? "",
  subject: r.querySelector(".till-result-subject")?.textContent ?? "",
  details: [...r.querySelectorAll(".till-result-detail")].map((p) => p.textContent),
}));
const coupons = (page) => page.$$eval("#till-member .till-coupon", (rows) => rows.map((row) => ({
  id: row.dataset.couponId, key: row.dataset.key ? Number(row.dataset.key) : null,
  usable: row.tagName === "BUTTON", status: row.querySelector(".till-chip-label")?.textContent ?? "",
})));
const conflicts = (page) => page.$$eval("#till-conflict-list li", (rows) => rows.map((r) => ({
  code: r.dataset.code, transactionId: r.dataset.transactionId, couponId: r.dataset.couponId,
  text: r.textContent,
})));
async function scanWithWedge(page, code) {
  await page.keyboard.type(code, { delay: 5 });
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => !["busy", "idle"].includes(document.getElementById("till-result").dataset.state), null, { timeout: 15000 }).catch(() => {});
}
// Presses a hot key and waits for a new answer in one of `states` (the panel's text changes:
// two redemptions in a row both end "queued").
async function press(page, key, states) {
  const before = await page.$eval("#till-result", (r) => r.textContent);
  await page.keyboard.press(key);
  await page.waitForFunction(([s, was]) => {
    const r = document.getElementById("till-result");
    return s.includes(r.dataset.state) && r.textContent !== was;
  }, [states, before], { timeout: 15000 }).catch(() => {});
  return result(page);
}
async function axe(page, name) {
  await page.evaluate(axeSource);
  out.axe[name] = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
}
async function shot(page, name) {
  const path = join(args.shots, `offline-${name}.png`);
  await page.screenshot({ path });
  out.screenshots[name] = path;
}
const settled = (page, queued) =>
  page.waitForFunction((q) => {
    const n = document.getElementById("till-net");
    return n.dataset.state === "online" && Number(n.dataset.queued || 0) === q;
  }, queued, { timeout: 30000 }).then(() => true, () => false);

try {
  if (mode === "journey") {
    const { context, page } = await till(0);
    out.steps.online = await net(page);
    await axe(page, "online");
    await shot(page, "online");
    await context.setOffline(true);
    await page.waitForFunction(() => document.getElementById("till-net").dataset.state === "offline", null, { timeout: 5000 }).catch(() => {});
    await scanWithWedge(page, args.codes.coupon);
    out.steps.offlineScan = { net: await net(page), result: await result(page), coupons: await coupons(page) };
    out.steps.redeem = await press(page, "1", ["queued", "refused"]);
    out.steps.afterRedeem = { net: await net(page), coupons: await coupons(page) };
    await axe(page, "offline");
    await shot(page, "offline");
    const reloaded = await page.reload({ waitUntil: "load" }).then(() => true, (e) => String(e));
    await page.waitForFunction(() => !document.getElementById("till-work").hidden, null, { timeout: 5000 }).catch(() => {});
    out.steps.reloadOffline = {
      reloaded, workShown: await page.isVisible("#till-work"), net: await net(page),
      controlled: await page.evaluate(() => Boolean(navigator.serviceWorker.controller)),
    };
    await context.setOffline(false);
    out.steps.synced = await settled(page, 0);
    out.steps.afterSync = { net: await net(page), conflicts: await conflicts(page) };
  } else if (mode === "two-tills") {
    const a = await till(0);
    const b = await till(1);
    for (const t of [a, b]) {
      await t.context.setOffline(true);
      await t.page.waitForFunction(() => document.getElementById("till-net").dataset.state === "offline", null, { timeout: 5000 }).catch(() => {});
      await scanWithWedge(t.page, args.codes.coupon);
      await press(t.page, "1", ["queued", "refused"]);
    }
    out.steps.queued = [await net(a.page), await net(b.page)];
    await a.context.setOffline(false);
    out.steps.firstSynced = await settled(a.page, 0);
    await b.context.setOffline(false);
    out.steps.secondSynced = await settled(b.page, 0);
    await b.page.waitForSelector("#till-conflicts", { state: "visible", timeout: 5000 }).catch(() => {});
    out.steps.conflicts = [await conflicts(a.page), await conflicts(b.page)];
    await b.page.keyboard.press("Escape");
    await axe(b.page, "conflict");
    await shot(b.page, "conflict");
  } else if (mode === "cut") {
    const { context, page } = await till(0);
    await scanWithWedge(page, args.codes.member);
    out.steps.onlineScan = { result: await result(page), coupons: await coupons(page) };
    await page.keyboard.press("Escape");
    await context.setOffline(true);
    await page.waitForFunction(() => document.getElementById("till-net").dataset.state === "offline", null, { timeout: 5000 }).catch(() => {});
    await scanWithWedge(page, args.codes.member);
    out.steps.offlineMember = { result: await result(page), coupons: await coupons(page) };
    out.steps.redeem1 = await press(page, "1", ["queued", "refused"]);
    // The coupons are numbered again: the next usable one is 1.
    out.steps.redeem2 = await press(page, "1", ["queued", "refused"]);
    await page.keyboard.press("Escape");
    await scanWithWedge(page, args.codes.forged);
    out.steps.forgedScan = await result(page);
    out.steps.redeemForged = await press(page, "1", ["queued", "refused"]);
    await page.keyboard.press("Escape");
    await scanWithWedge(page, args.codes.extra);
    out.steps.redeemPastLimit = await press(page, "1", ["queued", "refused"]);
    out.steps.beforeSync = await net(page);
    // Back online: first a proxy's 404 page answers (no answer of ours: all stays kept), then
    // the server gets the first kept redemption and its answer is lost.
    let cut = 0;
    await page.route("**/api/pos/redeem", async (route) => {
      if (cut === 0) {
        cut += 1;
        await route.fulfill({ status: 404, contentType: "text/html", body: "<h1>Not Found</h1>" });
      } else if (cut === 1) {
        cut += 1;
        await route.fetch();
        await route.abort("connectionreset");
      } else {
        await route.continue();
      }
    });
    await context.setOffline(false);
    await page.waitForFunction(() => !document.getElementById("till-net").dataset.state.startsWith("sync") && document.getElementById("till-net").dataset.state === "online", null, { timeout: 15000 }).catch(() => {});
    await page.waitForFunction(() => document.getElementById("till-net").dataset.state !== "syncing", null, { timeout: 15000 }).catch(() => {});
    out.steps.afterProxyPage = { net: await net(page), conflicts: await conflicts(page), cuts: cut };
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await page.waitForFunction(() => document.getElementById("till-net").dataset.state === "offline", null, { timeout: 15000 }).catch(() => {});
    out.steps.afterCut = await net(page);
    // The next try (the till's timer, or the browser's "online" hint) sends it all again.
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    out.steps.synced = await settled(page, 0);
    out.steps.afterSync = { net: await net(page), conflicts: await conflicts(page) };
    out.steps.cuts = cut;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  out.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
