// The console's language: which one is in use (`lang`, kept in localStorage, the only thing the
// console keeps there), how it is first chosen, t() for a text of words.js, and the dates and
// per-language values of the API shown in it.
import { TEXTS } from "./words.js";

const LANG_KEY = "optin.console.lang";
export const LANGS = ["ja", "en", "fr"];

/** The language in use (a live binding: chooseLang changes it for every module). */
export let lang = "en";

/** Uses `next` (English when it is none of LANGS) and keeps the choice. */
export function chooseLang(next) {
  lang = LANGS.includes(next) ? next : "en";
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* blocked: not kept */ }
  return lang;
}

/** `?lang=`, then the choice kept, then the browser's languages, then English. */
export function initialLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (LANGS.includes(asked)) return asked;
  let kept = null;
  try { kept = localStorage.getItem(LANG_KEY); } catch { /* blocked */ }
  if (LANGS.includes(kept)) return kept;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).slice(0, 2).toLowerCase();
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

/** The text `key` in the language in use (English, then the key, where it lacks one), with
 *  each `{name}` replaced by `vars[name]`. */
export function t(key, vars = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** One formatter per language (a table has a date in every row). */
const dateFormats = {};
export function when(ms) {
  if (ms === null || ms === undefined) return t("none");
  dateFormats[lang] ??= new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  return dateFormats[lang].format(new Date(ms));
}
export const whenIso = (iso) => (iso ? when(Date.parse(iso)) : t("none"));

export function localized(map) {
  if (!map) return "";
  return map[lang] ?? map.en ?? map.ja ?? map.fr ?? Object.values(map)[0] ?? "";
}
