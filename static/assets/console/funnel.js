// The funnel screen: a date range and a store (or all); the chart is the API's own SVG, the
// table its JSON rows with a total line, and Download CSV its CSV.
import { api, guarded } from "./api.js";
import { download, el, field, heading, table } from "./dom.js";
import { lang, t } from "./i18n.js";
import { CHANNEL_NAMES } from "./words.js";
import { CHANNELS } from "./channels.js";
import { loadStores, storeName } from "./stores.js";

export async function viewFunnel(main) {
  heading(main, t("funnel.title"));
  const stores = (await guarded(main, loadStores)) ?? [];
  const from = el("input", { type: "date", name: "from" });
  const to = el("input", { type: "date", name: "to" });
  const store = el("select", { name: "store" }, el("option", { value: "" }, t("funnel.allStores")),
    stores.map((s) => el("option", { value: s.id }, `${storeName(s)} (${s.id})`)));
  const results = el("div", { class: "stack", id: "funnel-results" });
  let chartUrl = null;
  const query = (extra) => {
    const q = new URLSearchParams();
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    if (store.value) q.set("store", store.value);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return `/api/admin/stats?${q}`;
  };
  const form = el("form", { class: "panel filters", "aria-label": t("funnel.title") },
    el("div", { class: "row wrap" }, field(t("funnel.from"), from), field(t("funnel.to"), to), field(t("funnel.store"), store)),
    el("p", { class: "hint" }, t("funnel.hint")),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("funnel.show")),
      el("button", {
        type: "button", class: "secondary",
        onclick: async () => {
          const csv = await guarded(form, () => api("GET", query({ format: "csv" }), { as: "blob" }));
          if (csv) download(csv, `stats-${from.value || "today"}-${to.value || "today"}.csv`);
        },
      }, t("funnel.csv"))));
  main.append(form, results);

  // Only the latest request's answer is shown: an earlier one arriving late (the first
  // showing, still loading when the filters changed) must not overwrite it.
  let latest = 0;
  async function show() {
    const mine = ++latest;
    const shownStore = store.value;
    form.querySelector(":scope > .message")?.remove();
    const answer = await guarded(form, () => api("GET", query({ format: "json" })));
    if (!answer || mine !== latest) return;
    const chart = await guarded(form, () => api("GET", query({ format: "svg", lang }), { as: "blob" }));
    if (mine !== latest) return;
    const rows = answer.stats;
    const total = { views: 0, optins: Object.fromEntries(CHANNELS.map((c) => [c, 0])), cards: 0, redemptions: 0 };
    for (const r of rows) {
      total.views += r.landing_views;
      for (const c of CHANNELS) total.optins[c] += r.grants[c];
      total.cards += r.cards_issued;
      total.redemptions += r.redemptions;
    }
    const optinSum = CHANNELS.reduce((n, c) => n + total.optins[c], 0);
    const img = el("img", { class: "chart", alt: `${t("funnel.chart")}: ${t("funnel.views")} ${total.views}, ${t("funnel.optins")} ${optinSum}, ${t("funnel.cards")} ${total.cards}, ${t("funnel.redemptions")} ${total.redemptions}` });
    if (chart) {
      if (chartUrl) URL.revokeObjectURL(chartUrl);
      chartUrl = URL.createObjectURL(chart);
      img.src = chartUrl;
    }
    const headers = [t("funnel.store"), t("funnel.day"), t("funnel.views"),
      ...CHANNELS.map((c) => `${t("funnel.optins")} ${CHANNEL_NAMES[c]}`), t("funnel.cardOnly"), t("funnel.cards"), t("funnel.redemptions"), t("funnel.withdrawals")];
    // Opt-ins no offer can reach (purpose `card`), apart from those that can.
    const cardOnly = (r) => CHANNELS.reduce((n, c) => n + (r.card_only_grants?.[c] ?? 0), 0);
    const line = (cells, cls) => el("tr", { class: cls }, cells.map((c, i) => el("td", { class: i >= 2 ? "num" : "nowrap" }, c)));
    const body = rows.map((r) => line([r.store_id ?? t("funnel.noStore"), r.day, r.landing_views, ...CHANNELS.map((c) => r.grants[c]), cardOnly(r), r.cards_issued, r.redemptions,
      CHANNELS.reduce((n, c) => n + r.withdrawals[c], 0)], null));
    body.push(line([t("funnel.total"), `${answer.from} – ${answer.to}`, total.views, ...CHANNELS.map((c) => total.optins[c]), rows.reduce((n, r) => n + cardOnly(r), 0), total.cards, total.redemptions,
      rows.reduce((n, r) => n + CHANNELS.reduce((m, c) => m + r.withdrawals[c], 0), 0)], "total"));
    results.replaceChildren(
      el("section", { class: "panel", "aria-label": t("funnel.chart") }, el("h2", {}, t("funnel.chart")), el("div", { class: "chart-frame" }, img)),
      el("section", { class: "panel", "aria-label": t("funnel.table") }, el("h2", {}, t("funnel.table")),
        rows.length ? table(t("funnel.table"), headers, body) : el("p", {}, t("funnel.empty"))));
    results.dataset.store = shownStore;
    results.dataset.views = String(total.views);
    results.dataset.optins = String(optinSum);
    results.dataset.cards = String(total.cards);
    results.dataset.redemptions = String(total.redemptions);
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  await show();
}
