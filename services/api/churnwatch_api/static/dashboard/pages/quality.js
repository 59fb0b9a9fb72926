// Data quality per source: accepted, rejected by reason, duplicates, late events, DLQ records,
// per day received (UTC wall clock). GET /v1/quality.
import { api, day, el, field, label, num, pct, show, table } from "../lib.js";
import { timeChart, ts } from "../charts.js";

const OUTCOMES = ["accepted", "duplicate", "rejected", "dlq", "late"];

export default async function quality() {
  const from = el("input", { type: "date", name: "from" });
  const to = el("input", { type: "date", name: "to" });
  const body = el("div");
  show(el("form", { class: "filters", onsubmit: (ev) => { ev.preventDefault(); load(); } },
    field("From (UTC day)", from, "default: the last 30 days"), field("To", to),
    el("div", { class: "field" }, el("button", { type: "submit", class: "primary" }, "Show"))), body);

  async function load() {
    const q = new URLSearchParams();
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    const rep = await api(`/v1/quality?${q}`);
    const period = `${day(rep.from)} to ${day(rep.to)}`;
    const total = (s) => OUTCOMES.reduce((a, o) => a + s[o], 0);
    body.replaceChildren(
      rep.sources.length
        ? table(`Events per source, ${period} (received, UTC)`, [
            { head: "Source", cell: (s) => s.source },
            ...OUTCOMES.map((o) => ({ head: label(o), num: true, cell: (s) => num(s[o]) })),
            { head: "Rejected or DLQ", num: true, cell: (s) => pct(total(s) ? (s.rejected + s.dlq) / total(s) : null) },
            { head: "Reasons", cell: (s) => Object.entries({ ...s.rejected_by_reason, ...Object.fromEntries(Object.entries(s.dlq_by_reason).map(([k, v]) => [`dlq: ${k}`, v])) }).map(([k, v]) => `${label(k)} ${num(v)}`).join("; ") || "–" },
          ], rep.sources)
        : el("p", { class: "muted" }, `No events received, ${period}.`),
      el("div", { class: "grid2" }, rep.sources.map((s) => {
        const days = [...s.days].sort((a, b) => (a.day < b.day ? -1 : 1));
        return timeChart({
          title: `Source ${s.source}`,
          caption: `events per day by outcome (count), ${period}`,
          xs: days.map((d) => ts(d.day)),
          series: OUTCOMES.map((o) => ({ label: label(o), values: days.map((d) => d[o]) })),
          height: 170,
        });
      })),
    );
  }
  await load();
}
