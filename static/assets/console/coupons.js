// The coupons screen: the list and the editor (titles and descriptions per language, the
// validity window in the browser's time zone, stores, the consent requirement), with a live
// preview of the coupon as a member's card shows it (its words: CARD_WORDS of words.js).
import { api, guarded } from "./api.js";
import { done, el, field, heading, nextId, table } from "./dom.js";
import { lang, LANGS, localized, t, whenIso } from "./i18n.js";
import { CARD_WORDS } from "./words.js";
import { loadStores, storeName, storesCache } from "./stores.js";

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const fromLocalInput = (value) => new Date(value).toISOString();

export async function viewCoupons(main) {
  heading(main, t("coupons.title"));
  const listBox = el("section", { class: "panel", "aria-label": t("coupons.title") });
  const editor = el("div");
  main.append(el("div", { class: "stack" }, listBox, editor));
  await guarded(listBox, loadStores);
  const newButton = el("button", { type: "button", onclick: () => couponEditor(editor, null, refresh) }, t("coupons.new"));
  async function refresh() {
    const answer = await guarded(listBox, () => api("GET", "/api/admin/coupons"));
    if (!answer) return;
    listBox.replaceChildren(el("div", { class: "row" }, newButton));
    if (answer.coupons.length === 0) {
      listBox.append(el("p", {}, t("coupons.empty")));
      return;
    }
    listBox.append(table(t("coupons.title"), [t("coupons.id"), t("coupons.titleIn", { lang: t(`lang.${lang}`) }), t("coupons.window"), t("coupons.stores"), t("coupons.requiresConsent"), t("actions")],
      answer.coupons.map((c) => el("tr", { "data-coupon": c.id },
        el("td", { class: "mono" }, c.id),
        el("td", {}, localized(c.title)),
        el("td", {}, `${whenIso(c.valid_from)} – ${whenIso(c.valid_until)}`),
        el("td", {}, c.stores?.length ? c.stores.join(", ") : t("coupons.everyStore")),
        el("td", {}, c.requires_consent ? t("yes") : t("no")),
        el("td", { class: "buttons" }, el("button", { type: "button", class: "secondary", "aria-label": `${t("edit")} ${c.id}`, onclick: () => couponEditor(editor, c, refresh) }, t("edit")))))));
  }
  await refresh();
}

