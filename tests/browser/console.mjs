// Drives the admin console (GET /admin) in Debian's headless Chromium (playwright-core) as a
// store manager does, with the keyboard and the mouse, and prints ONE JSON object with what was
// observed; the Rust test (tests/e2e/console.rs) asserts. Two phases, each a fresh browser
// session (so each signs in again, the token living in sessionStorage only):
//
//   setup  1. a wrong token: the message shown, nothing stored, one read-only call (a 401);
//          2. sign in; create STORE (names en + ja, address, Asia/Tokyo) with the form;
//          3. its poster with campaign CAMPAIGN: the landing URL shown, the preview loaded, the
//             PNG and SVG downloaded (saved in SHOT_DIR for the test to decode);
//          4. a coupon COUPON for STORE: the live preview shows the title as typed;
//          5. a notice draft NOTICE; the side-by-side; Activate → the dialog → Cancel (still a
//             draft) → Activate → confirm (in force);
//          6. the funnel of STORE: the totals shown;
//          7. a POS key for STORE: the key shown once.
//   after  8. the funnel of STORE again, until the opt-in and the redemption the test made show;
//          9. look up MEMBER: its number, LINE account and redemption shown; receipts download;
//         10. erase: the dialog's button stays disabled until the number is typed; erased;
//         11. revoke the POS key KEY_ID: the dialog, then "revoked";
//         12. the events feed: add an endpoint (secret shown once), rotate, dead letters, delete;
//         then the console in ja and fr, and sign-out.
// Every screen: a screenshot in SHOT_DIR, and axe-core (serious and critical violations).
//
// Usage: node tests/browser/console.mjs BASE_URL ADMIN_TOKEN SHOT_DIR setup STORE COUPON NOTICE CAMPAIGN
//        node tests/browser/console.mjs BASE_URL ADMIN_TOKEN SHOT_DIR after STORE MEMBER KEY_ID
// Exit status 0 when the run completed, whatever it observed; 1 when the driver itself failed.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, adminToken, shotDir, phase, ...rest] = process.argv.slice(2);
if (!phase) {
  console.error("usage: see the head of tests/browser/console.mjs");
  process.exit(2);
}
const origin = new URL(base).origin;
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(shotDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const out = { phase, screenshots: {}, axe: {}, errors: [], foreignRequests: [], resourceErrors: [] };
const TIMEOUT = 15000;

async function api(path) {
  const r = await fetch(base + path, { headers: { authorization: `Bearer ${adminToken}` } });
  return { status: r.status, json: await r.json().catch(() => null) };
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US", acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (m.text().startsWith("Failed to load resource")) out.resourceErrors.push({ url: m.location().url, text: m.text() });
    else out.errors.push(m.text());
  });
  page.on("pageerror", (e) => out.errors.push(String(e)));
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin !== origin && url.protocol !== "blob:" && url.protocol !== "data:") out.foreignRequests.push(r.url());
  });

  let axeLoaded = false;
  async function check(name) {
    const path = join(shotDir, `console-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    out.screenshots[name] = path;
    if (!axeLoaded) { await page.evaluate(axeSource); axeLoaded = true; }
    out.axe[name] = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
    });
  }
  const go = async (section) => {
    await page.click(`#nav a[href="#/${section}"]`);
    await page.waitForSelector("main h1");
    axeLoaded = await page.evaluate(() => !!window.axe);
  };
  // An image of the page (poster preview, chart) loaded and drawn.
  const imageShown = (selector) => page.waitForFunction((s) => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0 && i.src.startsWith("blob:"); }, selector);
  const messageText = (scope = "main") => page.$eval(`${scope} .message`, (m) => ({ text: m.textContent, role: m.getAttribute("role"), kind: m.className })).catch(() => null);

  const response = await page.goto(`${base}/admin`, { waitUntil: "load" });
  out.status = response.status();
  out.csp = response.headers()["content-security-policy"] ?? null;
  out.lang = await page.getAttribute("html", "lang");
  await page.waitForSelector("form.signin input[type=password]");

  async function signIn() {
    await page.fill("form.signin input[type=password]", adminToken);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#nav a[aria-current=page]");
  }

  if (phase === "setup") {
    const [store, coupon, notice, campaign] = rest;
    // 1. A wrong token.
    // What the page asks of the API with the wrong token (other tests change the data
    // meanwhile, so "nothing changed" is read from the requests made).
    const wrongTokenCalls = [];
    const recordCall = (r) => {
      const url = new URL(r.request().url());
      if (url.pathname.startsWith("/api/")) wrongTokenCalls.push(`${r.request().method()} ${url.pathname} ${r.status()}`);
    };
    page.on("response", recordCall);
    await page.fill("form.signin input[type=password]", `${adminToken}-wrong`);
    await page.keyboard.press("Enter");
    await page.waitForSelector("form.signin .message");
    page.off("response", recordCall);
    out.wrongToken = {
      message: await messageText("form.signin"),
      stored: await page.evaluate(() => ({ session: sessionStorage.length, local: Object.keys(localStorage) })),
      navHidden: await page.isHidden("#nav"),
    };
    out.wrongToken.calls = wrongTokenCalls;
    await check("signin-wrong");

    // 2. Sign in; create the store.
    await signIn();
    out.tokenInSession = await page.evaluate((t) => sessionStorage.getItem("optin.console.token") === t && !Object.values(localStorage).includes(t), adminToken);
    await page.waitForSelector("main .panel button");
    await page.click("text=New store");
    await page.fill("input[name=store-id]", store);
    await page.fill("input[name=name-en]", `Console ${store}`);
    await page.fill("input[name=name-ja]", "コンソール店");
    await page.fill("input[name=address]", "1-2-3 Jingumae, Shibuya");
    await page.fill("input[name=timezone]", "Asia/Tokyo");
    await page.fill("input[name=country]", "jp");
    await check("store-form");
    await page.click("form button[type=submit]");
    await page.waitForSelector(`tr[data-store="${store}"]`);
    out.storeRow = await page.$eval(`tr[data-store="${store}"]`, (r) => [...r.cells].map((c) => c.textContent));
    out.storeOffers = await page.$eval(`tr[data-store="${store}"] [data-offers]`, (c) => c.dataset.offers);
    out.deadChannels = await page.$$eval("[data-dead-channel]", (els) => els.map((e) => e.dataset.deadChannel));
    await check("stores");

    // 3. The poster.
    await page.click(`tr[data-store="${store}"] button:nth-of-type(2)`);
    await page.fill("input[name=campaign]", campaign);
    await page.press("input[name=campaign]", "Tab");
    await imageShown("img.poster");
    out.landingUrl = await page.inputValue("input[name=landing-url]");
    const pngDownload = page.waitForEvent("download");
    await page.click("text=Download PNG");
    const png = await pngDownload;
    out.posterPng = join(shotDir, "console-poster-download.png");
    await png.saveAs(out.posterPng);
    out.posterPngName = png.suggestedFilename();
    const svgDownload = page.waitForEvent("download");
    await page.click("text=Download SVG");
    const svg = await svgDownload;
    out.posterSvg = join(shotDir, "console-poster-download.svg");
    await svg.saveAs(out.posterSvg);
    await check("poster");

    // 4. A coupon, with its live preview.
    await go("coupons");
    await page.click("text=New coupon");
    await page.fill("input[name=coupon-id]", coupon);
    await page.fill("input[name=title-en]", "Autumn 10% off <b>now</b>");
    await page.fill("textarea[name=description-en]", "On everything in store.");
    await page.check(`label:has-text("(${store})")`);
    out.couponPreview = await page.$eval(".preview", (p) => ({
      title: p.querySelector(".coupon-mock-title")?.textContent,
      description: p.querySelector(".coupon-mock-description")?.textContent,
      meta: p.querySelector(".coupon-mock-meta")?.textContent,
      bold: p.querySelectorAll("b").length,
    }));
    await page.selectOption("select[name=preview-lang]", "ja");
    out.couponPreviewJa = await page.$eval(".preview .card-mock-heading", (h) => h.textContent);
    await check("coupon-form");
    await page.click("form button[type=submit]");
    await page.waitForSelector(`tr[data-coupon="${coupon}"]`);
    out.couponRow = await page.$eval(`tr[data-coupon="${coupon}"]`, (r) => [...r.cells].map((c) => c.textContent));
    await check("coupons");

    // 5. A notice: draft, side by side, activate (cancel first).
    await go("notices");
    await page.click("text=New draft");
    await page.fill("input[name=notice-version]", notice);
    await page.fill("input[name=notice-title-en]", "How we use your data");
    await page.fill("textarea[name=notice-body-en]", "We send offers by chat.\nYou can stop at any time.\nNew: we also keep your favourite store.");
    await page.click("form button[type=submit]");
    await page.waitForSelector(`tr[data-notice="${notice}"]`);
    await page.click(`tr[data-notice="${notice}"] button:has-text("Compare")`);
    await page.waitForSelector(".side-by-side");
    out.compare = await page.$$eval(".side-by-side", (sides) => sides.map((s) => ({
      lang: s.getAttribute("lang"),
      current: s.querySelector(".current .side-label")?.textContent,
      proposed: s.querySelector(".proposed .side-label")?.textContent,
      added: [...s.querySelectorAll(".proposed .line.added")].map((l) => l.textContent),
      removed: [...s.querySelectorAll(".current .line.removed")].map((l) => l.textContent),
    })));
    await check("notice-compare");
    await page.click("text=Activate…");
    await page.waitForSelector("dialog[open]");
    out.activateDialog = await page.$eval("dialog", (d) => ({ title: d.querySelector("h2").textContent, text: d.querySelector("#dialog-body").textContent, focused: document.activeElement?.id }));
    await check("notice-dialog");
    await page.keyboard.press("Escape");
    await page.waitForSelector("dialog:not([open])", { state: "attached" });
    // Whether the version was ever activated (another test may activate its own meanwhile, so
    // "the one in force" is not asked).
    const activated = async () => (await api("/api/admin/notices")).json?.notices?.find((n) => n.version === notice)?.activated_at_ms ?? null;
    out.activatedAfterCancel = await activated();
    await page.click("text=Activate…");
    await page.waitForSelector("dialog[open]");
    await page.click("#dialog-ok");
    await page.waitForSelector(`tr[data-notice="${notice}"] .chip:not(.draft)`);
    out.activatedAfterConfirm = await activated();
    out.noticeMessage = await messageText();
    await check("notices");

    // 6. The funnel of the store.
    await go("funnel");
    await page.selectOption("select[name=store]", store);
    await page.click("text=Show");
    await page.waitForSelector(`#funnel-results[data-store="${store}"]`);
    await imageShown("img.chart");
    out.funnelBefore = await page.$eval("#funnel-results", (r) => ({ ...r.dataset }));
    out.funnelRows = await page.$$eval("#funnel-results tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    const csvDownload = page.waitForEvent("download");
    await page.click("text=Download CSV");
    const csv = await csvDownload;
    out.funnelCsv = join(shotDir, "console-funnel.csv");
    await csv.saveAs(out.funnelCsv);
    await check("funnel-before");

    // 7. A POS key, shown once.
    await go("keys");
    await page.selectOption("select[name=key-store]", store);
    await page.fill("input[name=key-label]", "Till 1");
    await page.click("text=Create a key");
    await page.waitForSelector(".once input[data-secret]");
    out.posKey = await page.inputValue(".once input[data-secret]");
    // The list is fetched again after the key is shown: wait for its row.
    await page.waitForSelector(`tr[data-key="${out.posKey.slice(3, 11)}"]`);
    out.posKeyRows = await page.$$eval("tr[data-key]", (rows) => rows.map((r) => r.dataset.key));
    await check("pos-key");
    // Shown once: back to the screen, the key is nowhere on the page.
    await go("stores");
    await go("keys");
    await page.selectOption("select[name=key-store]", store);
    await page.waitForSelector("tr[data-key]");
    out.posKeyShownAgain = (await page.content()).includes(out.posKey);
  } else if (phase === "after") {
    const [store, member, keyId] = rest;
    await signIn();

    // 8. The funnel moved.
    await go("funnel");
    await page.selectOption("select[name=store]", store);
    for (let i = 0; i < 40; i++) {
      await page.click("text=Show");
      await imageShown("img.chart");
      out.funnelAfter = await page.$eval("#funnel-results", (r) => ({ ...r.dataset }));
      if (out.funnelAfter.store === store && Number(out.funnelAfter.optins) >= 1 && Number(out.funnelAfter.redemptions) >= 1 && Number(out.funnelAfter.views) >= 1) break;
      await page.waitForTimeout(250);
    }
    await check("funnel-after");
    await page.setViewportSize({ width: 820, height: 1180 });
    out.tabletOverflow = await page.evaluate(() => document.scrollingElement.scrollWidth > innerWidth + 1);
    await check("funnel-tablet");
    await page.setViewportSize({ width: 1280, height: 860 });

    // 9. Look up the member.
    await go("members");
    await page.fill("input[name=member-number]", member);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#member-title");
    out.member = await page.$eval("section.member", (s) => ({
      title: s.querySelector("#member-title").textContent,
      facts: [...s.querySelectorAll(".facts")].map((d) => d.textContent),
      accounts: [...s.querySelectorAll(".subject h4")].map((h) => h.textContent),
      tables: [...s.querySelectorAll("table")].map((t) => [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent))),
      cardLink: s.querySelector(".facts a")?.getAttribute("href") ?? null,
    }));
    const receiptsDownload = page.waitForEvent("download");
    await page.click("text=Download consent receipts");
    const receipts = await receiptsDownload;
    out.receipts = join(shotDir, "console-receipts.json");
    await receipts.saveAs(out.receipts);
    await check("member");

    // 10. Erase, with the typed confirmation.
    await page.click("text=Erase this member…");
    await page.waitForSelector("dialog[open]");
    out.eraseDisabledAtFirst = await page.isDisabled("#dialog-ok");
    await page.keyboard.type(member.slice(0, 11));
    out.eraseDisabledWithWrongNumber = await page.isDisabled("#dialog-ok");
    await page.keyboard.type(member.slice(11));
    out.eraseEnabledWithNumber = await page.isEnabled("#dialog-ok");
    await check("erase-dialog");
    await page.click("#dialog-ok");
    await page.waitForSelector("main .message.ok");
    out.erased = await messageText();
    out.memberAfterErase = (await api(`/api/admin/members/${member}`)).json?.member?.subjects?.map((s) => s.user_id) ?? null;
    await check("erased");

    // 11. Revoke the POS key.
    await go("keys");
    await page.selectOption("select[name=key-store]", store);
    await page.waitForSelector(`tr[data-key="${keyId}"]`);
    // The store's offline conflicts, listed below the keys.
    await page.waitForSelector("[data-conflicts] tr[data-conflict]", { timeout: 5000 }).catch(() => {});
    out.conflictRows = await page.$$eval("[data-conflicts] tr[data-conflict]", (rows) => rows.map((r) => ({
      reason: r.dataset.reason, cells: [...r.cells].map((c) => c.textContent),
    })));
    await check("pos-keys-conflicts");
    // The key's offline limit, changed in place.
    await page.fill(`form[data-limit="${keyId}"] input`, "7");
    await page.click(`form[data-limit="${keyId}"] button`);
    await page.waitForFunction((id) => document.querySelector(`form[data-limit="${id}"] input`)?.value === "7", keyId, { timeout: 5000 }).catch(() => {});
    out.limitAfterSave = (await api(`/api/admin/stores/${store}/pos-keys`)).json?.pos_keys?.find((k) => k.id === keyId)?.offline_limit ?? null;
    await page.click(`tr[data-key="${keyId}"] button.danger`);
    await page.waitForSelector("dialog[open]");
    await page.click("#dialog-ok");
    await page.waitForSelector(`tr[data-key="${keyId}"] .chip.withdrawn`);
    out.keyRow = await page.$eval(`tr[data-key="${keyId}"]`, (r) => [...r.cells].map((c) => c.textContent));
    await check("pos-keys-revoked");

    // 12. The events feed: add an endpoint (secret shown once), rotate, its dead letters, delete.
    // Port 9 (discard) refuses connections: nothing is delivered while it briefly exists.
    const feedUrl = `http://127.0.0.1:9/console-${Date.now()}`;
    await go("feeds");
    await page.fill("input[name=feed-url]", feedUrl);
    await page.click("text=Add endpoint");
    await page.waitForSelector(".once input[data-secret]");
    const feedRow = `tr[data-feed]:has(td:text-is("${feedUrl}"))`;
    await page.waitForSelector(feedRow);
    out.feedSecret = await page.inputValue(".once input[data-secret]");
    await check("feed-added");
    await page.click(`${feedRow} button:has-text("Rotate secret")`);
    await page.waitForFunction((first) => document.querySelector(".once input[data-secret]")?.value !== first, out.feedSecret);
    out.feedRotatedSecret = await page.inputValue(".once input[data-secret]");
    await page.waitForSelector(`${feedRow} td:nth-child(8):text-is("2")`, { timeout: 5000 }).catch(() => {});
    out.feedSecretsInForce = await page.$eval(`${feedRow} td:nth-child(8)`, (td) => td.textContent);
    await page.click(`${feedRow} button:has-text("Dead letters")`);
    await page.waitForSelector("text=No dead letter.");
    await check("feed-dead-letters");
    await page.click(`${feedRow} button:has-text("Delete")`);
    await page.waitForSelector("dialog[open]");
    await page.click("#dialog-ok");
    await page.waitForSelector(feedRow, { state: "detached" });
    out.feedListedAfterDelete = ((await api("/api/admin/feeds")).json?.feeds ?? []).some((f) => f.url === feedUrl);

    // Languages: the console in Japanese and French (the words change, the data stays).
    for (const l of ["ja", "fr"]) {
      await page.selectOption("#lang", l);
      await page.waitForSelector("main h1");
      out[`nav_${l}`] = await page.$$eval("#nav a", (as) => as.map((a) => a.textContent));
      out[`lang_${l}`] = await page.getAttribute("html", "lang");
      await check(`keys-${l}`);
    }
    await page.selectOption("#lang", "en");

    // Sign out: the token leaves the session.
    await page.click("#signout");
    await page.waitForSelector("form.signin");
    out.tokenAfterSignOut = await page.evaluate(() => sessionStorage.getItem("optin.console.token"));
  }
} catch (e) {
  out.driverError = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
