// The live stream (/v1/live, server-sent events): call back, at most twice a second, when an
// event of the given kinds arrives. The browser's EventSource reconnects with Last-Event-ID.
import { el } from "./lib.js";

export function follow(kinds, onChange, { indicator = true } = {}) {
  if (!("EventSource" in window)) return null;
  const src = new EventSource("/v1/live");
  const mark = el("span", { class: "live", title: "updates without reload" }, "live");
  if (indicator) document.getElementById("title").append(" ", mark);
  let timer = null;
  const pending = [];
  const fire = () => {
    timer = null;
    onChange(pending.splice(0));
  };
  for (const kind of kinds) {
    src.addEventListener(kind, (ev) => {
      try {
        pending.push({ kind, data: JSON.parse(ev.data) });
      } catch {
        return;
      }
      if (!timer) timer = setTimeout(fire, 500);
    });
  }
  src.onopen = () => mark.classList.remove("off");
  src.onerror = () => mark.classList.add("off");
  addEventListener("pagehide", () => src.close());
  return src;
}