function couponEditor(container, coupon, refreshed) {
  const id = el("input", { required: true, pattern: "[a-z0-9][a-z0-9\\-]{0,15}", autocomplete: "off", spellcheck: false, class: "mono", value: coupon?.id ?? "", readOnly: !!coupon, name: "coupon-id" });
  const titles = Object.fromEntries(LANGS.map((l) => [l, el("input", { maxLength: 80, value: coupon?.title?.[l] ?? "", lang: l, class: "wide", name: `title-${l}` })]));
  const descriptions = Object.fromEntries(LANGS.map((l) => [l, el("textarea", { maxLength: 500, rows: 2, value: coupon?.description?.[l] ?? "", lang: l, name: `description-${l}` })]));
  const now = new Date();
  const inAMonth = new Date(now.getTime() + 30 * 86_400_000);
  const from = el("input", { type: "datetime-local", step: 1, required: true, value: toLocalInput(coupon?.valid_from ?? now.toISOString()), name: "valid-from" });
  const until = el("input", { type: "datetime-local", step: 1, required: true, value: toLocalInput(coupon?.valid_until ?? inAMonth.toISOString()), name: "valid-until" });
  const chosen = new Set(coupon?.stores ?? []);
  // A store the list lacks (it failed to load, or was just made elsewhere) stays chosen.
  const listed = storesCache.concat([...chosen].filter((c) => !storesCache.some((s) => s.id === c)).map((c) => ({ id: c, names: {} })));
  const storeBoxes = listed.map((s) => {
    const box = el("input", { type: "checkbox", value: s.id, checked: chosen.has(s.id), id: nextId("cs") });
    return el("div", { class: "check" }, box, el("label", { for: box.id }, `${storeName(s)} (${s.id})`));
  });
  const consent = el("input", { type: "checkbox", checked: coupon ? coupon.requires_consent : true, id: nextId("cc") });
  const previewLang = el("select", { name: "preview-lang" }, LANGS.map((l) => el("option", { value: l, selected: l === lang }, t(`lang.${l}`))));
  const preview = el("div", { class: "preview" });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function renderPreview() {
    const l = previewLang.value;
    const words = CARD_WORDS[l];
    // As the card picks (core/src/coupons.rs): the language asked, else the first it has (BTreeMap
    // order: en, fr, ja), and the coupon id for a title in none.
    const pickLike = (inputs) => [l, "en", "fr", "ja"].map((k) => inputs[k].value.trim()).find((v) => v) ?? "";
    const title = pickLike(titles) || id.value.trim();
    const description = pickLike(descriptions);
    let untilDay = "";
    if (until.value) {
      // The card shows the last valid day (UTC), as core/src/pages/card.rs does.
      const last = new Date(new Date(until.value).getTime() - 1);
      untilDay = Number.isNaN(last.getTime()) || Math.abs(last.getFullYear()) > 9999 ? "" : last.toISOString().slice(0, 10);
    }
    preview.replaceChildren(
      el("div", { class: "card-mock", lang: l },
        el("p", { class: "card-mock-heading" }, words.coupons),
        el("div", { class: "coupon-mock" },
          el("p", { class: "coupon-mock-title" }, title || t("coupons.untitled")),
          description ? el("p", { class: "coupon-mock-description" }, description) : null,
          el("p", { class: "coupon-mock-meta" }, `${words.until} ${untilDay}`),
          el("div", { class: "barcode-mock", role: "img", "aria-label": t("coupons.barcode") }))));
  }

  const title = coupon ? t("coupons.editing", { id: coupon.id }) : t("coupons.creating");
  const form = el("form", { class: "panel", "aria-label": title },
    el("h2", {}, title),
    el("div", { class: "split" },
      el("div", {},
        field(t("coupons.id"), id, coupon ? null : t("coupons.idHint")),
        LANGS.map((l) => field(t("coupons.titleIn", { lang: t(`lang.${l}`) }), titles[l])),
        LANGS.map((l) => field(t("coupons.descriptionIn", { lang: t(`lang.${l}`) }), descriptions[l])),
        el("fieldset", {}, el("legend", {}, t("coupons.window")),
          el("p", { class: "hint" }, t("coupons.timesHint", { zone })),
          field(t("coupons.from"), from), field(t("coupons.until"), until)),
        el("fieldset", {}, el("legend", {}, `${t("coupons.stores")} — ${t("coupons.storesHint")}`), storeBoxes),
        el("div", { class: "check" }, consent, el("label", { for: consent.id }, t("coupons.consent")))),
      el("aside", { class: "preview-side", "aria-label": t("coupons.preview") },
        el("h3", {}, t("coupons.preview")),
        field(t("coupons.previewLang"), previewLang),
        preview)),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("save")),
      el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("cancel"))));
  form.addEventListener("input", renderPreview);
  form.addEventListener("change", renderPreview);
  renderPreview();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const pick = (inputs) => Object.fromEntries(LANGS.filter((l) => inputs[l].value.trim()).map((l) => [l, inputs[l].value]));
    const description = pick(descriptions);
    const stores = storeBoxes.map((b) => b.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
    const saved = await guarded(form, () => api("PUT", `/api/admin/coupons/${encodeURIComponent(id.value.trim())}`, {
      body: {
        title: pick(titles),
        description: Object.keys(description).length ? description : null,
        valid_from: fromLocalInput(from.value),
        valid_until: fromLocalInput(until.value),
        stores: stores.length ? stores : null,
        requires_consent: consent.checked,
      },
    }));
    if (!saved) return;
    container.replaceChildren();
    await refreshed();
    // An empty window is kept as sent (that is how a scheduled coupon is cancelled): say so.
    const neverValid = (saved.warnings || []).some((w) => w.code === "never_valid");
    done(neverValid ? t("coupons.neverValid") : t("saved"));
  });
  container.replaceChildren(form);
  (coupon ? titles[lang] : id).focus();
}
