// The at-risk list: filters, sort, cursor paging (one page at a time: never the whole
// population), a CSV export of what the filters show, and live band changes from /v1/live.
import { api, bandBadge, cfg, el, field, label, money, pct, show, status, table, when } from "../lib.js";
import { follow } from "../live.js";

const BANDS = ["low", "medium", "high", "critical"];
const TIERS = ["platinum", "gold", "silver", "bronze"];
const SEGMENTS = ["champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
  "about_to_sleep", "at_risk", "cannot_lose_them", "hibernating", "lost"];
const STAGES = ["new", "active", "repeat", "at_risk", "lapsed", "churned", "reactivated"];
const SORTS = { value_at_risk: "Value at risk", churn_probability: "Churn probability", clv: "CLV", event_time: "Last change" };

function multi(name, values, chosen) {
  return el("select", { name, multiple: true, size: Math.min(values.length, 4) },
    values.map((v) => el("option", { value: v, selected: chosen.includes(v) }, label(v))));
}

function single(name, options, chosen) {
  return el("select", { name }, Object.entries(options).map(([v, t]) => el("option", { value: v, selected: v === chosen }, t)));
}

export default async function atRisk() {
  const url = new URLSearchParams(location.search);
  const band = multi("band", BANDS, url.getAll("band").length ? url.getAll("band") : ["high", "critical"]);
  const tier = multi("tier", TIERS, url.getAll("tier"));
  const segment = multi("segment", SEGMENTS, url.getAll("segment"));
  const stage = multi("stage", STAGES, url.getAll("stage"));
  const playbook = el("input", { type: "text", name: "playbook", value: url.get("playbook") || "", size: 14, placeholder: "any" });
  const openTask = single("has_open_task", { "": "either", true: "with an open task", false: "without" }, url.get("has_open_task") || "");
  const sort = single("sort", SORTS, url.get("sort") || "value_at_risk");
  const order = single("order", { desc: "highest first", asc: "lowest first" }, url.get("order") || "desc");
  const limit = single("limit", { 25: "25", 50: "50", 100: "100" }, url.get("limit") || "50");
  const csv = el("a", { class: "btn", download: true }, "Export CSV");
  const list = el("div", { id: "list" });
  const pager = el("nav", { class: "pager", "aria-label": "Pages of the list" });
  const form = el(
    "form",
    { class: "filters", "aria-label": "Filters", onsubmit: (ev) => { ev.preventDefault(); cursors = [null]; load(); } },
    field("Band", band), field("Tier", tier), field("RFM segment", segment), field("Lifecycle stage", stage),
    field("Playbook matched", playbook), field("Open task", openTask), field("Sort by", sort), field("Order", order),
    field("Rows per page", limit),
    el("div", { class: "field" }, el("button", { type: "submit", class: "primary" }, "Apply filters"), csv),
  );
  show(el("p", { class: "muted" },
    `Churn probability: within ${cfg.horizonDays} days. Value at risk = churn probability × value if retained (${cfg.valueMonths} months, ${cfg.currency}).`),
    form, list, pager);

  let cursors = [null]; // cursors[i] fetches page i (null: the first)
  function query() {
    const q = new URLSearchParams();
    for (const s of [band, tier, segment, stage]) for (const o of s.selectedOptions) q.append(s.name, o.value);
    if (playbook.value.trim()) q.set("playbook", playbook.value.trim());
    if (openTask.value) q.set("has_open_task", openTask.value);
    q.set("sort", sort.value);
    q.set("order", order.value);
    return q;
  }

  async function load() {
    const q = query();
    csv.href = `/v1/at-risk.csv?${q}`;
    history.replaceState(null, "", `/at-risk?${q}&limit=${limit.value}`);
    const page = new URLSearchParams(q);
    page.set("limit", limit.value);
    const at = cursors.length - 1;
    if (cursors[at]) page.set("cursor", cursors[at]);
    list.setAttribute("aria-busy", "true");
    const data = await api(`/v1/at-risk?${page}`);
    list.removeAttribute("aria-busy");
    list.replaceChildren(
      data.items.length
        ? table(
            `Page ${at + 1}: ${data.items.length} customers, sorted by ${SORTS[sort.value].toLowerCase()}, ${order.value === "desc" ? "highest" : "lowest"} first`,
            [
              { head: "Customer", cell: (r) => el("a", { href: `/customers/${encodeURIComponent(r.customer_id)}` }, r.customer_id) },
              { head: "Band", cell: (r) => bandBadge(r.band) },
              { head: "P(churn)", num: true, cell: (r) => pct(r.churn_probability, 0) },
              { head: "Value at risk", num: true, cell: (r) => money(r.value_at_risk) },
              { head: `CLV (${cfg.valueMonths} mo)`, num: true, cell: (r) => money(r.clv) },
              { head: "Tier", cell: (r) => r.tier },
              { head: "Stage", cell: (r) => label(r.lifecycle_stage) },
              { head: "Segment", cell: (r) => label(r.rfm_segment) },
              { head: "Top reason", cell: (r) => (r.reasons[0] || {}).text || "–" },
              { head: "Open task", cell: (r) => (r.has_open_task ? "yes" : "no") },
              { head: "Last change", cell: (r) => when(r.event_time) },
            ],
            data.items,
            { rowAttrs: (r) => ({ "data-customer": r.customer_id }) },
          )
        : el("p", { class: "muted" }, "No customer matches these filters."),
    );
    pager.replaceChildren(
      el("button", { type: "button", disabled: at === 0, onclick: () => { cursors.pop(); load(); } }, "← Previous page"),
      " ",
      el("span", {}, `page ${at + 1}`),
      " ",
      el("button", { type: "button", disabled: !data.next_cursor, onclick: () => { cursors.push(data.next_cursor); load(); } }, "Next page →"),
    );
    list.dataset.rendered = String(Date.now());
  }

  await load();
  follow(["band_change"], (events) => {
    if (cursors.length === 1) {
      status(`${events.length} band change${events.length > 1 ? "s" : ""} just now: list refreshed.`);
      load();
    } else {
      status(`${events.length} band change${events.length > 1 ? "s" : ""} since this page loaded.`);
    }
  });
}
