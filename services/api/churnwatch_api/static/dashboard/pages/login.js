// Log in with an API key: POST /v1/session sets the http-only session cookie.
import { api, el, field, problemBox, show } from "../lib.js";

export default async function login() {
  const key = el("input", { type: "password", name: "key", autocomplete: "off", required: true, spellcheck: "false", size: 48 });
  const out = el("div", { "aria-live": "polite" });
  const form = el(
    "form",
    {
      class: "card narrow",
      onsubmit: async (ev) => {
        ev.preventDefault();
        out.replaceChildren();
        try {
          await api("/v1/session", { method: "POST", body: { key: key.value.trim() }, redirect401: false });
          const next = new URLSearchParams(location.search).get("next");
          location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/queue");
        } catch (err) {
          out.replaceChildren(problemBox(err));
          key.focus();
        }
      },
    },
    el("p", {}, "Log in with an API key (", el("code", {}, "churnwatch keys create"), " prints one; the demo's banner shows two)."),
    field("API key", key, "The key is sent once; the browser then keeps an http-only session cookie."),
    el("button", { type: "submit", class: "primary" }, "Log in"),
    out,
  );
  show(form);
  key.focus();
}
