// The members screen: look-up by member number, the access export shown readably (accounts,
// consent histories, redemptions, the card link), the receipts and the export as downloads,
// and Erase…, whose button stays disabled until the member number is typed again.
import { api, guarded } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { announce, download, el, field, heading, message, table } from "./dom.js";
import { t, when, whenIso } from "./i18n.js";
import { CHANNEL_NAMES } from "./words.js";

export async function viewMembers(main) {
  heading(main, t("members.title"));
  const number = el("input", { required: true, inputMode: "numeric", pattern: "[0-9 ]{12,15}", maxLength: 15, autocomplete: "off", class: "mono", name: "member-number" });
  const result = el("div", { class: "stack" });
  const form = el("form", { class: "panel", "aria-label": t("members.title") },
    field(t("members.number"), number, t("members.numberHint")),
    el("button", { type: "submit" }, t("members.lookup")));
  main.append(form, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector(":scope > .message")?.remove();
    result.replaceChildren();
    const wanted = number.value.replace(/\s/g, "");
    let answer;
    try {
      answer = await api("GET", `/api/admin/members/${encodeURIComponent(wanted)}`);
    } catch (e) {
      if (e.status !== 401) message(form, "error", e.status === 404 ? t("members.notFound") : e.message);
      return;
    }
    showMember(result, answer.member);
  });
  const asked = location.hash.split("/")[2];
  if (asked) { number.value = asked; form.requestSubmit(); } else number.focus();
}

function showMember(container, m) {
  const dl = (pairs) => el("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const box = el("section", { class: "panel member", "aria-labelledby": "member-title" },
    el("h2", { id: "member-title" }, t("members.summary", { number: m.number })),
    dl([
      [t("members.created"), when(m.created_at_ms)],
      [t("members.cardIssued"), when(m.card_issued_at_ms)],
      [t("members.favourite"), m.favourite_store ?? t("none")],
      [t("members.lang"), m.lang ?? t("none")],
      [t("members.consent"), m.consent_granted ? t("members.granted") : t("members.notGranted")],
      [t("members.card"), /^https?:\/\//.test(m.card_url ?? "") ? el("a", { href: m.card_url, target: "_blank", rel: "noopener noreferrer" }, t("members.openCard")) : t("none")],
    ]),
    el("h3", {}, t("members.accounts")));
  for (const s of m.subjects) {
    box.append(el("div", { class: "subject" },
      el("h4", {}, `${CHANNEL_NAMES[s.channel] ?? s.channel} · `, el("span", { class: "mono" }, s.user_id)),
      dl([
        [t("members.state"), el("span", { class: `chip ${s.state}` }, t(`state.${s.state}`))],
        [t("members.linked"), when(s.linked_at_ms)],
        ...(s.also_known_as.length ? [[t("members.alsoKnownAs"), s.also_known_as.join(", ")]] : []),
      ]),
      table(`${t("members.history")} ${CHANNEL_NAMES[s.channel]}`, [t("members.when"), t("members.action"), t("members.source"), t("funnel.store"), t("members.campaign"), t("members.notice")],
        s.events.map((e) => el("tr", {},
          el("td", {}, when(e.occurred_at_ms)),
          el("td", {}, t(`state.${e.action}`)),
          el("td", {}, e.source),
          el("td", {}, e.store_id ?? t("none")),
          el("td", {}, e.campaign_id ?? t("none")),
          el("td", {}, e.notice_version ?? t("none")))))));
  }
  box.append(el("h3", {}, t("members.redemptions")),
    m.redemptions.length
      ? table(t("members.redemptions"), [t("members.when"), t("members.coupon"), t("funnel.store"), t("members.register"), t("members.transaction"), t("members.posKey")],
        m.redemptions.map((r) => el("tr", {}, el("td", {}, whenIso(r.redeemed_at)), el("td", { class: "mono" }, r.coupon_id), el("td", {}, r.store_id),
          el("td", {}, r.register_id), el("td", { class: "mono" }, r.transaction_id), el("td", { class: "mono" }, r.pos_key_id ?? t("none")))))
      : el("p", {}, t("members.noRedemptions")));
  const downloads = el("div", { class: "row wrap" },
    m.receipts_unavailable ? null : el("button", {
      type: "button", class: "secondary",
      onclick: () => download(new Blob([JSON.stringify({ receipts: m.receipts }, null, 2)], { type: "application/json" }), `receipts-${m.number}.json`),
    }, t("members.receipts")),
    el("button", {
      type: "button", class: "secondary",
      onclick: () => download(new Blob([JSON.stringify({ member: m }, null, 2)], { type: "application/json" }), `member-${m.number}.json`),
    }, t("members.export")));
  box.append(downloads);
  if (m.receipts_unavailable) box.append(el("p", { class: "hint" }, t("members.receiptsUnavailable", { setting: m.receipts_unavailable })));
  const erase = el("button", {
    type: "button", class: "danger",
    onclick: async () => {
      const yes = await confirmDialog({
        title: t("members.eraseTitle", { number: m.number }),
        text: t("members.eraseText"),
        ok: t("members.eraseOk"),
        typed: m.number,
        typedLabel: t("members.eraseConfirm"),
      });
      if (!yes) { erase.focus(); return; }
      const call = () => api("DELETE", `/api/admin/members/${encodeURIComponent(m.number)}`);
      let answer = await guarded(box, call);
      if (!answer) return;
      const say = (a) => t(a.erased.complete === false ? "members.erasing" : "members.erased",
        { number: m.number, events: a.erased.events_redacted });
      const erased = el("p", { class: "message ok", tabIndex: -1, role: "status" }, say(answer));
      container.replaceChildren(el("section", { class: "panel" }, erased));
      erased.focus();
      announce(erased.textContent);
      // A long history is rewritten in steps by the member's object: ask again for progress.
      while (answer && answer.erased.complete === false) {
        await new Promise((done) => setTimeout(done, 2000));
        answer = await guarded(container, call);
        if (answer) erased.textContent = say(answer);
      }
      if (answer) announce(erased.textContent);
    },
  }, t("members.erase"));
  box.append(el("div", { class: "row danger-zone" }, erase));
  container.replaceChildren(box);
}
