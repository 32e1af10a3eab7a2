// The stores screen: the list (with which apps carry offers in each store's country, and a
// word for a configured app that carries them in none), and the editor (names ja / en / fr,
// address, time zone from the runtime's list, country). It also keeps the stores last loaded,
// which the coupons, funnel and POS keys screens offer to choose from.
import { api, guarded } from "./api.js";
import { done, el, field, heading, nextId, table } from "./dom.js";
import { lang, LANGS, localized, t } from "./i18n.js";
import { CHANNEL_NAMES } from "./words.js";
import { CHANNEL_SETTINGS, CHANNELS } from "./channels.js";
import { posterPanel } from "./posters.js";

/** The stores as last loaded (a live binding: loadStores replaces it). */
export let storesCache = [];
export async function loadStores() {
  storesCache = (await api("GET", "/api/admin/stores")).stores;
  return storesCache;
}

/** A store's name in the language in use, else in another, else its id. */
export function storeName(store) {
  return localized(store.names) || store.id;
}

export async function viewStores(main) {
  heading(main, t("stores.title"));
  const area = el("div", { class: "stack" });
  const listBox = el("section", { class: "panel", "aria-label": t("stores.title") });
  const editor = el("div");
  const poster = el("div");
  main.append(area);
  area.append(listBox, editor, poster);
  const newButton = el("button", { type: "button", onclick: () => storeEditor(editor, null, refresh) }, t("stores.new"));

  async function refresh() {
    const stores = await guarded(listBox, loadStores);
    if (!stores) return;
    listBox.replaceChildren(el("div", { class: "row" }, newButton));
    if (stores.length === 0) {
      listBox.append(el("p", {}, t("stores.empty")));
      return;
    }
    // Which apps carry offers in each store (the platforms' rules for its country), and a
    // word for a configured app that carries them in none.
    const offersIn = (s) => CHANNELS.filter((c) => s.marketing_deliverable?.[c]);
    const settings = (await guarded(listBox, () => api("GET", "/api/admin/config")))?.settings ?? {};
    for (const c of CHANNELS) {
      if (settings[CHANNEL_SETTINGS[c]] === "set" && !stores.some((s) => s.marketing_deliverable?.[c])) {
        listBox.append(el("p", { class: "message warning", role: "status", "data-dead-channel": c }, t("stores.deadChannel", { app: CHANNEL_NAMES[c] })));
      }
    }
    listBox.append(table(t("stores.title"), [t("stores.id"), t("stores.name"), t("stores.country"), t("stores.offers"), t("stores.timezone"), t("stores.address"), t("actions")],
      stores.map((s) => el("tr", { "data-store": s.id },
        el("td", { class: "mono" }, s.id),
        el("td", {}, LANGS.filter((l) => s.names[l]).map((l) => el("span", { lang: l, class: "name" }, s.names[l]))),
        el("td", { class: "mono" }, s.country ?? "—"),
        el("td", { "data-offers": offersIn(s).join(",") }, offersIn(s).map((c) => CHANNEL_NAMES[c]).join(", ") || t("stores.noOffers")),
        el("td", {}, s.timezone),
        el("td", {}, s.address),
        el("td", { class: "buttons" },
          el("button", { type: "button", class: "secondary", "aria-label": `${t("edit")} ${s.id}`, onclick: () => storeEditor(editor, s, refresh) }, t("edit")),
          el("button", { type: "button", class: "secondary", "aria-label": `${t("stores.poster")} ${s.id}`, onclick: () => posterPanel(poster, s) }, t("stores.poster")))))));
  }
  await refresh();
}

function storeEditor(container, store, refreshed) {
  const id = el("input", { required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,31}", autocomplete: "off", spellcheck: false, class: "mono", value: store?.id ?? "", readOnly: !!store, name: "store-id" });
  const names = Object.fromEntries(LANGS.map((l) => [l, el("input", { maxLength: 80, value: store?.names?.[l] ?? "", lang: l, name: `name-${l}` })]));
  const address = el("input", { required: true, maxLength: 200, value: store?.address ?? "", class: "wide", name: "address" });
  const zones = (Intl.supportedValuesOf?.("timeZone") ?? []).concat(["UTC"]);
  const listId = nextId("zones");
  const zone = el("input", { required: true, maxLength: 64, value: store?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, list: listId, autocomplete: "off", spellcheck: false, name: "timezone" });
  // The store's own country only (an empty field keeps JURISDICTION's).
  const country = el("input", { maxLength: 2, pattern: "[A-Za-z]{2}", value: store?.own_country ?? "", autocomplete: "off", spellcheck: false, class: "mono", name: "country" });
  const title = store ? t("stores.editing", { id: store.id }) : t("stores.creating");
  const form = el("form", { class: "panel", "aria-label": title },
    el("h2", {}, title),
    field(t("stores.id"), id, store ? null : t("stores.idHint")),
    el("fieldset", {}, el("legend", {}, `${t("stores.name")} — ${t("stores.namesHint")}`),
      LANGS.map((l) => field(t("stores.nameIn", { lang: t(`lang.${l}`) }), names[l]))),
    field(t("stores.address"), address),
    field(t("stores.timezone"), zone, t("stores.timezoneHint")),
    field(t("stores.country"), country, t("stores.countryHint")),
    el("datalist", { id: listId }, zones.map((z) => el("option", { value: z }))),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("save")),
      el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      names: Object.fromEntries(LANGS.filter((l) => names[l].value.trim()).map((l) => [l, names[l].value])),
      address: address.value,
      timezone: zone.value.trim(),
      country: country.value.trim() ? country.value.trim().toUpperCase() : null,
    };
    const saved = await guarded(form, () => api("PUT", `/api/admin/stores/${encodeURIComponent(id.value.trim())}`, { body }));
    if (!saved) return;
    container.replaceChildren();
    await refreshed();
    done(t("saved"));
  });
  container.replaceChildren(form);
  (store ? names[lang] : id).focus();
}
