// The admin console (GET /admin): store staff run the programme from a browser. A client of the
// documented admin JSON API (openapi.yaml) and nothing else: every action is one of its calls,
// with the admin token as a bearer, and the API's own auth decides. The token is entered once
// per browser session and kept in this tab's sessionStorage only (gone when the tab closes);
// nothing else is stored but the console's language. Every text reaches the page through
// textContent or attributes (never innerHTML), so names, titles and notices typed by anyone are
// shown as text. Posters, charts and downloads are fetched with the token and shown as blob:
// URLs (the CSP in static/_headers allows nothing else).
//
// This module is the entry point (static/admin.html loads it as a module): the page's frame in
// the language chosen, sign-in and sign-out, and the routes (#/section), one module per screen.
import { keepToken, onTokenRefused, token } from "./api.js";
import { $, el, message } from "./dom.js";
import { chooseLang, initialLang, lang, t } from "./i18n.js";
import { viewCoupons } from "./coupons.js";
import { viewFeeds } from "./feeds.js";
import { viewFunnel } from "./funnel.js";
import { viewMembers } from "./members.js";
import { viewNotices } from "./notices.js";
import { viewKeys } from "./pos-keys.js";
import { showSignIn } from "./signin.js";
import { viewStores } from "./stores.js";

const SECTIONS = ["stores", "coupons", "notices", "funnel", "members", "keys", "feeds"];
const VIEWS = { stores: viewStores, coupons: viewCoupons, notices: viewNotices, funnel: viewFunnel, members: viewMembers, keys: viewKeys, feeds: viewFeeds };

/** Uses the language `next` and says the page's own words in it. */
function setLang(next) {
  chooseLang(next);
  document.documentElement.lang = lang;
  document.title = t("title");
  $("brand").textContent = t("title");
  $("skip").textContent = t("skip");
  $("lang-label").textContent = t("language");
  $("lang").value = lang;
  $("signout").textContent = t("signOut");
  $("nav").setAttribute("aria-label", t("sections"));
}

function signIn(why) {
  showSignIn(why, showApp);
}

function signOut(why) {
  keepToken(null);
  signIn(why);
}

function currentSection() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0];
  return SECTIONS.includes(name) ? name : "stores";
}

function showApp() {
  $("signout").hidden = false;
  const nav = $("nav");
  nav.hidden = false;
  const section = currentSection();
  nav.replaceChildren(el("ul", {}, SECTIONS.map((name) =>
    el("li", {}, el("a", { href: `#/${name}`, "aria-current": name === section ? "page" : null }, t(`nav.${name}`))))));
  // Each view renders into its own element: a view still loading when the person moves on
  // fills a detached element, never the next view.
  const view = el("div", { class: "view" });
  $("main").replaceChildren(view);
  const render = VIEWS[section];
  render(view).catch((e) => message(view, "error", e.message || String(e)));
}

function start() {
  onTokenRefused(signOut);
  setLang(initialLang());
  $("lang").addEventListener("change", (event) => {
    setLang(event.target.value);
    if (token()) showApp(); else signIn();
  });
  $("signout").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", () => {
    // Only the console's own routes (#/section); the skip link's #main is not one.
    if (!token() || !location.hash.startsWith("#/")) return;
    showApp();
    $("main").querySelector("h1")?.focus();
  });
  if (token()) showApp(); else signIn();
}

start();
