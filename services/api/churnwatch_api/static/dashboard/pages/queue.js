// The save team's queue: my tasks and my team's (GET /v1/tasks), claim, start, close with an
// outcome and a note; overdue tasks are marked. With pii:read each task shows whom to call (name,
// tel: and mailto: links; the API audits every read). Task events on /v1/live refresh the lists.
import { api, can, due, el, field, label, me, money, pct, show, table } from "../lib.js";
import { follow } from "../live.js";
import { taskActions } from "../tasks.js";

export default async function queue() {
  const who = await me();
  let team = null;
  if (who.agent_id) {
    const agents = await api("/v1/agents?include_inactive=true");
    team = (agents.find((a) => a.agent_id === who.agent_id) || {}).team || null;
  }
  const mine = el("section", { "aria-labelledby": "h-mine" });
  const teams = el("section", { "aria-labelledby": "h-team" });
  const teamPicker = el("input", { type: "text", name: "team", value: team || "", placeholder: "all teams", size: 12 });
  const overdueOnly = el("input", { type: "checkbox", name: "overdue" });
  const filters = el(
    "form",
    { class: "filters", onsubmit: (ev) => { ev.preventDefault(); load(); } },
    field("Team", teamPicker),
    el("div", { class: "field check" }, overdueOnly, el("label", { for: (overdueOnly.id = "f-overdue") }, "Overdue only")),
    el("button", { type: "submit" }, "Show"),
  );
  const pii = can(who, "pii:read");
  show(
    who.agent_id ? mine : el("p", { class: "note" }, `Your key (${who.name}) is not bound to an agent: you can see and assign tasks, claiming needs an agent's key.`),
    el("section", {}, filters, pii ? null : el("p", { class: "muted" }, "Phone numbers and e-mail addresses need a key with pii:read.")),
    teams,
  );

  async function load() {
    const q = new URLSearchParams({ limit: "100" });
    if (teamPicker.value.trim()) q.set("team", teamPicker.value.trim());
    if (overdueOnly.checked) q.set("overdue", "true");
    const tasks = [api(`/v1/tasks?${q}`)];
    if (who.agent_id) tasks.push(api(`/v1/tasks?agent=${encodeURIComponent(who.agent_id)}&limit=100`));
    const [teamPage, minePage] = await Promise.all(tasks);
    if (minePage) {
      mine.replaceChildren(
        el("h2", { id: "h-mine" }, `My tasks (${minePage.items.length}${minePage.next_cursor ? "+" : ""})`),
        minePage.items.length ? taskTable(minePage.items, "my tasks") : el("p", { class: "muted" }, "Nothing assigned to you. Claim a task below."),
      );
    }
    const scope = teamPicker.value.trim() ? `team ${teamPicker.value.trim()}` : "all teams";
    teams.replaceChildren(
      el("h2", { id: "h-team" }, `Unfinished tasks, ${scope} (${teamPage.items.length}${teamPage.next_cursor ? "+" : ""})`),
      teamPage.items.length ? taskTable(teamPage.items, scope) : el("p", { class: "muted" }, "No unfinished tasks."),
    );
  }

  function taskTable(items, caption) {
    return table(
      `Tasks of ${caption}, highest priority first, then the most overdue, then the oldest; value at risk over the next 12 months`,
      [
        { head: "Customer", cell: (t) => el("a", { href: `/customers/${encodeURIComponent(t.customer_id)}` }, t.customer_id) },
        ...(pii ? [{ head: "Contact", cell: (t) => contactCell(t.contact) }] : []),
        { head: "Why", cell: (t) => el("span", {}, label(t.playbook_id), el("br"), el("small", { class: "muted" }, (t.reasons[0] || {}).text || "")) },
        { head: "Tier", cell: (t) => t.tier },
        { head: "P(churn)", num: true, cell: (t) => pct(t.churn_probability, 0) },
        { head: "Value at risk", num: true, cell: (t) => money(t.value_at_risk) },
        { head: "State", cell: (t) => el("span", { class: `state state-${t.state}` }, label(t.state)) },
        { head: "SLA (first contact)", cell: (t) => (t.overdue ? el("span", { class: "badge overdue" }, `overdue, due ${due(t.sla_due_at)}`) : t.first_contact_at ? "contacted" : `due ${due(t.sla_due_at)}`) },
        { head: "Assignee", cell: (t) => t.assignee || el("span", { class: "muted" }, "nobody") },
        { head: "Actions", cell: (t) => taskActions(t, who, load) },
      ],
      items,
      { rowAttrs: (t) => ({ "data-task": t.task_id, class: t.overdue ? "overdue" : null }) },
    );
  }

  await load();
  follow(["task"], () => load());
}

/** Whom to call: the name, a tel: link and a mailto: link (null: nothing stored, or erased). */
function contactCell(c) {
  if (!c || (!c.name && !c.phone && !c.email)) return el("span", { class: "muted" }, "no details");
  const dial = c.phone ? c.phone.replace(/[^0-9+*#]/g, "") : "";
  return el(
    "span",
    { class: "contact" },
    c.name ? el("span", {}, c.name) : null,
    c.phone ? [c.name ? el("br") : null, el("a", { href: `tel:${dial}`, class: "tel" }, c.phone)] : null,
    c.email ? [c.name || c.phone ? el("br") : null, el("a", { href: `mailto:${c.email}`, class: "mail" }, c.email)] : null,
  );
}
