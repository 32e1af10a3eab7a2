// Calls of the admin API (openapi.yaml) and the admin token they carry: kept in this tab's
// sessionStorage only (in the page alone where storage is blocked), sent as the bearer of each
// call, never anywhere else. A 401 means the token changed: main.js signs out.
import { message } from "./dom.js";
import { t } from "./i18n.js";

const TOKEN_KEY = "optin.console.token";

/** An answer of the API other than 2xx: its HTTP status (0: no answer), code and message. */
export class ApiError extends Error {
  constructor(status, code, text) {
    super(text);
    this.status = status;
    this.code = code;
  }
}

/** Web storage, which a browser may block (then the token lives in this page only). */
let tokenInPage = null;
export function token() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return tokenInPage; }
}
export function keepToken(value) {
  tokenInPage = value;
  try {
    if (value === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  } catch { /* blocked: kept in the page only */ }
}

/** What a refused token does: main.js signs out, saying why (until then it is forgotten). */
let refused = () => keepToken(null);
export function onTokenRefused(action) { refused = action; }

/** One call of the admin API. JSON in and out unless `as` says "blob" or "text". A 401 signs
 *  out (the token changed); other errors throw an ApiError with the API's own code and message. */
export async function api(method, path, { body, as = "json", tokenOverride } = {}) {
  const headers = { authorization: `Bearer ${tokenOverride ?? token()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (!response.ok) {
    let code = `http_${response.status}`;
    let text = `${t("error.generic")} (HTTP ${response.status}).`;
    try {
      const json = await response.json();
      code = json.error?.code ?? code;
      text = `${json.error?.message ?? text} (${code})`;
    } catch { /* not JSON */ }
    if (response.status === 401 && tokenOverride === undefined) {
      refused(t("signin.expired"));
    }
    throw new ApiError(response.status, code, text);
  }
  if (response.status === 204) return null;
  if (as === "blob") return response.blob();
  if (as === "text") return response.text();
  return response.json();
}

/** Runs `action`; an error is shown in `container` (never thrown further). */
export async function guarded(container, action) {
  try {
    return await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return undefined;
    message(container, "error", e.message || String(e));
    return undefined;
  }
}
