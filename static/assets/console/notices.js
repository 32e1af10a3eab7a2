// The consent notices screen: the versions, the draft editor (versions in force are frozen),
// the draft beside the version in force with added and removed lines marked (also in words,
// for screen readers), and Activate…, which asks first: it cannot be undone.
import { api, guarded } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { $, done, el, field, focusPanel, heading, message, table } from "./dom.js";
import { lang, LANGS, t, when } from "./i18n.js";

export async function viewNotices(main) {
  heading(main, t("notices.title"));
  const listBox = el("section", { class: "panel", "aria-label": t("notices.title") });
  const work = el("div");
  main.append(el("div", { class: "stack" }, listBox, work));
  const newButton = el("button", { type: "button", onclick: () => noticeEditor(work, null, refresh) }, t("notices.new"));
  let state = { notices: [], active: null };
  async function refresh() {
    const answer = await guarded(listBox, () => api("GET", "/api/admin/notices"));
    if (!answer) return;
    state = answer;
    listBox.replaceChildren(el("div", { class: "row" }, newButton));
    if (answer.notices.length === 0) {
      listBox.append(el("p", {}, t("notices.empty")));
      return;
    }
    const active = answer.notices.find((n) => n.version === answer.active) ?? null;
    listBox.append(table(t("notices.title"), [t("notices.version"), t("notices.status"), t("notices.created"), t("notices.activated"), t("actions")],
      answer.notices.map((n) => {
        const status = n.version === answer.active ? "inForce" : n.activated_at_ms ? "earlier" : "draft";
        return el("tr", { "data-notice": n.version },
          el("td", { class: "mono" }, n.version),
          el("td", {}, el("span", { class: `chip ${status}` }, t(`notices.${status}`))),
          el("td", {}, when(n.created_at_ms)),
          el("td", {}, n.activated_at_ms ? when(n.activated_at_ms) : t("none")),
          el("td", { class: "buttons" },
            status === "draft"
              ? el("button", { type: "button", class: "secondary", "aria-label": `${t("edit")} ${n.version}`, onclick: () => noticeEditor(work, n, refresh) }, t("edit"))
              : el("span", { class: "hint" }, t("notices.frozen")),
            status === "draft"
              ? el("button", { type: "button", class: "secondary", "aria-label": `${t("notices.compare")} ${n.version}`, onclick: () => compare(work, n, active, refresh) }, t("notices.compare"))
              : null));
      })));
  }
  await refresh();
}

function noticeEditor(container, notice, refreshed) {
  const version = el("input", { required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,31}", autocomplete: "off", spellcheck: false, class: "mono", value: notice?.version ?? "", readOnly: !!notice, name: "notice-version" });
  const titles = Object.fromEntries(LANGS.map((l) => [l, el("input", { maxLength: 120, value: notice?.texts?.[l]?.title ?? "", lang: l, class: "wide", name: `notice-title-${l}` })]));
  const bodies = Object.fromEntries(LANGS.map((l) => [l, el("textarea", { maxLength: 20000, rows: 8, value: notice?.texts?.[l]?.body ?? "", lang: l, name: `notice-body-${l}` })]));
  const title = notice ? t("notices.editing", { version: notice.version }) : t("notices.creating");
  const form = el("form", { class: "panel", "aria-label": title },
    el("h2", {}, title),
    field(t("notices.version"), version, notice ? null : t("notices.versionHint")),
    LANGS.map((l) => el("fieldset", {}, el("legend", {}, t(`lang.${l}`)),
      field(t("notices.titleIn", { lang: t(`lang.${l}`) }), titles[l]),
      field(t("notices.bodyIn", { lang: t(`lang.${l}`) }), bodies[l]))),
    el("div", { class: "row" },
      el("button", { type: "submit" }, t("save")),
      el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const texts = Object.fromEntries(LANGS.filter((l) => titles[l].value.trim() || bodies[l].value.trim())
      .map((l) => [l, { title: titles[l].value, body: bodies[l].value }]));
    const saved = await guarded(form, () => api("PUT", `/api/admin/notices/${encodeURIComponent(version.value.trim())}`, { body: { texts } }));
    if (!saved) return;
    container.replaceChildren();
    await refreshed();
    done(t("saved"));
  });
  container.replaceChildren(form);
  (notice ? titles[lang] : version).focus();
}

/** Lines of `mine` marked against `theirs`: a line the other text lacks is `added` (or
 *  `removed`, on the side of the version in force). Line by line: notices are edited as lines. */
function markedLines(mine, theirs, mark) {
  const other = new Set((theirs ?? "").split("\n").map((l) => l.trim()));
  return (mine ?? "").split("\n").map((line) => {
    const changed = line.trim() !== "" && !other.has(line.trim());
    return el("p", { class: changed ? `line ${mark}` : "line" },
      changed ? el("span", { class: "visually-hidden" }, `${t(`notices.${mark}`)}: `) : null,
      line || "\u00a0");
  });
}

function compare(container, draft, active, refreshed) {
  const box = el("section", { class: "panel", "aria-label": t("notices.compareTitle", { draft: draft.version }) },
    el("h2", {}, t("notices.compareTitle", { draft: draft.version })));
  for (const l of LANGS) {
    const mine = draft.texts[l];
    const theirs = active?.texts?.[l];
    if (!mine && !theirs) continue;
    box.append(el("h3", {}, t(`lang.${l}`)),
      el("div", { class: "side-by-side", lang: l },
        el("div", { class: "side current" },
          el("p", { class: "side-label" }, active ? t("notices.current", { version: active.version }) : t("notices.noCurrent")),
          theirs ? [el("div", { class: "side-title" }, markedLines(theirs.title, mine?.title, "removed")), markedLines(theirs.body, mine?.body, "removed")] : el("p", { class: "hint" }, active ? t("notices.missing") : "")),
        el("div", { class: "side proposed" },
          el("p", { class: "side-label" }, t("notices.proposed", { version: draft.version })),
          mine ? [el("div", { class: "side-title" }, markedLines(mine.title, theirs?.title, "added")), markedLines(mine.body, theirs?.body, "added")] : el("p", { class: "hint" }, t("notices.missing")))));
  }
  const activate = el("button", {
    type: "button", class: "danger",
    onclick: async () => {
      const yes = await confirmDialog({
        title: t("notices.activateTitle", { version: draft.version }),
        text: t("notices.activateText", { version: draft.version }),
        ok: t("notices.activateOk", { version: draft.version }),
      });
      if (!yes) { activate.focus(); return; }
      const answer = await guarded(box, () => api("POST", `/api/admin/notices/${encodeURIComponent(draft.version)}/activate`));
      if (!answer) return;
      container.replaceChildren();
      await refreshed();
      message($("main").querySelector(".panel"), "ok", t("notices.activatedNow", { version: draft.version }));
      done(t("notices.activatedNow", { version: draft.version }));
    },
  }, t("notices.activate"));
  box.append(el("div", { class: "row" }, activate, el("button", { type: "button", class: "secondary", onclick: () => container.replaceChildren() }, t("close"))));
  container.replaceChildren(box);
  focusPanel(box);
}
