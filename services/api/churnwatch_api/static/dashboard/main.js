// Entry point of every page: the header (who is logged in, log out), then the page's module.
import { api, el, me, problemBox, show } from "./lib.js";

const page = document.body.dataset.page;

async function header() {
  const here = document.querySelector(`[data-nav="${page}"]`);
  if (here) here.setAttribute("aria-current", "page");
  if (page === "login") return;
  const who = await me();
  if (!who) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    return false;
  }
  const out = el(
    "button",
    {
      type: "button",
      class: "link",
      onclick: async () => {
        await api("/v1/session", { method: "DELETE", redirect401: false });
        location.assign("/login");
      },
    },
    "Log out",
  );
  const agent = who.agent_id ? ` · agent ${who.agent_id}` : "";
  document.getElementById("who").replaceChildren(
    el("span", { title: `scopes: ${who.scopes.join(", ")}` }, `${who.name}${agent}`),
    " ",
    out,
  );
  return true;
}

try {
  // the page's module and its first API calls start at once, beside the header's /v1/me (a
  // visitor without a session is sent to the login page by whichever answers 401 first)
  const work = import(`./pages/${page}.js`).then((mod) => mod.default());
  await Promise.all([header(), work]);
  document.body.dataset.ready = "1";
} catch (err) {
  if (err.status === 401) throw err; // on the way to the login page
  show(problemBox(err));
  document.body.dataset.ready = "error";
}
