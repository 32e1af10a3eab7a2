// The POS keys screen: a store's keys, a new key shown once (with a copy button), Revoke…
// (which asks first), each key's offline limit (how many redemptions its till may keep while
// offline), and the store's offline conflicts: kept redemptions refused when they arrived.
import { api, guarded } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { done, el, field, heading, shownOnce, table } from "./dom.js";
import { t, whenIso } from "./i18n.js";
import { loadStores, storeName } from "./stores.js";

export async function viewKeys(main) {
  heading(main, t("keys.title"));
  const stores = (await guarded(main, loadStores)) ?? [];
  if (stores.length === 0) {
    main.append(el("p", { class: "panel" }, t("keys.noStores")));
    return;
  }
  const asked = location.hash.split("/")[2];
  const store = el("select", { name: "key-store" }, stores.map((s) => el("option", { value: s.id, selected: s.id === asked }, `${storeName(s)} (${s.id})`)));
  const label = el("input", { maxLength: 40, autocomplete: "off", name: "key-label" });
  const limitInput = () => el("input", { type: "number", min: 0, max: 1000, step: 1, required: true, inputMode: "numeric" });
  const limit = limitInput();
  limit.name = "key-offline-limit";
  limit.value = "50";
  const created = el("div");
  const listBox = el("section", { class: "panel", "aria-label": t("keys.title") });
  const conflictsBox = el("section", { class: "panel", "aria-label": t("conflicts.title"), "data-conflicts": true });
  const form = el("form", { class: "panel", "aria-label": t("keys.create") },
    field(t("keys.store"), store),
    field(t("keys.label"), label, t("keys.labelHint")),
    field(t("keys.offlineLimit"), limit, t("keys.offlineLimitHint")),
    el("button", { type: "submit" }, t("keys.create")));
  // Outside the form: Enter in the key's field must not make another key.
  main.append(el("div", { class: "stack" }, form, created, listBox, conflictsBox));
  const path = (id = store.value) => `/api/admin/stores/${encodeURIComponent(id)}/pos-keys`;
  async function refresh() {
    const asked = store.value;
    const answer = await guarded(listBox, () => api("GET", path(asked)));
    // An answer for a store no longer chosen is dropped.
    if (!answer || store.value !== asked) return;
    listBox.replaceChildren(el("h2", {}, `${t("keys.title")} · ${store.value}`));
    if (answer.pos_keys.length === 0) {
      listBox.append(el("p", {}, t("keys.empty")));
      return;
    }
    listBox.append(table(t("keys.title"), [t("keys.id"), t("keys.label"), t("keys.created"), t("keys.offlineLimit"), t("keys.status"), t("actions")],
      answer.pos_keys.map((k) => el("tr", { "data-key": k.id },
        el("td", { class: "mono" }, k.id),
        el("td", {}, k.label ?? t("none")),
        el("td", {}, whenIso(k.created_at)),
        el("td", {}, k.revoked_at ? String(k.offline_limit) : limitForm(k)),
        el("td", {}, k.revoked_at ? el("span", { class: "chip withdrawn" }, t("keys.revokedAt", { when: whenIso(k.revoked_at) })) : el("span", { class: "chip granted" }, t("keys.active"))),
        el("td", { class: "buttons" }, k.revoked_at ? null : el("button", {
          type: "button", class: "danger", "aria-label": `${t("keys.revoke")} ${k.id}`,
          onclick: async (event) => {
            const button = event.currentTarget;
            const yes = await confirmDialog({ title: t("keys.revokeTitle", { id: k.id }), text: t("keys.revokeText"), ok: t("keys.revokeOk") });
            if (!yes) { button.focus(); return; }
            if (await guarded(listBox, () => api("DELETE", `${path(k.store_id)}/${encodeURIComponent(k.id)}`))) {
              await refresh();
              done();
            }
          },
        }, t("keys.revoke")))))));
  }
  // A key's offline limit, changed in place (its till reads it when it next starts or reconnects).
  function limitForm(k) {
    const input = limitInput();
    input.value = String(k.offline_limit);
    input.setAttribute("aria-label", t("keys.offlineLimitOf", { id: k.id }));
    const form = el("form", { class: "inline", "data-limit": k.id },
      input, el("button", { type: "submit", class: "secondary" }, t("keys.save")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { offline_limit: Number(input.value) };
      if (await guarded(listBox, () => api("PATCH", `${path(k.store_id)}/${encodeURIComponent(k.id)}`, { body }))) {
        await refresh();
        done();
      }
    });
    return form;
  }
  async function refreshConflicts() {
    const asked = store.value;
    const answer = await guarded(conflictsBox, () => api("GET", `/api/admin/stores/${encodeURIComponent(asked)}/offline-conflicts`));
    if (!answer || store.value !== asked) return;
    conflictsBox.replaceChildren(el("h2", {}, `${t("conflicts.title")} · ${asked}`), el("p", { class: "hint" }, t("conflicts.hint")));
    if (answer.conflicts.length === 0) {
      conflictsBox.append(el("p", {}, t("conflicts.empty")));
      return;
    }
    conflictsBox.append(table(t("conflicts.title"),
      [t("conflicts.found"), t("conflicts.reason"), t("conflicts.coupon"), t("conflicts.queued"), t("conflicts.first")],
      answer.conflicts.map((c) => el("tr", { "data-conflict": c.id, "data-reason": c.reason },
        el("td", {}, whenIso(c.detected_at)),
        el("td", {}, el("strong", {}, c.reason), el("br"), c.message),
        el("td", { class: "mono" }, c.coupon_id, c.member_number ? el("br") : null, c.member_number ?? null),
        el("td", {}, t("conflicts.transaction", { txn: c.transaction_id, register: c.register_id, when: whenIso(c.offline_at) })),
        el("td", {}, c.first ? t("conflicts.transaction", { txn: c.first.transaction_id, register: c.first.register_id, when: whenIso(c.first.redeemed_at) }) : t("none"))))));
    if (answer.next_before) conflictsBox.append(el("p", { class: "hint" }, t("conflicts.more")));
  }
  store.addEventListener("change", () => { created.replaceChildren(); refresh(); refreshConflicts(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = label.value.trim() ? { label: label.value } : {};
    if (limit.value !== "" && Number(limit.value) !== 50) body.offline_limit = Number(limit.value);
    const answer = await guarded(form, () => api("POST", path(), { body }));
    if (!answer) return;
    label.value = "";
    created.replaceChildren(shownOnce(t("keys.key"), t("keys.once"), answer.key));
    await refresh();
  });
  await Promise.all([refresh(), refreshConflicts()]);
}
