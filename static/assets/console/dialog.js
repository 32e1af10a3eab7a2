// The confirmation dialog (the page's native <dialog id="dialog">): asked before anything that
// cannot be undone, with the safe button focused and Esc cancelling.
import { $, el, field } from "./dom.js";
import { t } from "./i18n.js";

/** Asks before something irreversible: resolves true only on the confirm button. With
 *  `typed`, the button stays disabled until that exact text is typed. */
export function confirmDialog({ title, text, ok, typed, typedLabel }) {
  const dialog = $("dialog");
  $("dialog-title").textContent = title;
  const body = $("dialog-body");
  body.replaceChildren(el("p", {}, text));
  const okButton = $("dialog-ok");
  okButton.textContent = ok;
  okButton.className = "danger";
  $("dialog-cancel").textContent = t("cancel");
  let input = null;
  if (typed) {
    input = el("input", { inputMode: "numeric", autocomplete: "off", class: "mono" });
    body.append(field(typedLabel, input));
    okButton.disabled = true;
    input.addEventListener("input", () => { okButton.disabled = input.value.trim() !== typed; });
  } else {
    okButton.disabled = false;
  }
  return new Promise((resolve) => {
    const finish = (answer) => {
      okButton.onclick = null;
      $("dialog-cancel").onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    okButton.onclick = () => finish(true);
    $("dialog-cancel").onclick = () => finish(false);
    dialog.onclose = () => finish(false);
    dialog.showModal();
    (input ?? $("dialog-cancel")).focus();
  });
}
