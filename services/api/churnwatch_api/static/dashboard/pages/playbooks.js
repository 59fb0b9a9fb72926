// Playbooks: the stored ones with enable/disable, a YAML editor whose validation errors point at
// the YAML path (and the line it is on), and each playbook's uplift with 95 % intervals.
import { api, can, cfg, el, field, interval, label, me, money, num, pct, problemBox, show, status, table, when } from "../lib.js";
import { whisker } from "../charts.js";

/**
 * The 1-based line a path such as "playbooks[0].trigger.type" points at, or null: each segment
 * is looked for after the previous one's line (a heuristic for block and flow YAML).
 */
export function lineOf(text, path) {
  const lines = text.split("\n");
  let at = 0;
  let found = false;
  for (const seg of path.split(".").flatMap((s) => s.split(/(?=\[)/))) {
    const idx = /^\[(\d+)\]$/.exec(seg);
    if (idx) {
      let n = Number(idx[1]);
      let k = at + (found ? 1 : 0);
      for (; k < lines.length; k++) if (/^\s*-\s/.test(lines[k]) && n-- === 0) break;
      if (k >= lines.length) return found ? at + 1 : null;
      at = k;
    } else {
      const re = new RegExp(`(^|[\\s{,-])${seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*:`);
      let k = at;
      while (k < lines.length && !re.test(lines[k])) k++;
      if (k >= lines.length) return found ? at + 1 : null;
      at = k;
    }
    found = true;
  }
  return found ? at + 1 : null;
}

export default async function playbooks() {
  const who = await me();
  const write = can(who, "playbooks:write");
  const listBox = el("section", { "aria-labelledby": "h-list" });
  const editor = el("textarea", { name: "document", rows: 16, cols: 80, spellcheck: "false", "aria-describedby": "yaml-errors" });
  const errors = el("div", { id: "yaml-errors", "aria-live": "polite" });
  const editBox = el("section", { "aria-labelledby": "h-edit" }, el("h2", { id: "h-edit" }, "Edit a playbook"),
    el("p", { class: "muted" }, "Pick a playbook's Edit button, change it, bump its version, validate, then apply. Applying stores a new version and enables it."),
    el("form", { onsubmit: (ev) => ev.preventDefault() },
      field("Playbook document (YAML)", editor),
      el("div", { class: "actions" },
        el("button", { type: "button", onclick: () => check(false), disabled: !write }, "Validate"),
        el("button", { type: "button", class: "primary", onclick: () => check(true), disabled: !write }, "Apply")),
      errors),
    write ? null : el("p", { class: "muted" }, "Validating and applying need a key with playbooks:write."));
  const upliftBox = el("section", { "aria-labelledby": "h-uplift" });
  show(listBox, editBox, upliftBox);

  function showIssues(list) {
    const text = editor.value;
    errors.replaceChildren(el("div", { class: "note error", role: "alert" }, el("strong", {}, `${list.length} problem${list.length > 1 ? "s" : ""} in the document`),
      el("ul", {}, list.map((e) => {
        const line = lineOf(text, e.field);
        return el("li", {}, el("code", {}, e.field), line ? el("button", { type: "button", class: "link", onclick: () => goTo(line) }, ` (line ${line})`) : null, ": ", e.message);
      }))));
  }

  function goTo(line) {
    const lines = editor.value.split("\n");
    const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    editor.focus();
    editor.setSelectionRange(start, start + lines[line - 1].length);
  }

  async function check(apply) {
    errors.replaceChildren();
    try {
      if (!apply) {
        const v = await api("/v1/playbooks/validate", { method: "POST", body: { document: editor.value } });
        if (v.valid) errors.replaceChildren(el("p", { class: "note ok" }, `Valid: ${v.playbooks.join(", ")}.`));
        else showIssues(v.errors);
        return;
      }
      const done = await api("/v1/playbooks", { method: "POST", body: { document: editor.value } });
      errors.replaceChildren(el("p", { class: "note ok" }, done.map((a) => `${a.id} v${a.version}: ${a.status}`).join("; ")));
      await loadList();
    } catch (err) {
      if (err.problem && err.problem.errors && err.status === 422) showIssues(err.problem.errors);
      else errors.replaceChildren(problemBox(err));
    }
  }

  async function loadList() {
    const rows = await api("/v1/playbooks?all=true");
    const byId = new Map();
    for (const r of rows) {
      const cur = byId.get(r.id);
      if (!cur || r.enabled || (!cur.enabled && r.version > cur.version)) byId.set(r.id, { ...r, versions: (cur?.versions || 0) + 1 });
      else cur.versions += 1;
    }
    const list = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
    listBox.replaceChildren(el("h2", { id: "h-list" }, `Playbooks (${list.length})`),
      table("Each playbook's enabled version (else its newest)", [
        { head: "Playbook", cell: (p) => el("span", {}, el("strong", {}, p.id), el("br"), el("small", { class: "muted" }, p.name)) },
        { head: "Version", num: true, cell: (p) => `v${p.version} of ${p.versions}` },
        { head: "Trigger", cell: (p) => label(p.trigger) },
        { head: "Action", cell: (p) => label(p.action) },
        { head: "Holdout", num: true, cell: (p) => pct(p.holdout, 0) },
        { head: "State", cell: (p) => (p.enabled ? el("span", { class: "badge on" }, "enabled") : el("span", { class: "badge off" }, "disabled")) },
        { head: "Actions", cell: (p) => el("div", { class: "actions" },
            el("button", { type: "button", onclick: () => edit(p.id) }, "Edit"),
            write ? el("button", { type: "button", onclick: () => toggle(p) }, p.enabled ? "Disable" : "Enable") : null) },
      ], list, { rowAttrs: (p) => ({ "data-playbook": p.id }) }));
  }

  async function edit(id) {
    const shown = await api(`/v1/playbooks/${encodeURIComponent(id)}`);
    editor.value = shown.yaml;
    errors.replaceChildren();
    editor.focus();
  }

  async function toggle(p) {
    try {
      await api(`/v1/playbooks/${encodeURIComponent(p.id)}/${p.enabled ? "disable" : "enable"}`, { method: "POST" });
      status(`${p.id} ${p.enabled ? "disabled" : "enabled"}.`);
      await loadList();
    } catch (err) {
      document.getElementById("status").replaceChildren(problemBox(err));
    }
  }

  async function loadUplift() {
    const all = await api("/v1/uplift");
    upliftBox.replaceChildren(el("h2", { id: "h-uplift" }, "Uplift: what the playbooks really change"),
      el("p", { class: "muted" }, "Honest save rate = retention of treated − retention of the held-out control over the horizon, with its 95 % interval (the bar: interval around 0, dot: estimate). The raw save rate (tasks won ÷ closed) is not an effect."),
      all.length ? all.map(upliftOf) : el("p", { class: "muted" }, "No playbook has exposed a customer yet."));
  }

  await Promise.all([loadList(), loadUplift()]);
}

function upliftOf(u) {
  if (!u.report) {
    return el("div", { class: "card" }, el("h3", {}, label(u.playbook_id), " — no uplift report yet; counts so far"),
      table("Exposures from the first on (rates need a judged horizon)", [
        { head: "Tier", cell: (s) => s.segment },
        { head: "Treated", num: true, cell: (s) => num(s.treated) },
        { head: "Control", num: true, cell: (s) => num(s.control) },
        { head: "Judged (treated / control)", num: true, cell: (s) => `${num(s.resolved_treated)} / ${num(s.resolved_control)}` },
        { head: "Churned (treated / control)", num: true, cell: (s) => `${num(s.churned_treated)} / ${num(s.churned_control)}` },
        { head: "Since", cell: (s) => when(s.first_exposed_at) },
      ], u.so_far));
  }
  const r = u.report;
  return el("div", { class: "card", "data-uplift": u.playbook_id }, el("h3", {}, label(u.playbook_id)),
    el("p", { class: "muted" }, `Computed ${when(r.computed_at)}, exposures judged at ${when(r.watermark)} over a ${r.horizon_days}-day horizon.`),
    table("By tier at exposure", [
      { head: "Tier", cell: (s) => s.segment },
      { head: "Treated / control", num: true, cell: (s) => `${num(s.treated)} / ${num(s.control)}` },
      { head: "Churn treated / control", num: true, cell: (s) => `${pct(s.churn_treated)} / ${pct(s.churn_control)}` },
      { head: "Honest save rate (95 %)", cell: (s) => el("span", {}, interval(s.honest_save_rate), " ", whisker(s.honest_save_rate)) },
      { head: "Customers saved", cell: (s) => interval(s.customers_saved, num) },
      { head: `Value saved (${cfg.currency})`, cell: (s) => interval(s.value_saved, money) },
      { head: "Raw save rate", num: true, cell: (s) => `${pct(s.raw_save_rate)} (${num(s.tasks_won)}/${num(s.tasks_closed)})` },
    ], r.segments));
}
