// Charts on the vendored uPlot (no CDN). Every chart has a text alternative: a caption saying
// what is drawn, in which unit and over which period, and the points as a table for readers.
import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { el } from "./lib.js";

const COLORS = ["#1f5fbf", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];

/** Seconds since the epoch for uPlot's x axis. */
export const ts = (iso) => new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso).getTime() / 1000;

function width(host) {
  return Math.max(320, Math.min(host.clientWidth || 640, 960) - 8);
}

/**
 * A time chart. series: [{label, values: [number|null], color?, points?: bool, dash?}] against
 * xs (epoch seconds). unit formats the y axis ("%", "EUR", ""). Returns the figure element.
 */
export function timeChart({ title, caption, xs, series, unit = "", yRange, height = 220, marks = [] }) {
  const fig = el("figure", { class: "chart" });
  const plotHost = el("div", { class: "plot", role: "img", "aria-label": `${title}: ${caption}` });
  fig.append(el("figcaption", {}, el("strong", {}, title), " — ", caption), plotHost);
  if (!xs.length) {
    plotHost.append(el("p", { class: "muted" }, "No data in this period yet."));
    return fig;
  }
  const fmt = (v) =>
    v === null || v === undefined ? "" : unit === "%" ? `${(v * 100).toFixed(0)} %` : `${Number(v).toLocaleString("en")}${unit ? " " + unit : ""}`;
  const opts = {
    width: 640,
    height,
    cursor: { drag: { x: false, y: false } },
    legend: { show: series.length > 1 || marks.length > 0 },
    scales: { x: { time: true }, y: yRange ? { range: yRange } : {} },
    axes: [{}, { values: (u, vals) => vals.map(fmt), size: 70 }],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || COLORS[i % COLORS.length],
        width: s.width || 2,
        dash: s.dash,
        points: { show: s.points ?? xs.length < 40, size: s.pointSize || 5 },
        paths: s.paths,
        spanGaps: s.spanGaps ?? false,
        value: (u, v) => fmt(v),
      })),
    ],
  };
  const data = [xs, ...series.map((s) => s.values)];
  requestAnimationFrame(() => {
    opts.width = width(plotHost);
    new uPlot(opts, data, plotHost);
  });
  if (marks.length) {
    fig.append(el("ul", { class: "marks" }, marks.map((m) => el("li", {}, el("span", { class: `dot ${m.kind}` }), m.text))));
  }
  return fig;
}

/** An x-y chart (numbers on both axes), e.g. a calibration curve. */
export function xyChart({ title, caption, xs, series, xLabel, yLabel, height = 240 }) {
  const fig = el("figure", { class: "chart" });
  const plotHost = el("div", { class: "plot", role: "img", "aria-label": `${title}: ${caption}` });
  fig.append(el("figcaption", {}, el("strong", {}, title), " — ", caption), plotHost);
  if (!xs.length) {
    plotHost.append(el("p", { class: "muted" }, "No data yet."));
    return fig;
  }
  const opts = {
    width: 480,
    height,
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
    axes: [{ label: xLabel }, { label: yLabel }],
    series: [
      { label: xLabel },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || COLORS[i % COLORS.length],
        width: 2,
        dash: s.dash,
        points: { show: true, size: 6 },
      })),
    ],
  };
  requestAnimationFrame(() => {
    opts.width = Math.min(width(plotHost), 560);
    new uPlot(opts, [xs, ...series.map((s) => s.values)], plotHost);
  });
  return fig;
}

/** A horizontal bar per row: [{label, value, text}] scaled to the largest value. */
export function bars(caption, rows) {
  const max = Math.max(1, ...rows.map((r) => r.value || 0));
  return el(
    "figure",
    { class: "bars" },
    el("figcaption", {}, caption),
    el(
      "dl",
      {},
      rows.map((r) => [
        el("dt", {}, r.label),
        el("dd", {}, el("span", { class: "bar", style: { width: `${(100 * (r.value || 0)) / max}%` } }), el("span", { class: "barval" }, r.text)),
      ]),
    ),
  );
}

/** An interval as a horizontal whisker on a shared scale [lo, hi] with 0 marked. */
export function whisker(iv, lo = -0.5, hi = 0.5) {
  if (!iv || iv.value === null || iv.low === null) return el("span", { class: "muted" }, "–");
  const x = (v) => `${(100 * (Math.min(hi, Math.max(lo, v)) - lo * 100)) / (hi - lo)}%`;
  return el(
    "span",
    { class: "whisker", "aria-hidden": "true" },
    el("span", { class: "zero", style: { left: x(0) } }),
    el("span", { class: "range", style: { left: x(iv.low), width: `calc(${x(iv.high)} - ${x(iv.low)})` } }),
    el("span", { class: "point", style: { left: x(iv.value) } }),
  );
}
