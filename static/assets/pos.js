// The till page (GET /pos). Plain ES2020, no dependencies, and no words of its own: every text
// comes from the page (<template id="till-texts">), so this file is the same in every language.
//
// - Set-up: the POS key and the register id are entered once and kept in localStorage. "Change
//   key" reopens the form (with a way to forget the key); a 401 sends the till back to it.
// - Scans: a keyboard-wedge scanner types the code then Enter (or Tab) wherever the focus is.
//   Its keystrokes are told from typing by their timing, as POS software does (onScan.js): at
//   least SCAN_MIN_LENGTH characters, on average at most SCAN_MAX_AVG_MS apart, ended by Enter
//   or Tab; a pause over SCAN_MAX_GAP_MS starts a new run (one hiccup of a busy till or a
//   Bluetooth scanner is tolerated, a person's typing never averages 40 ms a key). The ending key's default is prevented and any
//   characters that landed in a text field are taken out again. The manual code field submits
//   whatever the speed.
// - Keys: 1–9 redeem the usable coupon of that number (outside text fields, once no scanner
//   keystroke follows); Enter or Space on the focused coupon redeem it; Esc clears.
// - Each redemption sends the typed register transaction no., else one this till makes for the
//   attempt. After a 5xx the attempt is retried with the same transaction id, so a retry is
//   never a false "already redeemed".
// - Offline (API.md, "The till when the network drops"): /pos-sw.js keeps the page, so a reload
//   without a connection opens the till. A scan while offline checks the code's shape (kind,
//   length, alphabet, check digit, expiry) — its signature only the server can check — and
//   shows the coupon a coupon barcode names, or what this till last knew of the member. A
//   redemption then (or one whose answer the network lost) is kept in IndexedDB with its
//   transaction id, register, POS key id and moment, up to the key's offline limit; the queue
//   survives reloads. When the connection returns, and every SYNC_EVERY_MS meanwhile, it is
//   sent in order with `offline_at`; the server decides each once (by transaction id), so a
//   sync cut halfway and sent again changes nothing. Refusals are conflicts, listed on the till.
(() => {
  "use strict";

  const root = document.getElementById("till");
  if (!root) return;
  const $ = (id) => document.getElementById(id);

  const SCAN_MIN_LENGTH = 8;
  const SCAN_MAX_AVG_MS = 40;
  const SCAN_MAX_GAP_MS = 250;
  const HOTKEY_DELAY_MS = 150;
  const REQUEST_TIMEOUT_MS = 12000;
  const ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
  const STORAGE = "till.";
  const SYNC_EVERY_MS = 15000;
  const MEMBERS_KEPT = 300;
  const DEFAULT_OFFLINE_LIMIT = 50;
  const DEFAULT_OFFLINE_MAX_HOURS = 72;

  // ---- words and formats, from the page ------------------------------------------------------
  const TEXTS = Object.create(null);
  for (const el of $("till-texts").content.querySelectorAll("[data-t]")) {
    TEXTS[el.dataset.t] = el.textContent;
  }
  const t = (key, vars) =>
    (TEXTS[key] ?? key).replace(/\{(\w+)\}/g, (hole, name) =>
      vars && name in vars ? String(vars[name]) : hole);
  const lang = document.documentElement.lang || "en";
  // Dates in the page's language, with the device's regional habits when they are of that
  // language (en-GB, fr-CA); times in the device's time zone (the till is in the store).
  const region = (navigator.languages || []).find((l) => l.split("-")[0].toLowerCase() === lang);
  const locale = region || lang;
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  const dateOnly = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });
  const when = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso ?? "") : dateTime.format(d);
  };
  // valid_until is the first instant the coupon is no longer valid: show the day before it.
  const lastDay = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso ?? "") : dateOnly.format(new Date(d.getTime() - 1));
  };
  const grouped = (number) =>
    /^\d{12}$/.test(number) ? number.replace(/(\d{4})(\d{4})(\d{4})/, "$1 $2 $3") : String(number);

  // ---- device storage ------------------------------------------------------------------------
  const saved = {
    get(k) { try { return localStorage.getItem(STORAGE + k) || ""; } catch { return ""; } },
    set(k, v) { try { localStorage.setItem(STORAGE + k, v); } catch { /* private mode */ } },
    remove(k) { try { localStorage.removeItem(STORAGE + k); } catch { /* private mode */ } },
  };

  const state = {
    key: saved.get("key"),
    register: saved.get("register"),
    storeId: saved.get("store"),
    storeNames: {}, // store id -> name in the till's language, from the last scan
    scan: null, // { code, member, coupons: [...], named } of the member on screen
    busy: false, // a redemption is in flight
    redeeming: null, // its promise (a new scan waits for it)
    scanController: null,
    pending: new Map(), // "member/coupon" -> transaction id of an attempt without a final answer
    txnUsed: null, // { txn, member }: the typed transaction no. that redeemed for this member
  };

  const el = {
    setup: $("till-setup"), setupForm: $("till-setup-form"), setupError: $("till-setup-error"),
    key: $("till-key"), registerInput: $("till-register-id"), cancel: $("till-setup-cancel"),
    forget: $("till-forget"), changeKey: $("till-change-key"), work: $("till-work"),
    store: $("till-store"), register: $("till-register"), result: $("till-result"),
    resultBody: $("till-result-body"), idle: $("till-idle"), member: $("till-member"),
    manualForm: $("till-manual-form"), code: $("till-code"), txnForm: $("till-txn-form"),
    txn: $("till-txn"), txnHint: $("till-txn-hint"), live: $("till-live"),
    net: $("till-net"), netText: $("till-net-text"), netCount: $("till-net-count"),
    conflicts: $("till-conflicts"), conflictList: $("till-conflict-list"),
    conflictsClear: $("till-conflicts-clear"),
  };
  const txnHintText = el.txnHint.textContent;

  // ---- small DOM helpers ---------------------------------------------------------------------
  function h(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function announce(text) {
    el.live.textContent = "";
    setTimeout(() => { el.live.textContent = text; }, 50);
  }
  const isTextField = (node) =>
    node instanceof HTMLTextAreaElement ||
    (node instanceof HTMLInputElement &&
      /^(text|search|password|tel|url|email|number)$/.test(node.type));

  // ---- set-up --------------------------------------------------------------------------------
  function showSetup(message) {
    cancelScan();
    el.work.hidden = true;
    el.changeKey.hidden = true;
    el.setup.hidden = false;
    el.setupError.textContent = message || "";
    el.setupError.hidden = !message;
    el.key.value = "";
    el.key.removeAttribute("aria-invalid");
    el.registerInput.value = state.register;
    el.registerInput.removeAttribute("aria-invalid");
    el.cancel.hidden = !state.key;
    el.forget.hidden = !state.key;
    showWhere();
    el.key.focus();
  }

  function showWork() {
    el.setup.hidden = true;
    el.work.hidden = false;
    el.changeKey.hidden = false;
    showWhere();
    clearAll(false);
  }

  function showWhere() {
    el.store.textContent = (state.storeId && (state.storeNames[state.storeId] || saved.get("store_name"))) || state.storeId || "—";
    el.register.textContent = state.register || "—";
  }

  // Asks the API which store a key stands for: { ok, status, body }; never rejects.
  async function whoami(key) {
    try {
      const res = await fetch("/api/pos/whoami", {
        headers: { authorization: "Bearer " + key }, cache: "no-store", credentials: "omit",
      });
      let body = null;
      try { body = await res.json(); } catch { body = null; }
      return { ok: res.ok, status: res.status, body };
    } catch {
      return { ok: false, status: 0, body: null };
    }
  }

  el.setupForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = el.key.value.trim();
    const register = el.registerInput.value.trim();
    const problems = [];
    el.key.toggleAttribute("aria-invalid", !key);
    if (!key) problems.push(t("key_missing"));
    el.registerInput.toggleAttribute("aria-invalid", !ID_RE.test(register));
    if (!ID_RE.test(register)) problems.push(t("id_invalid"));
    if (problems.length) {
      el.setupError.textContent = problems.join(" ");
      el.setupError.hidden = false;
      (key ? el.registerInput : el.key).focus();
      return;
    }
    // A wrong key shows here, not at the first customer's scan. Without an answer (network
    // trouble) the key is kept and the first scan checks it.
    const check = await whoami(key);
    if (check.status === 401) {
      el.key.setAttribute("aria-invalid", "true");
      el.setupError.textContent = t("unauthorized");
      el.setupError.hidden = false;
      el.key.focus();
      return;
    }
    if (check.ok && check.body && check.body.store_id) {
      state.storeId = check.body.store_id;
      if (check.body.store_name) {
        state.storeNames = { [state.storeId]: check.body.store_name };
        saved.set("store_name", check.body.store_name);
      }
    } else if (key !== state.key) {
      state.storeId = "";
    }
    if (key !== state.key) forgetMembers();
    state.key = key;
    state.register = register;
    saved.set("key", key);
    saved.set("register", register);
    saved.set("store", state.storeId);
    showWork();
    refreshOffline().then(sync);
  });
  el.cancel.addEventListener("click", () => { if (state.key) showWork(); });
  el.forget.addEventListener("click", () => {
    // What this till knew of members goes with the key; kept redemptions stay, to be sent
    // with the next key of the same store.
    forgetMembers();
    state.key = "";
    state.storeId = "";
    saved.remove("key");
    saved.remove("store");
    saved.remove("store_name");
    showSetup();
  });
  el.changeKey.addEventListener("click", () => showSetup());

  function forgetMembers() {
    store("members", "readwrite", (s) => s.clear()).catch(() => {});
    saved.remove("offline");
  }

  function unauthorized() {
    state.key = "";
    saved.remove("key");
    forgetMembers();
    showSetup(t("unauthorized"));
  }

  // ---- talking to the API --------------------------------------------------------------------
  // Resolves to { ok, status, body, replayed, network, aborted }; never rejects.
  async function call(path, body, controller) {
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; controller.abort(); }, REQUEST_TIMEOUT_MS);
    try {
      const res = await fetch(path, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer " + state.key },
        body: JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        signal: controller.signal,
      });
      let data = null;
      try { data = await res.json(); } catch { data = null; }
      cameOnline();
      return {
        ok: res.ok, status: res.status, body: data,
        replayed: (res.headers.get("idempotent-replayed") || "").toLowerCase() === "true",
      };
    } catch (err) {
      const aborted = !timedOut && err && err.name === "AbortError";
      if (!aborted) wentOffline();
      return { ok: false, status: 0, body: null, network: true, aborted };
    } finally {
      clearTimeout(timer);
    }
  }
  const errorOf = (reply) => (reply.body && reply.body.error) || {};

  // ---- offline: the device's store, the connection, the queue ---------------------------------
  // IndexedDB "till": `queue` (redemptions kept while offline, by id = moment + transaction, so
  // in order), `conflicts` (kept ones the server refused), `members` (what the last online scan
  // of a member showed, for an offline scan of the same card).
  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const open = indexedDB.open("till", 1);
        open.onupgradeneeded = () => {
          const d = open.result;
          d.createObjectStore("queue", { keyPath: "id" });
          d.createObjectStore("conflicts", { keyPath: "id" });
          d.createObjectStore("members", { keyPath: "number" });
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      dbPromise.catch(() => { dbPromise = null; });
    }
    return dbPromise;
  }
  // One request in its own transaction, settled when the transaction is committed: a kept
  // redemption is on disk before the till says it is kept.
  async function store(name, mode, make) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction(name, mode);
      const req = make(tx.objectStore(name));
      tx.oncomplete = () => resolve(req ? req.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const allOf = (name) => store(name, "readonly", (s) => s.getAll());
  const oneOf = (name, key) => store(name, "readonly", (s) => s.get(key));
  const putIn = (name, value) => store(name, "readwrite", (s) => s.put(value));
  const dropFrom = (name, key) => store(name, "readwrite", (s) => s.delete(key));

  const net = { online: navigator.onLine !== false, syncing: false, queued: 0 };

  // What whoami last said of this key's offline use (kept with the key).
  function offlineSettings() {
    let v = {};
    try { v = JSON.parse(saved.get("offline") || "{}") || {}; } catch { v = {}; }
    return {
      limit: Number.isInteger(v.limit) ? v.limit : DEFAULT_OFFLINE_LIMIT,
      maxHours: Number.isInteger(v.maxHours) ? v.maxHours : DEFAULT_OFFLINE_MAX_HOURS,
      coupons: Array.isArray(v.coupons) ? v.coupons : [],
      keyId: typeof v.keyId === "string" ? v.keyId : "",
    };
  }

  function showNet() {
    const kind = net.syncing ? "syncing" : net.online ? "online" : "offline";
    el.net.dataset.state = kind;
    el.net.dataset.queued = String(net.queued);
    el.netText.textContent = { online: t("net_online"), offline: t("net_offline"), syncing: t("net_syncing") }[kind];
    el.netCount.textContent = net.queued ? t("queue_count", { n: net.queued }) : (kind === "online" ? "" : t("queue_none"));
  }
  function wentOffline() {
    if (!net.online) return;
    net.online = false;
    showNet();
  }
  function cameOnline() {
    if (net.online) return;
    net.online = true;
    showNet();
    sync();
  }
  async function countQueue() {
    try { net.queued = (await allOf("queue")).length; } catch { /* no IndexedDB here */ }
    showNet();
  }

  // Asks whoami for this key's offline limit, its max age and the coupons it may have to name.
  async function refreshOffline() {
    if (!state.key) return;
    const check = await whoami(state.key);
    if (check.status === 0) { wentOffline(); return; }
    cameOnline();
    if (check.status === 401) { unauthorized(); return; }
    const b = check.body;
    if (!check.ok || !b) return;
    saved.set("offline", JSON.stringify({
      limit: b.offline_limit, maxHours: b.offline_max_hours, coupons: b.coupons || [], keyId: b.key_id || "",
    }));
  }

  // The shape of a member or coupon barcode (codes in core/src/codes): RFC 4648 base32 of
  // "B" | kid length | kid | member (5 bytes) | expiry (4) | coupon (length + bytes) | tag (10).
  // Its tag needs the signing key: only the server checks it.
  const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  function luhnOk(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }
  function readCode(text) {
    if (!/^[A-Z2-7]{20,90}$/.test(text) || [1, 3, 6].includes(text.length % 8)) return null;
    const bytes = [];
    let acc = 0;
    let bits = 0;
    for (const ch of text) {
      acc = ((acc << 5) | B32.indexOf(ch)) & 0xfff;
      bits += 5;
      if (bits >= 8) { bits -= 8; bytes.push((acc >> bits) & 0xff); }
    }
    if (bytes[0] !== 0x42) return null;
    const kid = bytes[1];
    if (!(kid >= 1 && kid <= 16)) return null;
    if (!/^[A-Za-z0-9]+$/.test(String.fromCharCode(...bytes.slice(2, 2 + kid)))) return null;
    let i = 2 + kid;
    const couponLength = bytes[i + 9];
    if (couponLength === undefined || bytes.length !== i + 10 + couponLength + 10) return null;
    let member = 0;
    for (let k = 0; k < 5; k++) member = member * 256 + bytes[i + k];
    i += 5;
    const expiresAt = bytes[i] * 16777216 + bytes[i + 1] * 65536 + bytes[i + 2] * 256 + bytes[i + 3];
    i += 5;
    const coupon = String.fromCharCode(...bytes.slice(i, i + couponLength));
    if (couponLength && !/^[a-z0-9][a-z0-9-]{0,15}$/.test(coupon)) return null;
    const number = String(member).padStart(12, "0");
    if (number.length !== 12 || !luhnOk(number)) return null;
    // No barcode of ours lives longer than 14 days (core/src/codes/barcode.rs, plus clock skew).
    if (expiresAt * 1000 > Date.now() + (14 * 86400 + 300) * 1000) return null;
    return { member: number, coupon, expiresAt };
  }

  // What this till last saw of a member: kept from each online scan, the newest MEMBERS_KEPT
  // for a week.
  async function remember(code, data) {
    try {
      await putIn("members", { number: data.member.number, member: data.member, coupons: data.coupons || [], at: Date.now() });
      const all = await allOf("members");
      const weekAgo = Date.now() - 7 * 86400000;
      all.sort((a, b) => b.at - a.at);
      for (const [i, m] of all.entries()) if (i >= MEMBERS_KEPT || m.at < weekAgo) await dropFrom("members", m.number);
    } catch { /* no IndexedDB: offline scans know no member */ }
  }

  // Coupons this till keeps for the member on screen are not offered again, online either:
  // the server has not seen them yet.
  async function markKept(scan) {
    const queue = await allOf("queue").catch(() => []);
    const kept = new Set(queue.filter((q) => q.member_number === scan.member.number).map((q) => q.coupon_id));
    if (!kept.size || state.scan !== scan) return;
    for (const c of scan.coupons) if (kept.has(c.id)) { c.usable = false; c.status = "queued"; }
    rerender();
  }

  async function offlineScan(code) {
    const shape = readCode(code);
    if (!shape || shape.expiresAt * 1000 < Date.now()) {
      clearMember();
      showResult("refused", {
        title: t("invalid_code"),
        detail: shape ? t("offline_code_expired") : t("invalid_code_detail"),
      });
      el.result.focus();
      return;
    }
    const known = await oneOf("members", shape.member).catch(() => null);
    const queue = await allOf("queue").catch(() => []);
    const kept = new Set(queue.filter((q) => q.member_number === shape.member).map((q) => q.coupon_id));
    const now = Date.now();
    const inWindow = (c) => Date.parse(c.valid_from) <= now && now < Date.parse(c.valid_until);
    const outOfWindow = (c) => (now < Date.parse(c.valid_from) ? "not_yet_valid" : "expired");
    const judge = (c) => {
      if (kept.has(c.id)) { c.usable = false; c.status = "queued"; } else if (c.usable && !inWindow(c)) { c.usable = false; c.status = outOfWindow(c); }
      return c;
    };
    const coupons = known ? known.coupons.map((c) => judge({ ...c })) : [];
    if (shape.coupon && !coupons.some((c) => c.id === shape.coupon)) {
      const listed = offlineSettings().coupons.find((c) => c.id === shape.coupon);
      // Not in the catalogue of the next 7 days at the store: refused, not risked.
      coupons.push(judge(listed
        ? { ...listed, status: "available", usable: true }
        : { id: shape.coupon, title: t("offline_unknown_coupon", { id: shape.coupon }), status: "unknown", usable: false }));
    }
    const member = known ? { ...known.member } : { number: shape.member, unknown: true };
    state.scan = { code, member, coupons: arrange(coupons, shape.coupon), named: shape.coupon, offline: true };
    renderMember();
    const named = state.scan.coupons.find((c) => c.id === shape.coupon);
    if (named && named.status === "unknown") {
      showResult("refused", { title: t("unknown_coupon"), subject: named.title, detail: t("unknown_coupon_detail") });
    } else if (named && named.status === "queued") {
      showResult("refused", { title: t("queued_title"), subject: named.title, detail: t("queued_already") });
    } else if (named && !named.usable) {
      showResult("refused", { ...refusalOfStatus(named), subject: named.title });
    } else {
      const detail = shape.coupon ? t("offline_coupon_detail")
        : known ? t("offline_member_detail", { when: when(new Date(known.at).toISOString()) })
        : t("offline_member_unknown");
      showResult("offline", { title: t("offline_title"), subject: named ? named.title : "", detail });
    }
    focusPreferred();
  }

  // Keeps a redemption on the device, to send when the connection returns (same transaction
  // id: if the server did get an earlier try, the sync is answered "already recorded").
  // `lost`: the answer of an online attempt was lost; it is kept whatever the limit (the server
  // may already have it, and the cashier has been told nothing yet).
  async function keep(attempt, lost = false) {
    const c = attempt.coupon;
    const settings = offlineSettings();
    let queue;
    try { queue = await allOf("queue"); } catch { queue = null; }
    if (!queue) {
      showResult("uncertain", {
        title: t("unavailable"), subject: c.title, detail: t("unavailable_detail"),
        retry: () => { if (!state.busy) send(attempt); },
      });
      return;
    }
    const same = queue.find((q) => q.transaction_id === attempt.txn && q.coupon_id === c.id);
    if (!same && !lost) {
      if (queue.some((q) => q.member_number === attempt.member && q.coupon_id === c.id)) {
        showResult("refused", { title: t("queued_title"), subject: c.title, detail: t("queued_already") });
        return;
      }
      if (queue.length >= settings.limit) {
        showResult("refused", { title: t("offline_limit"), subject: c.title, detail: t("offline_limit_detail", { n: settings.limit }) });
        el.result.focus();
        return;
      }
    }
    if (!same) {
      const at = new Date();
      const kept = putIn("queue", {
        id: String(at.getTime()).padStart(15, "0") + "/" + attempt.txn + "/" + c.id,
        transaction_id: attempt.txn,
        coupon_id: c.id,
        coupon_title: c.title || c.id,
        code: attempt.code,
        register_id: state.register,
        store_id: state.storeId,
        pos_key_id: settings.keyId,
        member_number: attempt.member,
        offline_at: at.toISOString(),
      }).then(() => true, () => false);
      if (!(await kept)) {
        showResult("uncertain", {
          title: t("unavailable"), subject: c.title, detail: t("unavailable_detail"),
          retry: () => { if (!state.busy) send(attempt); },
        });
        return;
      }
    }
    state.pending.delete(attempt.slot);
    c.usable = false;
    c.status = "queued";
    if (state.scan === attempt.scan) rerender();
    await countQueue();
    showResult("queued", { title: t("queued_title"), subject: c.title, detail: t("queued_detail", { txn: attempt.txn }) });
    el.result.focus();
    if (net.online) sync();
  }

  // Sends the kept redemptions in order, one at a time; stops at the first that gets no final
  // answer (no connection, 429, 5xx) and keeps it and the rest for the next try.
  async function sync() {
    if (net.syncing || !state.key) return;
    const run = async () => {
      let queue;
      try { queue = await allOf("queue"); } catch { return; }
      // Sent with a key of the store they were kept at (a key of another store waits).
      queue = queue.filter((q) => !q.store_id || !state.storeId || q.store_id === state.storeId);
      if (!queue.length) {
        await countQueue();
        await renderConflicts();
        return;
      }
      net.syncing = true;
      showNet();
      let confirmed = 0;
      try {
        for (const item of queue) {
          const reply = await call("/api/pos/redeem", {
            code: item.code, coupon_id: item.coupon_id, transaction_id: item.transaction_id,
            register_id: item.register_id, offline_at: item.offline_at,
          }, new AbortController());
          if (reply.network || reply.status === 429) break;
          if (reply.status === 401) { net.syncing = false; unauthorized(); return; }
          // A 5xx is no answer: this one stays, the next ones go.
          if (reply.status >= 500) continue;
          const err = errorOf(reply);
          // Only our own answers are final: a redemption, or a refusal with one of our codes.
          // Anything else (a proxy's page, a deploy's 404) is no answer: the rest waits.
          const final = (reply.ok && reply.body && reply.body.redemption) || FINAL_CODES.has(err.code);
          if (!final) break;
          if (reply.ok) {
            confirmed += 1;
          } else {
            await putIn("conflicts", {
              id: err.conflict_id || item.id, item, code: err.code || "", message: err.message || "",
              first: err.redeemed_at ? { redeemed_at: err.redeemed_at, store_id: err.store_id, register_id: err.register_id } : null,
              at: Date.now(),
            });
          }
          await dropFrom("queue", item.id);
          net.queued = Math.max(0, net.queued - 1);
          showNet();
        }
      } finally {
        net.syncing = false;
        await countQueue();
        await renderConflicts();
      }
      if (confirmed) announce(t("synced", { n: confirmed }));
    };
    // One tab syncs at a time (two would only be answered "already recorded", but need not).
    if (navigator.locks && navigator.locks.request) {
      await navigator.locks.request("till-sync", { ifAvailable: true }, (lock) => (lock ? run() : null));
    } else {
      await run();
    }
  }

  const CONFLICT_CODES = new Set([
    "already_redeemed", "transaction_conflict", "expired", "not_yet_valid", "not_valid_here",
    "consent_withdrawn", "invalid_code", "coupon_mismatch", "unknown_member", "unknown_coupon",
    "offline_too_old", "offline_in_future",
  ]);
  // Refusals no resend changes: conflicts (kept by the server too), and requests this till
  // made wrong (listed here only; the server kept nothing).
  const FINAL_CODES = new Set([
    ...CONFLICT_CODES, "invalid_transaction_id", "invalid_register_id", "invalid_offline_at",
    "invalid_body", "invalid_json",
  ]);

  async function renderConflicts() {
    let list = [];
    try { list = await allOf("conflicts"); } catch { list = []; }
    list.sort((a, b) => b.at - a.at);
    el.conflictList.replaceChildren();
    for (const c of list) {
      const known = CONFLICT_CODES.has(c.code);
      const row = h("li", "till-conflict");
      row.dataset.code = c.code;
      row.dataset.transactionId = c.item.transaction_id;
      row.dataset.couponId = c.item.coupon_id;
      row.append(h("p", "till-conflict-title", known ? t(c.code) : t("other_error")));
      row.append(h("p", "till-conflict-meta", t("conflict_row", {
        coupon: c.item.coupon_title || c.item.coupon_id, txn: c.item.transaction_id, when: when(c.item.offline_at),
      })));
      const detail = c.first
        ? t("conflict_first", { when: when(c.first.redeemed_at), store: storeName(c.first.store_id), register: c.first.register_id || "?" })
        : known && c.code !== "transaction_conflict" ? t(c.code + "_detail") : c.message;
      if (detail) row.append(h("p", "till-conflict-detail", detail));
      el.conflictList.append(row);
    }
    el.conflicts.hidden = !list.length;
    el.net.dataset.conflicts = String(list.length);
  }
  el.conflictsClear.addEventListener("click", async () => {
    try { for (const c of await allOf("conflicts")) await dropFrom("conflicts", c.id); } catch { /* nothing kept */ }
    renderConflicts();
  });

  window.addEventListener("online", () => { refreshOffline().then(sync); });
  window.addEventListener("offline", () => { wentOffline(); });

  // ---- the result panel ----------------------------------------------------------------------
  // kind: idle | busy | info | ok | refused | uncertain | offline | queued
  function showResult(kind, parts = {}) {
    el.result.dataset.state = kind;
    const body = el.resultBody;
    body.replaceChildren();
    if (kind === "idle") {
      body.append(h("p", "till-result-waiting", parts.title));
      return;
    }
    const head = h("div", "till-result-head");
    const icon = { busy: "…", info: "i", ok: "✓", refused: "✕", uncertain: "!", offline: "!", queued: "↻" }[kind];
    head.append(h("span", "till-result-icon", icon), h("p", "till-result-title", parts.title));
    head.firstChild.setAttribute("aria-hidden", "true");
    body.append(head);
    if (parts.subject) body.append(h("p", "till-result-subject", parts.subject));
    for (const line of [parts.detail, parts.server, parts.note]) {
      if (line) body.append(h("p", "till-result-detail", line));
    }
    if (parts.retry) {
      const retry = h("button", "till-primary till-retry", t("retry"));
      retry.type = "button";
      retry.addEventListener("click", parts.retry);
      body.append(retry);
      retry.focus();
    }
    if (parts.announce !== false) {
      announce([parts.title, parts.subject, parts.detail].filter(Boolean).join(". "));
    }
  }
  const idleResult = () => showResult("idle", { title: el.result.dataset.waiting });
  el.result.dataset.waiting = el.resultBody.textContent.trim();

  // ---- scanning ------------------------------------------------------------------------------
  function cancelScan() {
    if (state.scanController) state.scanController.abort();
    state.scanController = null;
  }

  async function scan(raw) {
    const code = String(raw).replace(/\s+/g, "").toUpperCase();
    if (!code || !state.key) return;
    if (state.redeeming) await state.redeeming;
    cancelScan();
    const controller = new AbortController();
    state.scanController = controller;
    if (!net.online) {
      state.scanController = null;
      await offlineScan(code);
      return;
    }
    showResult("busy", { title: t("looking_up"), announce: false });
    root.setAttribute("aria-busy", "true");
    const reply = await call("/api/pos/scan", { code, lang }, controller);
    if (state.scanController !== controller) return; // a newer scan or Esc took over
    state.scanController = null;
    root.removeAttribute("aria-busy");
    if (reply.aborted) return;
    if (reply.status === 401) { unauthorized(); return; }
    if (reply.ok && reply.body && reply.body.member) { showMember(code, reply.body); return; }
    const err = errorOf(reply);
    if (reply.network) { await offlineScan(code); return; }
    if (reply.status >= 500) {
      showResult("uncertain", {
        title: t("unavailable"), detail: t("scan_unavailable_detail"), retry: () => scan(code),
      });
      return;
    }
    clearMember();
    const known = ["invalid_code", "unknown_member", "coupon_mismatch"].includes(err.code);
    showResult("refused", {
      title: known ? t(err.code) : t("other_error"),
      detail: known ? t(err.code + "_detail") : "",
      server: err.message || "",
    });
    el.result.focus();
  }

  // The named coupon first (whatever its status), then the usable ones, numbered 1–9, then the rest.
  function arrange(list, namedId) {
    const named = list.find((c) => c.id === namedId);
    const rest = list.filter((c) => c !== named);
    const ordered = [...(named ? [named] : []), ...rest.filter((c) => c.usable), ...rest.filter((c) => !c.usable)];
    let n = 0;
    for (const c of ordered) c.key = c.usable && n < 9 ? ++n : 0;
    return ordered;
  }

  function couponsOf(data) {
    const list = Array.isArray(data.coupons) ? data.coupons.slice() : [];
    const named = data.coupon || null;
    if (named && !list.some((c) => c.id === named.id)) list.unshift(named);
    return arrange(list, named ? named.id : "");
  }

  function showMember(code, data) {
    const member = data.member;
    if (state.txnUsed && state.txnUsed.member !== member.number && el.txn.value.trim() === state.txnUsed.txn) {
      el.txn.value = "";
      state.txnUsed = null;
      setTxnError(false);
    }
    state.storeNames = data.store_names || {};
    if (data.store_id && data.store_id !== state.storeId) {
      state.storeId = data.store_id;
      saved.set("store", state.storeId);
    }
    if (state.storeNames[state.storeId]) saved.set("store_name", state.storeNames[state.storeId]);
    showWhere();
    state.scan = { code, member, coupons: couponsOf(data), named: data.coupon ? data.coupon.id : "" };
    remember(code, data);
    markKept(state.scan);
    renderMember();
    const usable = state.scan.coupons.filter((c) => c.usable).length;
    const named = state.scan.coupons.find((c) => c.id === state.scan.named);
    if (named && !named.usable) {
      showResult("refused", { ...refusalOfStatus(named), subject: named.title });
    } else {
      const first = state.scan.coupons.find((c) => c.key);
      showResult("info", {
        title: t("usable_count", { n: usable }),
        detail: first ? t("redeem_hint", { key: first.key }) : "",
        announce: false,
      });
      announce(t("live_member", { number: grouped(member.number), n: usable }));
    }
    focusPreferred();
  }

  function focusPreferred() {
    const button = el.member.querySelector("button.till-coupon");
    if (button) button.focus();
    else el.member.focus();
  }

  function clearMember() {
    state.scan = null;
    el.member.replaceChildren();
    el.member.hidden = true;
    el.idle.hidden = false;
  }

  function clearAll(withAnnounce) {
    cancelScan();
    root.removeAttribute("aria-busy");
    clearMember();
    idleResult();
    el.code.value = "";
    el.txn.value = "";
    state.txnUsed = null;
    setTxnError(false);
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    if (withAnnounce) announce(t("next_scan"));
  }

  // ---- the member and their coupons ----------------------------------------------------------
  function statusOf(c) {
    if (c.usable) return ["available", t("status_available")];
    switch (c.status) {
      case "redeemed": return ["redeemed", t("status_redeemed")];
      case "queued": return ["queued", t("status_queued")];
      case "unknown": return ["elsewhere", t("unknown_coupon")];
      case "expired": return ["expired", t("status_expired")];
      case "not_yet_valid": return ["not-yet", t("status_not_yet_valid")];
      case "not_valid_here": return ["elsewhere", t("status_not_valid_here")];
      default: return ["consent", t("status_needs_consent")];
    }
  }

  const storeName = (id) => (id && id === state.storeId ? t("this_store") : t("store_named", { store: state.storeNames[id] || id || "?" }));

  function whereRedeemed(r) {
    return t("redeemed_where", { when: when(r.redeemed_at), store: storeName(r.store_id), register: r.register_id || "?" });
  }

  // A status in words, with an icon so that it is never told by colour alone.
  function chip(kind, icon, label) {
    const node = h("span", "till-chip is-" + kind);
    const mark = h("span", "till-chip-icon", icon);
    mark.setAttribute("aria-hidden", "true");
    node.append(mark, h("span", "till-chip-label", label));
    return node;
  }

  const channelName = (c) =>
    ({ line: "LINE", whatsapp: "WhatsApp", messenger: "Messenger", instagram: "Instagram" }[c] || String(c));

  function renderMember() {
    const s = state.scan;
    const m = s.member;
    const box = el.member;
    box.replaceChildren();
    box.dataset.memberNumber = m.number;
    box.dataset.favouriteStore = m.favourite_store || "";
    box.dataset.consent = m.consent || "";

    const head = h("div", "till-member-head");
    const id = h("p", "till-member-id");
    id.append(h("span", "till-label", t("member_number")), h("strong", "till-number", grouped(m.number)));
    const facts = h("div", "till-facts");
    const fav = h("p", "till-fact");
    fav.append(h("span", "till-fact-label", t("favourite_store")), h("strong", null, (m.favourite_store && (state.storeNames[m.favourite_store] || m.favourite_store)) || t("favourite_none")));
    const granted = m.consent === "granted";
    const offers = h("p", "till-fact");
    if (m.consent) offers.append(chip(granted ? "granted" : "withdrawn", granted ? "✓" : "✕", granted ? t("offers_on") : t("offers_off")));
    const channels = Array.isArray(m.channels) ? m.channels.map(channelName).join(" · ") : "";
    if (channels) offers.append(h("span", "till-channels", channels));
    facts.append(fav, offers);
    head.append(id);
    // A member this till has not seen (offline): their number only, nothing guessed.
    if (!m.unknown) head.append(facts);

    const usable = s.coupons.filter((c) => c.usable).length;
    const title = h("h3", "till-coupons-title", t("coupons"));
    title.append(h("span", "till-count", t("usable_count", { n: usable })));
    box.append(head, title);

    if (!s.coupons.length) {
      box.append(h("p", "till-empty", t("coupons_none")));
    } else {
      const list = h("ul", "till-coupons");
      for (const c of s.coupons) {
        const item = h("li");
        item.append(couponRow(c));
        list.append(item);
      }
      box.append(list);
    }
    el.idle.hidden = true;
    box.hidden = false;
  }

  function couponRow(c) {
    const [cls, label] = statusOf(c);
    const row = h(c.usable ? "button" : "div", "till-coupon is-" + cls);
    row.dataset.couponId = c.id;
    if (c.id === state.scan.named) row.dataset.named = "true";
    if (c.usable) {
      row.type = "button";
      if (c.key) row.dataset.key = String(c.key);
      row.addEventListener("click", () => redeem(c));
      if (state.busy) row.setAttribute("aria-disabled", "true");
    }
    const key = h(c.key ? "kbd" : "span", "till-coupon-key", c.key ? String(c.key) : "");
    if (!c.key) key.setAttribute("aria-hidden", "true");
    const main = h("span", "till-coupon-main");
    main.append(h("span", "till-coupon-title", c.title || c.id));
    if (c.description) main.append(h("span", "till-coupon-desc", c.description));
    const meta = [];
    if (c.id === state.scan.named) meta.push(t("scanned_coupon"));
    if (c.status === "redeemed" && c.redemption) meta.push(whereRedeemed(c.redemption));
    else if (c.status === "not_yet_valid") meta.push(t("valid_from", { date: when(c.valid_from) }));
    else if (c.valid_until) meta.push(t("valid_until", { date: lastDay(c.valid_until) }));
    main.append(h("span", "till-coupon-meta", meta.join(" · ")));
    row.append(key, main, chip(cls, c.usable ? "●" : c.status === "queued" ? "↻" : "✕", label));
    return row;
  }

  // ---- redeeming -----------------------------------------------------------------------------
  function newTransactionId() {
    const bytes = new Uint8Array(5);
    crypto.getRandomValues(bytes);
    const rnd = Array.from(bytes, (b) => "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b & 31]).join("");
    return "T" + Date.now().toString(36).toUpperCase() + "-" + rnd;
  }

  function setTxnError(bad) {
    el.txn.toggleAttribute("aria-invalid", bad);
    el.txnHint.textContent = bad ? t("id_invalid") : txnHintText;
    el.txnHint.classList.toggle("is-error", bad);
  }

  function redeemNumber(n) {
    if (!state.scan) return;
    const c = state.scan.coupons.find((x) => x.key === n);
    if (c) redeem(c);
  }

  function redeem(c) {
    // Not while a scan is in flight: the coupons on screen may be the previous customer's.
    if (!state.scan || state.busy || state.scanController || !c.usable) return;
    const typed = el.txn.value.trim();
    if (typed && !ID_RE.test(typed)) {
      setTxnError(true);
      el.txn.focus();
      return;
    }
    const member = state.scan.member.number;
    const slot = member + "/" + c.id;
    const txn = typed || state.pending.get(slot) || newTransactionId();
    if (!typed) {
      state.pending.set(slot, txn);
      if (state.pending.size > 100) state.pending.delete(state.pending.keys().next().value);
    }
    send({ code: state.scan.code, coupon: c, member, slot, txn, typed: Boolean(typed), scan: state.scan });
  }

  function send(attempt) {
    if (!net.online || (state.scan && state.scan.offline && attempt.scan === state.scan)) {
      state.busy = true;
      state.redeeming = keep(attempt).finally(() => { state.busy = false; state.redeeming = null; });
      return state.redeeming;
    }
    state.busy = true;
    for (const b of el.member.querySelectorAll("button.till-coupon")) b.setAttribute("aria-disabled", "true");
    showResult("busy", { title: t("redeeming"), subject: attempt.coupon.title, announce: false });
    state.redeeming = (async () => {
      const reply = await call("/api/pos/redeem", {
        code: attempt.code,
        coupon_id: attempt.coupon.id,
        transaction_id: attempt.txn,
        register_id: state.register,
      }, new AbortController());
      state.busy = false;
      state.redeeming = null;
      for (const b of el.member.querySelectorAll("button.till-coupon")) b.removeAttribute("aria-disabled");
      answered(attempt, reply);
    })();
    return state.redeeming;
  }

  // Refusals after which the coupon cannot be redeemed with this scan.
  const NOT_USABLE = new Set([
    "already_redeemed", "expired", "not_yet_valid", "not_valid_here", "consent_withdrawn",
    "invalid_code", "coupon_mismatch", "unknown_member", "unknown_coupon",
  ]);

  function answered(attempt, reply) {
    const c = attempt.coupon;
    if (reply.status === 401) { unauthorized(); return; }
    if (reply.network && !reply.aborted) {
      // The answer was lost with the connection: kept, to send again with the same transaction
      // id (if the server did redeem it, the sync is answered "already recorded").
      state.busy = true;
      state.redeeming = keep(attempt, true).finally(() => { state.busy = false; state.redeeming = null; });
      return;
    }
    if (reply.network || reply.status >= 500) {
      // No final answer: the same attempt (same transaction id) goes again on Retry.
      showResult("uncertain", {
        title: t("unavailable"), subject: c.title, detail: t("unavailable_detail"),
        retry: () => { if (!state.busy) send(attempt); },
      });
      return;
    }
    state.pending.delete(attempt.slot);
    const current = state.scan === attempt.scan;
    if (reply.ok && reply.body && reply.body.redemption) {
      const r = reply.body.redemption;
      c.status = "redeemed";
      c.usable = false;
      c.redemption = r;
      if (attempt.typed) state.txnUsed = { txn: attempt.txn, member: attempt.member };
      if (current) rerender();
      // What an offline scan of this card will show: redeemed.
      if (attempt.scan) remember(null, { member: attempt.scan.member, coupons: attempt.scan.coupons });
      showResult("ok", {
        title: t("ok_title"), subject: c.title,
        detail: t("ok_detail", { when: when(r.redeemed_at), txn: r.transaction_id || attempt.txn }),
        note: reply.replayed ? t("ok_replayed") : "",
      });
      el.result.focus();
      return;
    }
    const err = errorOf(reply);
    const code = err.code || "";
    if (code === "invalid_register_id") { showSetup(t("id_invalid")); return; }
    if (code === "invalid_transaction_id") { setTxnError(true); }
    if (NOT_USABLE.has(code)) c.usable = false;
    switch (code) {
      case "already_redeemed":
        c.status = "redeemed";
        c.redemption = { redeemed_at: err.redeemed_at, store_id: err.store_id, register_id: err.register_id };
        break;
      case "expired": case "not_yet_valid": case "not_valid_here":
        c.status = code;
        break;
      case "invalid_code": case "unknown_member":
        if (attempt.scan) for (const x of attempt.scan.coupons) x.usable = false;
        break;
      default:
        break;
    }
    if (current) rerender();
    const known = [
      "already_redeemed", "transaction_conflict", "expired", "not_yet_valid", "not_valid_here",
      "consent_withdrawn", "invalid_code", "coupon_mismatch", "unknown_member", "unknown_coupon",
    ].includes(code);
    const detail = !known ? ""
      : code === "already_redeemed" ? t("already_redeemed_detail", {
        when: when(err.redeemed_at), store: storeName(err.store_id), register: err.register_id || "?",
      })
      : code === "expired" ? t("expired_detail", { date: when(c.valid_until) })
      : code === "not_yet_valid" ? t("not_yet_valid_detail", { date: when(c.valid_from) })
      : t(code + "_detail");
    showResult("refused", {
      title: known ? t(code) : t("other_error"),
      subject: c.title,
      detail,
      server: known && code !== "invalid_code" ? "" : err.message || "",
    });
    if (code === "transaction_conflict") el.txn.focus();
    else el.result.focus();
  }

  // What the result panel says about a scanned coupon the member cannot use.
  function refusalOfStatus(c) {
    switch (c.status) {
      case "redeemed":
        return {
          title: t("already_redeemed"),
          detail: c.redemption ? t("already_redeemed_detail", {
            when: when(c.redemption.redeemed_at), store: storeName(c.redemption.store_id),
            register: c.redemption.register_id || "?",
          }) : "",
        };
      case "expired": return { title: t("expired"), detail: t("expired_detail", { date: when(c.valid_until) }) };
      case "not_yet_valid": return { title: t("not_yet_valid"), detail: t("not_yet_valid_detail", { date: when(c.valid_from) }) };
      case "not_valid_here": return { title: t("not_valid_here"), detail: t("not_valid_here_detail") };
      default: return { title: t("consent_withdrawn"), detail: t("consent_withdrawn_detail") };
    }
  }

  function rerender() {
    const focused = document.activeElement;
    state.scan.coupons = arrange(state.scan.coupons, state.scan.named);
    renderMember();
    if (focused && !focused.isConnected) el.result.focus();
  }

  // ---- forms ---------------------------------------------------------------------------------
  el.manualForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const code = el.code.value;
    if (code.trim()) {
      el.code.value = "";
      scan(code);
    }
  });
  el.txnForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = el.txn.value.trim();
    const bad = value !== "" && !ID_RE.test(value);
    setTxnError(bad);
    if (!bad && state.scan) focusPreferred();
  });
  el.txn.addEventListener("input", () => {
    if (el.txn.hasAttribute("aria-invalid") && ID_RE.test(el.txn.value.trim())) setTxnError(false);
  });

  // ---- the keyboard: scanner bursts, hot keys, Esc -------------------------------------------
  let burst = []; // { ch, at } of the current run of quick keystrokes
  let landed = null; // the text field the run started in, as it was before: { node, value, start, end }
  let hotkeyTimer = 0;
  let swallowUntil = 0; // a second suffix key (CR LF, Enter Tab) right after a scan is dropped
  const PASSIVE_KEYS = new Set(["Shift", "CapsLock", "NumLock", "Unidentified", "Dead", "Process"]);

  function resetBurst() {
    burst = [];
    landed = null;
  }

  function scannedCode(now) {
    if (burst.length < SCAN_MIN_LENGTH) return "";
    const last = burst[burst.length - 1].at;
    if (now - last > SCAN_MAX_GAP_MS) return "";
    if ((last - burst[0].at) / (burst.length - 1) > SCAN_MAX_AVG_MS) return "";
    return burst.map((k) => k.ch).join("");
  }

  function takeBackLanded() {
    if (!landed || !landed.node.isConnected) return;
    const node = landed.node;
    node.value = landed.value;
    try { node.setSelectionRange(landed.start, landed.end); } catch { /* not a text type */ }
  }

  // A lone digit outside a text field, with no keystroke after it: the cashier's hot key.
  function lonelyKey() {
    hotkeyTimer = 0;
    const only = burst.length === 1 ? burst[0].ch : "";
    if (/^[1-9]$/.test(only) && !isTextField(document.activeElement) && !el.work.hidden) {
      resetBurst();
      redeemNumber(Number(only));
    }
  }

  window.addEventListener("keydown", (e) => {
    if (e.repeat && e.key.length === 1) return;
    if (!el.setup.hidden) {
      if (e.key === "Escape" && state.key) showWork();
      return; // set-up: plain typing only
    }
    if (e.isComposing || e.ctrlKey || e.altKey || e.metaKey) { resetBurst(); return; }
    const now = e.timeStamp;
    if (e.key.length === 1) {
      const last = burst.length ? burst[burst.length - 1].at : -Infinity;
      if (now - last > SCAN_MAX_GAP_MS) resetBurst();
      if (!burst.length && isTextField(e.target)) {
        landed = { node: e.target, value: e.target.value, start: e.target.selectionStart, end: e.target.selectionEnd };
      }
      burst.push({ ch: e.key, at: now });
      clearTimeout(hotkeyTimer);
      // Outside a text field a lone digit is a hot key, once it is clear no scanner keystroke follows.
      if (!isTextField(e.target)) hotkeyTimer = setTimeout(lonelyKey, HOTKEY_DELAY_MS);
      return;
    }
    if (e.key === "Enter" || e.key === "Tab") {
      clearTimeout(hotkeyTimer);
      const code = scannedCode(now);
      if (code) {
        e.preventDefault();
        e.stopImmediatePropagation();
        takeBackLanded();
        resetBurst();
        swallowUntil = now + SCAN_MAX_GAP_MS;
        scan(code);
        return;
      }
      if (!burst.length && now < swallowUntil) {
        e.preventDefault();
        e.stopImmediatePropagation();
        return;
      }
      resetBurst();
      return;
    }
    if (e.key === "Escape") {
      clearTimeout(hotkeyTimer);
      resetBurst();
      e.preventDefault();
      clearAll(true);
      return;
    }
    if (!PASSIVE_KEYS.has(e.key)) resetBurst();
  }, true);

  // ---- start ---------------------------------------------------------------------------------
  if (state.key && ID_RE.test(state.register)) showWork();
  else showSetup();
  showNet();
  countQueue();
  renderConflicts();
  if (state.key) refreshOffline().then(sync);
  // While anything waits, or while offline, try again now and then (the browser's "online"
  // event is a hint, not a promise: a till behind a dead router still says it is online).
  setInterval(() => {
    if (!state.key) return;
    if (net.queued) sync();
    else if (!net.online) refreshOffline();
  }, SYNC_EVERY_MS);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/pos-sw.js", { scope: "/pos" }).catch(() => { /* no offline reload */ });
  }
})();
