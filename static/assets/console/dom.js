// The page's building blocks: elements made with text only (el, never innerHTML), labelled
// fields, tables, messages and the live region, downloads, copy buttons, a secret shown once,
// and where the focus goes after an action.
import { t } from "./i18n.js";

export const $ = (id) => document.getElementById(id);

/** An element: `attrs` are properties (`class`, `for`, `data-*` and `aria-*` as attributes),
 *  children are nodes or strings (as text), null and false skipped. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "for") node.htmlFor = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name.startsWith("data-") || name.startsWith("aria-") || name === "role" || name === "list") node.setAttribute(name, value === true ? "" : value);
    else node[name] = value;
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let idCount = 0;
/** A new element id, unique in the page: `prefix` and a number. */
export const nextId = (prefix) => `${prefix}${++idCount}`;

/** A labelled field: label, control, hint (described-by). */
export function field(label, control, hint) {
  const id = control.id || nextId("f");
  control.id = id;
  const parts = [el("label", { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(el("p", { class: "hint", id: hintId }, hint));
  }
  return el("div", { class: "field" }, parts);
}

export function table(caption, headers, rows) {
  return el("div", { class: "table-wrap", tabIndex: 0, role: "region", "aria-label": caption },
    el("table", {},
      el("caption", { class: "visually-hidden" }, caption),
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)));
}

export function announce(text) {
  const status = $("status");
  status.textContent = "";
  setTimeout(() => { status.textContent = text; }, 50);
}

/** A message box in `container`: ok / error / info, replacing the previous one. */
export function message(container, kind, text) {
  container.querySelector(":scope > .message")?.remove();
  const box = el("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  // Under the container's heading, if it starts with one.
  const first = container.firstElementChild;
  if (first && /^H[1-3]$/.test(first.tagName)) first.after(box);
  else container.prepend(box);
  return box;
}

export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename, class: "visually-hidden" }, filename);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function copyButton(getText) {
  return el("button", {
    type: "button", class: "secondary",
    onclick: async () => {
      try { await navigator.clipboard.writeText(getText()); announce(t("copied")); } catch { /* no permission: the text is selectable */ }
    },
  }, t("copy"));
}

/** A secret shown once: a highlighted box with the value and a copy button. */
export function shownOnce(label, text, value) {
  const id = nextId("once");
  return el("div", { class: "once", role: "status" },
    el("p", { class: "once-text" }, text),
    el("label", { for: id }, label),
    el("div", { class: "row" },
      el("input", { id, value, readOnly: true, class: "mono wide", spellcheck: false, "data-secret": "" }),
      copyButton(() => value)));
}

/** Brings a new panel into view and moves the focus to its heading. */
export function focusPanel(box) {
  const h = box.querySelector("h2");
  if (!h) return;
  h.tabIndex = -1;
  h.focus();
  h.scrollIntoView({ block: "start" });
}

/** After an action changed the view: focus its heading, and say what happened. */
export function done(text) {
  $("main").querySelector("h1")?.focus();
  if (text) announce(text);
}

export function heading(main, text) {
  const h1 = el("h1", { tabIndex: -1 }, text);
  main.append(h1);
  return h1;
}
