// Model quality: what is serving, prequential AUC / log loss / Brier of the champion, the
// challenger and the rule prior over time, the newest calibration curve, and the learner's
// decisions (the prior → learned switch, promotions, drift alarms). GET /v1/model.
import { api, dec, el, label, num, show, table, when } from "../lib.js";
import { timeChart, ts, xyChart } from "../charts.js";

const METRICS = [
  ["auc", "AUC", "higher is better; 0.5 = chance"],
  ["log_loss", "Log loss", "lower is better"],
  ["brier", "Brier score", "lower is better"],
];

export default async function model() {
  const m = await api("/v1/model");
  const hist = [...m.history].sort((a, b) => (a.at < b.at ? -1 : 1));
  const xs = hist.map((h) => ts(h.at));
  const period = hist.length ? `${when(hist[0].at)} to ${when(hist[hist.length - 1].at)}` : "no checkpoint yet";
  const charts = METRICS.map(([key, title, better]) => timeChart({
    title,
    caption: `prequential (each label scored before it was learned), per learner checkpoint, ${period}; ${better}`,
    xs,
    series: [
      { label: "champion", values: hist.map((h) => h.champion[key]) },
      { label: "challenger", values: hist.map((h) => (h.challenger ? h.challenger[key] : null)) },
      { label: "rule prior", values: hist.map((h) => h.prior[key]), dash: [5, 5] },
    ],
    height: 180,
  }));
  const cal = m.current ? m.current.champion.calibration : [];
  const calFig = xyChart({
    title: "Calibration (newest checkpoint)",
    caption: "10 equal-count bins: mean predicted churn probability (x) against the observed churn rate (y); the diagonal is perfect",
    xs: cal.map((b) => b.mean_predicted ?? b.predicted ?? 0),
    series: [
      { label: "observed rate", values: cal.map((b) => b.observed_rate ?? b.observed ?? null) },
      { label: "perfect", values: cal.map((b) => b.mean_predicted ?? b.predicted ?? 0), dash: [4, 4] },
    ],
    xLabel: "predicted",
    yLabel: "observed",
  });
  const cur = m.current;
  const row = (name, x) => (x ? { name, ...x } : null);
  show(
    el("section", { class: "cards", "aria-label": "Serving" },
      el("div", { class: "card" }, el("h2", {}, "Serving"), el("p", { class: "big" }, m.serving || "rule prior"),
        el("p", { class: "muted" }, m.checkpoint !== null ? `checkpoint ${m.checkpoint}, ${when(m.checkpoint_at)}; ${num(m.labels_seen)} labels learned` : "no checkpoint yet"),
        el("p", { class: "muted" }, m.switched_to_learned_at ? `switched from the prior to the learned model ${when(m.switched_to_learned_at)}` : "still on the rule prior"))),
    cur
      ? table(`Newest checkpoint, ${when(cur.at)}: prequential metrics over the last labels`, [
          { head: "Model", cell: (r) => `${r.name}${r.name !== "prior" && r.name ? "" : ""}` },
          { head: "Labels", num: true, cell: (r) => num(r.count) },
          { head: "Churned", num: true, cell: (r) => num(r.positives) },
          { head: "AUC", num: true, cell: (r) => dec(r.auc) },
          { head: "Log loss", num: true, cell: (r) => dec(r.log_loss) },
          { head: "Brier", num: true, cell: (r) => dec(r.brier) },
        ], [row(`champion (${cur.champion.name || "–"})`, cur.champion), row(`challenger (${cur.challenger?.name || "–"})`, cur.challenger), row("rule prior", cur.prior)].filter(Boolean))
      : el("p", { class: "muted" }, "The learner has not written a checkpoint yet."),
    el("section", { class: "grid2", "aria-label": "Quality over time" }, charts, calFig),
    el("section", { "aria-labelledby": "h-dec" }, el("h2", { id: "h-dec" }, "Decisions"),
      m.decisions.length
        ? table("The learner's decisions, newest first", [
            { head: "When", cell: (d) => when(d.at) },
            { head: "What", cell: (d) => label(d.kind) },
            { head: "Detail", cell: (d) => Object.entries(d.detail).slice(0, 6).map(([k, v]) => `${label(k)}: ${typeof v === "number" ? dec(v) : JSON.stringify(v)}`).join("; ") },
          ], m.decisions)
        : el("p", { class: "muted" }, "No switch, promotion or drift alarm yet.")),
  );
}
