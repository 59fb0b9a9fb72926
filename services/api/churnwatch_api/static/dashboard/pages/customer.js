// The customer single view: why at risk (reasons in words), what they are worth (with the CLV's
// interval), the score over time with its band changes and the actions taken, open tasks to
// work, contact details (only with pii:read), consent, and the paged timeline.
import { api, bandBadge, cfg, el, label, me, money, pct, show, table, when } from "../lib.js";
import { timeChart, ts } from "../charts.js";
import { taskActions } from "../tasks.js";

const MAX_TIMELINE = 1000; // the chart reads at most this many recent changes (two pages)

async function timeline(id) {
  const items = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ limit: "500" });
    if (cursor) q.set("cursor", cursor);
    const page = await api(`/v1/customers/${encodeURIComponent(id)}/timeline?${q}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < MAX_TIMELINE);
  return { items, more: !!cursor };
}

function scoreChart(items) {
  const scores = items.filter((i) => i.kind === "score" || i.kind === "band_change").reverse();
  const actions = items.filter((i) => i.kind === "action").reverse();
  const xsSet = new Set([...scores, ...actions].map((i) => ts(i.at)));
  const xs = [...xsSet].sort((a, b) => a - b);
  const at = (list) => {
    const m = new Map(list.map((i) => [ts(i.at), i]));
    return xs.map((x) => m.get(x));
  };
  const byX = at(scores);
  let last = null;
  const prob = xs.map((x, k) => (byX[k] ? (last = byX[k].detail.churn_probability) : null));
  const bandPts = at(scores.filter((i) => i.kind === "band_change")).map((i) => (i ? i.detail.churn_probability : null));
  const actPts = at(actions).map((i) => {
    if (!i) return null;
    const before = scores.filter((s) => s.at <= i.at).pop();
    return before ? before.detail.churn_probability : 0;
  });
  const marks = [
    ...scores.filter((i) => i.kind === "band_change").map((i) => ({ kind: "band", text: `${when(i.at)}: band ${i.detail.previous_band || "none"} → ${i.detail.band} (${pct(i.detail.churn_probability, 0)})` })),
    ...actions.map((i) => ({ kind: "action", text: `${when(i.at)}: ${label(i.detail.playbook_id)} — ${i.detail.arm === "control" ? "held out (no action)" : label(i.detail.action_type || "action")}${i.detail.outcome ? `, outcome ${label(i.detail.outcome)}` : ""}` })),
  ];
  return timeChart({
    title: "Churn probability over time",
    caption: `probability of churn within ${cfg.horizonDays} days at each score change (event time); band changes and actions marked`,
    xs,
    unit: "%",
    yRange: [0, 1],
    series: [
      { label: "churn probability", values: prob, paths: undefined, points: false },
      { label: "band change", values: bandPts, color: "#b91c1c", paths: () => null, points: true, pointSize: 9 },
      { label: "action", values: actPts, color: "#15803d", paths: () => null, points: true, pointSize: 11 },
    ].map((s, k) => (k === 0 ? { ...s, spanGaps: true } : s)),
    marks,
  });
}

export default async function customer() {
  const id = document.body.dataset.customer;
  const who = await me();
  const [c, tl] = await Promise.all([api(`/v1/customers/${encodeURIComponent(id)}`), timeline(id)]);
  const s = c.score;
  const v = c.value;
  const head = el(
    "section",
    { class: "cards", "aria-label": "Summary" },
    el("div", { class: "card" }, el("h2", {}, "Risk"),
      s ? el("p", { class: "big" }, bandBadge(s.band), " ", pct(s.churn_probability, 0)) : el("p", {}, "not scored"),
      el("p", { class: "muted" }, `probability of churn within ${cfg.horizonDays} days`),
      s ? el("p", { class: "muted" }, `scored ${when(s.event_time)} by ${s.model_version} (${label(s.cause)})`) : null),
    el("div", { class: "card" }, el("h2", {}, "Worth"),
      v ? el("dl", { class: "kv" },
        el("dt", {}, `Value if retained (${cfg.valueMonths} months)`), el("dd", {}, money(v.value_if_retained)),
        el("dt", {}, `CLV (${cfg.valueMonths} months, risk priced in)`), el("dd", {}, money(v.clv), " ",
          v.clv_low !== null ? el("span", { class: "muted" }, `(90 % interval ${money(v.clv_low)} – ${money(v.clv_high)})`) : el("span", { class: "muted" }, "(no interval yet)")),
        el("dt", {}, "Value at risk"), el("dd", {}, money(v.value_at_risk))) : el("p", {}, "–")),
    el("div", { class: "card" }, el("h2", {}, "Customer"),
      el("dl", { class: "kv" },
        el("dt", {}, "Tier"), el("dd", {}, c.tier || "–"),
        el("dt", {}, "Lifecycle stage"), el("dd", {}, label(c.lifecycle_stage)),
        el("dt", {}, "RFM segment"), el("dd", {}, label(c.rfm_segment)),
        el("dt", {}, "Business model"), el("dd", {}, s ? s.business_model : "–"),
        el("dt", {}, "Holdout"), el("dd", {}, c.holdout.length ? c.holdout.map((h) => `${label(h.playbook_id)} since ${when(h.since)}`).join("; ") : "none"))),
    contactCard(c, who),
  );
  const reasons = el("section", { "aria-labelledby": "h-why" }, el("h2", { id: "h-why" }, "Why at risk"),
    s && s.reasons.length ? el("ol", { class: "reasons" }, s.reasons.map((r) => el("li", {}, r.text, r.weight ? el("small", { class: "muted" }, ` (weight ${r.weight.toFixed(2)})`) : null))) : el("p", { class: "muted" }, "No reasons recorded."));
  const tasks = el("section", { "aria-labelledby": "h-tasks" });
  const renderTasks = async () => {
    const fresh = await api(`/v1/customers/${encodeURIComponent(id)}`);
    fillTasks(fresh);
  };
  const fillTasks = (cust) => tasks.replaceChildren(
    el("h2", { id: "h-tasks" }, `Open tasks (${cust.open_tasks.length})`),
    cust.open_tasks.length
      ? table("Tasks to work for this customer", [
          { head: "Playbook", cell: (t) => label(t.playbook_id) },
          { head: "Action", cell: (t) => label(t.action_type) },
          { head: "State", cell: (t) => el("span", { class: `state state-${t.state}` }, label(t.state)) },
          { head: "Assignee", cell: (t) => t.assignee || "nobody" },
          { head: "SLA", cell: (t) => (t.overdue ? el("span", { class: "badge overdue" }, "overdue") : `due ${when(t.sla_due_at)}`) },
          { head: "Talking points", cell: (t) => el("ul", {}, t.talking_points.map((p) => el("li", {}, p))) },
          { head: "Actions", cell: (t) => taskActions(t, who, renderTasks) },
        ], cust.open_tasks, { rowAttrs: (t) => ({ "data-task": t.task_id }) })
      : el("p", { class: "muted" }, "No open task."),
    cust.tasks.some((t) => t.closed_at)
      ? table("Closed tasks", [
          { head: "Playbook", cell: (t) => label(t.playbook_id) },
          { head: "Outcome", cell: (t) => label(t.outcome || t.state) },
          { head: "Closed", cell: (t) => when(t.closed_at) },
          { head: "First contact in SLA", cell: (t) => (t.in_sla === null ? "–" : t.in_sla ? "yes" : "no") },
        ], cust.tasks.filter((t) => t.closed_at))
      : null,
  );
  fillTasks(c);
  const actions = el("section", { "aria-labelledby": "h-actions" }, el("h2", { id: "h-actions" }, "Actions taken"),
    c.actions.length
      ? table("Playbook actions, newest first (control: held out to measure uplift)", [
          { head: "When", cell: (a) => when(a.exposed_at) },
          { head: "Playbook", cell: (a) => `${label(a.playbook_id)} v${a.playbook_version}` },
          { head: "Arm", cell: (a) => (a.arm === "control" ? "held out" : "treated") },
          { head: "Action", cell: (a) => label(a.action_type) },
          { head: "Outcome", cell: (a) => label(a.outcome) },
          { head: "Churned", cell: (a) => (a.churned === null ? "not judged yet" : a.churned ? "yes" : "no") },
        ], c.actions)
      : el("p", { class: "muted" }, "No action yet."));
  const recent = tl.items.slice(0, 50);
  const history = el("section", { "aria-labelledby": "h-timeline" }, el("h2", { id: "h-timeline" }, "Timeline"),
    table(`The ${recent.length} newest changes${tl.more || tl.items.length > 50 ? " (older ones in the API's timeline)" : ""}`, [
      { head: "When", cell: (i) => when(i.at) },
      { head: "What", cell: (i) => label(i.kind) },
      { head: "Detail", cell: (i) => describe(i) },
    ], recent));
  show(head, reasons, el("section", { "aria-label": "Score chart" }, scoreChart(tl.items)), tasks, actions, history);
}

function contactCard(c, who) {
  const card = el("div", { class: "card" }, el("h2", {}, "Contact"));
  if (!who.scopes.includes("pii:read") && !who.scopes.includes("admin")) {
    card.append(el("p", { class: "muted" }, "Contact details need a key with pii:read."));
  } else if (!c.contact) {
    card.append(el("p", { class: "muted" }, "No contact details stored."));
  } else {
    const { name, email, phone } = c.contact;
    card.append(el("dl", { class: "kv" },
      el("dt", {}, "Name"), el("dd", {}, name || "–"),
      el("dt", {}, "Email"), el("dd", {}, email ? el("a", { href: `mailto:${email}` }, email) : "–"),
      el("dt", {}, "Phone"), el("dd", {}, phone ? el("a", { href: `tel:${phone}` }, phone) : "–")));
  }
  const consent = Object.entries(c.consent).map(([ch, ok]) => `${ch} ${ok === null ? "?" : ok ? "yes" : "no"}`).join(" · ");
  card.append(el("p", { class: "muted" }, `Consent: ${consent}`));
  return card;
}

function describe(i) {
  const d = i.detail;
  switch (i.kind) {
    case "band_change": return `band ${d.previous_band || "none"} → ${d.band}, ${pct(d.churn_probability, 0)}, value at risk ${money(d.value_at_risk)}`;
    case "score": return `${pct(d.churn_probability, 0)} (${d.band})`;
    case "stage": return `${label(d.previous || "none")} → ${label(d.stage)}`;
    case "action": return `${label(d.playbook_id)}: ${d.arm === "control" ? "held out" : label(d.action_type)}${d.outcome ? `, ${label(d.outcome)}` : ""}`;
    case "task": return `task ${label(d.from_state || "created")} → ${label(d.to_state)} by ${d.actor}${d.note ? ` — "${d.note}"` : ""}`;
    default: return JSON.stringify(d);
  }
}
