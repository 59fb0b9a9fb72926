// Working a task (claim, start, release, close with an outcome and a note): the buttons the
// queue and the customer view share. Each step is one POST /v1/tasks/{id}/<step>.
import { api, can, el, field, label, problemBox, status } from "./lib.js";

const OPEN = ["open", "assigned", "in_progress"];

/** The steps the caller may take on task t now; onDone() runs after a step succeeded. */
export function taskActions(t, who, onDone) {
  if (!can(who, "tasks:write") || !OPEN.includes(t.state)) return el("span", { class: "muted" }, "–");
  const box = el("div", { class: "actions" });
  const act = async (path, body, name) => {
    try {
      await api(`/v1/tasks/${encodeURIComponent(t.task_id)}/${path}`, { method: "POST", body });
      status(`${name}: the task of ${t.customer_id} is ${name === "Close" ? "closed" : "updated"}.`);
      await onDone();
    } catch (err) {
      document.getElementById("status").replaceChildren(problemBox(err));
    }
  };
  const step = (name, path) => el("button", { type: "button", onclick: () => act(path, undefined, name) }, name);
  const mine = t.assignee && t.assignee === who.agent_id;
  if (t.state === "open" && who.agent_id) box.append(step("Claim", "claim"));
  if (mine && t.state === "assigned") box.append(step("Start", "start"));
  if (t.assignee && (mine || can(who, "admin"))) {
    const outcomes = t.state === "in_progress" ? ["won", "lost", "no_contact"] : ["no_contact"];
    const outcome = el("select", { name: "outcome" }, outcomes.map((o) => el("option", { value: o }, label(o))));
    const note = el("input", { type: "text", name: "note", maxlength: 2000, placeholder: "what was agreed", size: 18 });
    box.append(
      el(
        "form",
        {
          class: "close",
          "aria-label": `Close the task of ${t.customer_id}`,
          onsubmit: (ev) => {
            ev.preventDefault();
            act("close", { outcome: outcome.value, note: note.value.trim() || null }, "Close");
          },
        },
        field("Outcome", outcome),
        field("Note", note),
        el("button", { type: "submit" }, "Close task"),
      ),
    );
  }
  if (t.assignee && t.state === "assigned") box.append(step("Release", "release"));
  return box;
}
