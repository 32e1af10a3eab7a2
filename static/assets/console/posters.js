// A store's poster: a campaign, the landing URL its QR code carries (the API's `landing_url`),
// a preview, and the SVG (for the printer) and PNG downloads.
import { api, guarded } from "./api.js";
import { copyButton, download, el, field, focusPanel } from "./dom.js";
import { t } from "./i18n.js";

export function posterPanel(container, store) {
  const campaign = el("input", { pattern: "[a-z0-9][a-z0-9\\-]{0,31}", autocomplete: "off", spellcheck: false, class: "mono", name: "campaign" });
  const landing = el("input", { readOnly: true, class: "mono wide", name: "landing-url" });
  const preview = el("img", { class: "poster", alt: t("poster.preview", { id: store.id }) });
  const box = el("section", { class: "panel", "aria-label": t("poster.title", { id: store.id }) });
  let previewUrl = null;
  const query = () => {
    const c = campaign.value.trim();
    return c ? `?c=${encodeURIComponent(c)}` : "";
  };
  // The API's URL (PUBLIC_BASE_URL, the one the poster's QR code carries); this origin without it.
  const updateLanding = () => { landing.value = `${store.landing_url ?? `${location.origin}/s/${store.id}`}${query()}`; };
  const base = `/api/admin/stores/${encodeURIComponent(store.id)}/poster`;
  async function show() {
    if (!campaign.checkValidity()) { campaign.reportValidity(); return; }
    const blob = await guarded(box, () => api("GET", `${base}.svg${query()}`, { as: "blob" }));
    if (!blob) return;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blob);
    preview.src = previewUrl;
  }
  async function save(format) {
    if (!campaign.checkValidity()) { campaign.reportValidity(); return; }
    const blob = await guarded(box, () => api("GET", `${base}.${format}${query()}`, { as: "blob" }));
    const c = campaign.value.trim();
    if (blob) download(blob, `poster-${store.id}${c ? `-${c}` : ""}.${format}`);
  }
  campaign.addEventListener("input", updateLanding);
  campaign.addEventListener("change", show);
  updateLanding();
  box.append(
    el("h2", {}, t("poster.title", { id: store.id })),
    field(t("poster.campaign"), campaign, t("poster.campaignHint")),
    field(t("poster.landing"), landing),
    el("div", { class: "row" }, copyButton(() => landing.value)),
    el("div", { class: "row" },
      el("button", { type: "button", class: "secondary", onclick: show }, t("poster.show")),
      el("button", { type: "button", onclick: () => save("svg") }, t("poster.svg")),
      el("button", { type: "button", onclick: () => save("png") }, t("poster.png"))),
    el("div", { class: "poster-frame" }, preview));
  container.replaceChildren(box);
  show();
  focusPanel(box);
}
