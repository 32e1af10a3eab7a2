// The events feed screen: the endpoints with their delivery status, a new endpoint's signing
// secret shown once, rotation, deletion, each endpoint's dead letters, and sending the dead
// letters or a time range again.
import { api, guarded } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { done, el, field, focusPanel, heading, message, shownOnce, table } from "./dom.js";
import { t, whenIso } from "./i18n.js";

export async function viewFeeds(main) {
  heading(main, t("feeds.title"));
  const url = el("input", { type: "url", required: true, maxLength: 2048, class: "wide", autocomplete: "off", spellcheck: false, name: "feed-url" });
  const created = el("div");
  const listBox = el("section", { class: "panel", "aria-label": t("feeds.title") });
  const detail = el("div");
  const form = el("form", { class: "panel", "aria-label": t("feeds.add") },
    field(t("feeds.url"), url, t("feeds.urlHint")),
    el("button", { type: "submit" }, t("feeds.add")));
  main.append(el("div", { class: "stack" }, form, created, listBox, detail));
  async function refresh() {
    const answer = await guarded(listBox, () => api("GET", "/api/admin/feeds"));
    if (!answer) return;
    listBox.replaceChildren(el("h2", {}, t("feeds.title")));
    if (answer.feeds.length === 0) {
      listBox.append(el("p", {}, t("feeds.empty")));
      return;
    }
    listBox.append(table(t("feeds.title"), [t("feeds.url"), t("feeds.status"), t("feeds.delivered"), t("feeds.backlog"), t("feeds.dead"), t("feeds.lastSuccess"), t("feeds.lastFailure"), t("feeds.secrets"), t("actions")],
      answer.feeds.map((f) => el("tr", { "data-feed": f.id },
        el("td", { class: "mono break" }, f.url),
        el("td", {}, el("span", { class: `chip ${f.status === "active" ? "granted" : "withdrawn"}` }, f.status === "active" ? t("feeds.active") : t("feeds.disabled"))),
        el("td", { class: "num" }, f.delivered),
        el("td", { class: "num" }, f.backlog),
        el("td", { class: "num" }, f.dead_letters),
        el("td", {}, whenIso(f.last_success_at)),
        el("td", {}, f.last_failure_at ? `${whenIso(f.last_failure_at)} · ${f.last_failure ?? ""}` : t("none")),
        el("td", { class: "num" }, f.signing_secrets),
        el("td", { class: "buttons" },
          el("button", {
            type: "button", class: "secondary", "aria-label": `${t("feeds.rotate")} ${f.url}`,
            onclick: async () => {
              const rotated = await guarded(listBox, () => api("POST", `/api/admin/feeds/${f.id}/rotate`));
              if (!rotated) return;
              created.replaceChildren(shownOnce(t("feeds.secret"), t("feeds.rotated", { id: f.url, when: whenIso(rotated.previous_secret_expires_at) }), rotated.secret));
              await refresh();
              created.querySelector("input")?.focus();
            },
          }, t("feeds.rotate")),
          el("button", { type: "button", class: "secondary", "aria-label": `${t("feeds.deadLetters")} ${f.url}`, onclick: () => deadLetters(detail, f, refresh) }, t("feeds.deadLetters")),
          el("button", {
            type: "button", class: "danger", "aria-label": `${t("feeds.delete")} ${f.url}`,
            onclick: async (event) => {
              const button = event.currentTarget;
              const yes = await confirmDialog({ title: t("feeds.deleteTitle"), text: t("feeds.deleteText", { url: f.url }), ok: t("feeds.deleteOk") });
              if (!yes) { button.focus(); return; }
              const ok = await guarded(listBox, async () => { await api("DELETE", `/api/admin/feeds/${f.id}`); return true; });
              if (ok) { detail.replaceChildren(); await refresh(); done(); }
            },
          }, t("feeds.delete")))))));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await guarded(form, () => api("POST", "/api/admin/feeds", { body: { url: url.value } }));
    if (!answer) return;
    url.value = "";
    created.replaceChildren(shownOnce(t("feeds.secret"), t("feeds.once"), answer.secret));
    await refresh();
  });
  await refresh();
}

async function deadLetters(container, feed, refreshList) {
  const box = el("section", { class: "panel", "aria-label": t("feeds.deadOf", { url: feed.url }) }, el("h2", {}, t("feeds.deadOf", { url: feed.url })));
  container.replaceChildren(box);
  const answer = await guarded(box, () => api("GET", `/api/admin/feeds/${feed.id}/dead-letters?limit=100`));
  if (!answer) return;
  box.append(answer.dead_letters.length
    ? table(t("feeds.deadLetters"), [t("feeds.event"), t("feeds.time"), t("feeds.attempts"), t("feeds.reason"), t("feeds.deadAt")],
      answer.dead_letters.map((d) => el("tr", {}, el("td", { class: "mono" }, d.event_id), el("td", {}, whenIso(d.time)), el("td", { class: "num" }, d.attempts),
        el("td", {}, d.reason), el("td", {}, whenIso(d.dead_at)))))
    : el("p", {}, t("feeds.deadEmpty")));
  const replayDead = el("button", {
    type: "button", disabled: answer.remaining === 0,
    onclick: async () => {
      const queued = await guarded(box, () => api("POST", `/api/admin/feeds/${feed.id}/replay`, { body: { dead_letters: true } }));
      if (!queued) return;
      message(box, "ok", t("feeds.replayed", { queued: queued.queued, remaining: queued.dead_letters_remaining }));
      await refreshList();
    },
  }, t("feeds.replayDead"));
  const today = new Date().toISOString().slice(0, 10);
  const from = el("input", { type: "date", required: true, value: today, name: "replay-from" });
  const to = el("input", { type: "date", required: true, value: today, name: "replay-to" });
  const range = el("form", { class: "subpanel", "aria-label": t("feeds.replayRange") },
    el("h3", {}, t("feeds.replayRange")),
    el("div", { class: "row wrap" }, field(t("feeds.replayFrom"), from), field(t("feeds.replayTo"), to)),
    el("button", { type: "submit" }, t("feeds.replayOk")));
  range.addEventListener("submit", async (event) => {
    event.preventDefault();
    const queued = await guarded(range, () => api("POST", `/api/admin/feeds/${feed.id}/replay`, { body: { from: from.value, to: to.value } }));
    if (queued) message(range, "ok", t("feeds.replayQueued", { from: from.value, to: to.value }));
  });
  box.append(el("div", { class: "row" }, replayDead), range);
  focusPanel(box);
}
