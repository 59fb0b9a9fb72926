// The RFM grid (recency × frequency, customers per cell, now) with its named segments, and the
// lifecycle funnel with exit reasons over a period (GET /v1/kpis/rfm, /v1/kpis/funnel).
import { api, cfg, day, el, label, money, num, show, table } from "../lib.js";
import { bars } from "../charts.js";

export default async function segments() {
  const [rfm, funnel] = await Promise.all([api("/v1/kpis/rfm"), api("/v1/kpis/funnel")]);
  const max = Math.max(1, ...rfm.grid.map((c) => c.customers));
  const cell = (r, f) => rfm.grid.find((c) => c.recency === r && c.frequency === f) || { customers: 0 };
  const grid = el("table", { class: "heat" },
    el("caption", {}, "Customers per recency × frequency score, now (5 = most recent / most frequent)"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Recency ↓ / Frequency →"), [1, 2, 3, 4, 5].map((f) => el("th", { scope: "col" }, `F${f}`)))),
    el("tbody", {}, [5, 4, 3, 2, 1].map((r) => el("tr", {}, el("th", { scope: "row" }, `R${r}`),
      [1, 2, 3, 4, 5].map((f) => {
        const n = cell(r, f).customers;
        const a = n / max;
        return el("td", { class: "num", style: { background: `rgba(31, 95, 191, ${0.08 + 0.6 * a})`, color: a > 0.6 ? "#fff" : "inherit" } }, num(n));
      })))));
  const period = `${day(funnel.from)} to ${day(funnel.to)}`;
  show(
    el("section", { "aria-labelledby": "h-rfm" }, el("h2", { id: "h-rfm" }, "RFM grid"),
      el("p", { class: "muted" }, rfm.definition), grid,
      table(`Named RFM segments, now; value if retained over ${cfg.valueMonths} months`, [
        { head: "Segment", cell: (s) => label(s.segment) },
        { head: "Customers", num: true, cell: (s) => num(s.customers) },
        { head: "Value if retained", num: true, cell: (s) => money(s.value) },
        { head: "Value at risk", num: true, cell: (s) => money(s.value_at_risk) },
      ], rfm.segments)),
    el("section", { "aria-labelledby": "h-funnel" }, el("h2", { id: "h-funnel" }, "Lifecycle funnel"),
      el("p", { class: "muted" }, funnel.definition),
      bars("Customers in each stage now", funnel.stages.map((s) => ({ label: label(s.stage), value: s.customers_now, text: `${num(s.customers_now)} customers` }))),
      bars(`Customers entering each stage, ${period}`, funnel.stages.map((s) => ({ label: label(s.stage), value: s.entered, text: `${num(s.entered)} entered` }))),
      funnel.exit_reasons.length
        ? bars(`Exit reasons of cancellations, ${period}`, funnel.exit_reasons.map((e) => ({ label: label(e.reason), value: e.cancellations, text: `${num(e.cancellations)} cancellations` })))
        : el("p", { class: "muted" }, `No cancellation with a reason, ${period}.`)),
  );
}
