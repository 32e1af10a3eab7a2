// The POS keys screen: a store's keys, a new key shown once (with a copy button), and Revoke…,
// which asks first.
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
  const created = el("div");
  const listBox = el("section", { class: "panel", "aria-label": t("keys.title") });
  const form = el("form", { class: "panel", "aria-label": t("keys.create") },
    field(t("keys.store"), store),
    field(t("keys.label"), label, t("keys.labelHint")),
    el("button", { type: "submit" }, t("keys.create")));
  // Outside the form: Enter in the key's field must not make another key.
  main.append(el("div", { class: "stack" }, form, created, listBox));
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
    listBox.append(table(t("keys.title"), [t("keys.id"), t("keys.label"), t("keys.created"), t("keys.status"), t("actions")],
      answer.pos_keys.map((k) => el("tr", { "data-key": k.id },
        el("td", { class: "mono" }, k.id),
        el("td", {}, k.label ?? t("none")),
        el("td", {}, whenIso(k.created_at)),
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
  store.addEventListener("change", () => { created.replaceChildren(); refresh(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = label.value.trim() ? { label: label.value } : {};
    const answer = await guarded(form, () => api("POST", path(), { body }));
    if (!answer) return;
    label.value = "";
    created.replaceChildren(shownOnce(t("keys.key"), t("keys.once"), answer.key));
    await refresh();
  });
  await refresh();
}
