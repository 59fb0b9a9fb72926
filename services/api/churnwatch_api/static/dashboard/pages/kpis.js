// KPIs as charts: daily series in event time (GET /v1/kpis), cut by tier, segment, source or
// playbook, each with its definition and unit; the save rate over the period as a headline;
// customers and value by tier (GET /v1/kpis/tiers).
import { api, cfg, day, el, field, label, money, num, pct, show, table } from "../lib.js";
import { timeChart, ts } from "../charts.js";

const UNIT = { share: "%", money: cfg.currency, count: "", ratio: "", money_per_tx: `${cfg.currency}/transaction`, tx_per_customer: "transactions/customer" };

/** Σ numerators ÷ Σ denominators of a task KPI over the period (all its cut values). */
export function pooled(kpi) {
  let n = 0;
  let m = 0;
  for (const s of kpi.series) for (const p of s.points) { n += p.numerator || 0; m += p.denominator || 0; }
  return { n, m, rate: m ? n / m : null };
}

export default async function kpis() {
  const url = new URLSearchParams(location.search);
  const cut = el("select", { name: "cut" }, ["all", "tier", "segment", "source", "playbook"].map((c) => el("option", { value: c, selected: c === (url.get("cut") || "all") }, c === "all" ? "no cut (all customers)" : `by ${c}`)));
  const from = el("input", { type: "date", name: "from", value: url.get("from") || "" });
  const to = el("input", { type: "date", name: "to", value: url.get("to") || "" });
  const body = el("div");
  const form = el("form", { class: "filters", onsubmit: (ev) => { ev.preventDefault(); load(); } },
    field("Cut", cut), field("From (UTC day)", from, "default: 30 days to the newest"), field("To", to),
    el("div", { class: "field" }, el("button", { type: "submit", class: "primary" }, "Show")));
  show(form, body);

  async function load() {
    const q = new URLSearchParams({ cut: cut.value });
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    history.replaceState(null, "", `/kpis?${q}`);
    const [rep, tiers] = await Promise.all([api(`/v1/kpis?${q}`), api("/v1/kpis/tiers")]);
    const period = `${day(rep.from)} to ${day(rep.to)}`;
    const save = rep.kpis.find((k) => k.name === "save_rate_raw");
    const sla = rep.kpis.find((k) => k.name === "sla_attainment");
    const heads = [];
    for (const [k, title] of [[save, "Save rate (raw)"], [sla, "SLA attainment"]]) {
      if (!k) continue;
      const p = pooled(k);
      heads.push(el("div", { class: "card", "data-kpi": k.name }, el("h2", {}, title),
        el("p", { class: "big" }, pct(p.rate)),
        el("p", { class: "muted" }, `${num(p.n)} of ${num(p.m)} tasks, ${period}`),
        el("p", { class: "muted small" }, k.definition)));
    }
    const charts = rep.kpis.map((k) => {
      const days = [...new Set(k.series.flatMap((s) => s.points.map((p) => p.day)))].sort();
      const xs = days.map(ts);
      const series = k.series.slice(0, 8).map((s) => {
        const byDay = new Map(s.points.map((p) => [p.day, p.value]));
        return { label: s.cut_value, values: days.map((d) => byDay.get(d) ?? null) };
      });
      if (k.name === "honest_save_rate") {
        for (const s of k.series.slice(0, 4)) {
          const byDay = new Map(s.points.map((p) => [p.day, p]));
          series.push({ label: `${s.cut_value} 95 % low`, values: days.map((d) => byDay.get(d)?.low ?? null), dash: [4, 4], width: 1 });
          series.push({ label: `${s.cut_value} 95 % high`, values: days.map((d) => byDay.get(d)?.high ?? null), dash: [4, 4], width: 1 });
        }
      }
      const unit = UNIT[k.unit] ?? "";
      return el("div", { "data-kpi": k.name }, timeChart({
        title: k.title,
        caption: `${k.definition} Unit: ${unit || "number"}; daily, ${period} (event time, UTC).`,
        xs, series, unit, height: 180,
      }));
    });
    body.replaceChildren(
      el("section", { class: "cards", "aria-label": "Headlines" }, heads),
      el("section", { "aria-labelledby": "h-tiers" }, el("h2", { id: "h-tiers" }, "Customers and value by tier, now"),
        table(tiers.definition, [
          { head: "Tier", cell: (r) => r.tier },
          { head: "Customers", num: true, cell: (r) => num(r.customers) },
          { head: "Share", num: true, cell: (r) => pct(r.share) },
          { head: `Value if retained (${cfg.valueMonths} mo)`, num: true, cell: (r) => money(r.value) },
          { head: "Value at risk", num: true, cell: (r) => money(r.value_at_risk) },
        ], tiers.tiers)),
      el("section", { "aria-labelledby": "h-series", class: "grid2" }, el("h2", { id: "h-series" }, `Daily series, ${period}`), charts),
      rep.not_available.length
        ? el("details", {}, el("summary", {}, `${rep.not_available.length} KPIs not kept for this cut`),
            el("ul", {}, rep.not_available.map((n) => el("li", {}, label(n.name), ": ", n.reason))))
        : null,
    );
  }
  await load();
}
