// The sign-in screen: the admin token typed once per browser session, checked with a call that
// changes nothing, kept only once the API accepted it; a wrong one is said plainly.
import { api, keepToken } from "./api.js";
import { $, el, field, message } from "./dom.js";
import { t } from "./i18n.js";

/** Shows the sign-in form (with `why` as an error, if given); `signedIn` runs once a token was
 *  accepted and kept. */
export function showSignIn(why, signedIn) {
  $("nav").hidden = true;
  $("signout").hidden = true;
  const input = el("input", { type: "password", autocomplete: "off", spellcheck: false, required: true, class: "wide" });
  const form = el("form", { class: "panel signin", "aria-labelledby": "signin-title" },
    el("h1", { id: "signin-title" }, t("signin.title")),
    field(t("signin.token"), input, t("signin.hint")),
    el("button", { type: "submit" }, t("signin.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const candidate = input.value.trim();
    if (!candidate) return;
    try {
      // The cheapest admin call: it answers 200 only to the right token, and changes nothing.
      await api("GET", "/api/admin/config", { tokenOverride: candidate });
    } catch (e) {
      message(form, "error", e.status === 401 ? t("signin.wrong") : e.status === 0 ? t("signin.network") : e.message);
      input.select();
      return;
    }
    keepToken(candidate);
    signedIn();
  });
  $("main").replaceChildren(form);
  if (why) message(form, "error", why);
  input.focus();
}
