// Shared helpers of the dashboard's pages: the API client, DOM building, number formats.
// Pages build elements with el() (text is set as text, never parsed as HTML): data from the API
// cannot inject markup.

export const cfg = {
  currency: document.body.dataset.currency || "EUR",
  horizonDays: Number(document.body.dataset.horizonDays || 30),
  valueMonths: Number(document.body.dataset.valueMonths || 12),
};

/** An API error: the RFC 9457 problem body the API sends. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Call the JSON API with the session cookie; 401 sends the visitor to the login page. */
export async function api(path, { method = "GET", body, redirect401 = true } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401 && redirect401) {
    const next = encodeURIComponent(location.pathname + location.search);
    location.assign(`/login?next=${next}`);
    throw new ApiError(401, { detail: "not logged in" });
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({ detail: r.statusText }));
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

let meCache;
/** The caller (key name, actor, agent, scopes); null when not logged in. One request per page,
 * shared by the header and the page module, which ask at the same time. */
export function me() {
  if (meCache === undefined) {
    meCache = api("/v1/me", { redirect401: false }).catch((e) => {
      if (e.status !== 401) throw e;
      return null;
    });
  }
  return meCache;
}

export const can = (who, scope) =>
  !!who && (who.scopes.includes("admin") || who.scopes.includes(scope));

/** el("a", {href: "/x", class: "btn"}, "text", child…): an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "style" && typeof v === "object") Object.assign(node.style, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Replace the page's content. */
export function show(...nodes) {
  document.getElementById("page").replaceChildren(...nodes);
}

/** A short message for screen readers and eyes ("Task claimed"); errors stay until replaced. */
export function status(text, kind = "ok") {
  const s = document.getElementById("status");
  s.replaceChildren(text ? el("p", { class: `note ${kind}` }, text) : "");
}

/** An API error as a readable block: the problem's detail and each field error. */
export function problemBox(err) {
  const p = err.problem || { detail: String(err) };
  return el(
    "div",
    { class: "note error", role: "alert" },
    el("strong", {}, p.title || "Error"),
    " ",
    p.detail || "",
    p.errors && p.errors.length
      ? el("ul", {}, p.errors.map((e) => el("li", {}, el("code", {}, e.field), " ", e.message)))
      : null,
  );
}

const nf0 = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const nf2 = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });

export const num = (v) => (v === null || v === undefined ? "–" : nf0.format(v));
export const dec = (v) => (v === null || v === undefined ? "–" : nf2.format(v));
export const money = (v) =>
  v === null || v === undefined ? "–" : `${nf0.format(v)} ${cfg.currency}`;
export const pct = (v, digits = 1) =>
  v === null || v === undefined ? "–" : `${(v * 100).toFixed(digits)} %`;
/** A signed difference of shares in percentage points. */
export const pp = (v) =>
  v === null || v === undefined ? "–" : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)} pp`;

export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export const day = (iso) => (iso ? String(iso).slice(0, 10) : "–");

/** "3 h overdue" / "due in 2 h" relative to now. */
export function due(iso) {
  const ms = new Date(iso) - Date.now();
  const h = Math.abs(ms) / 3.6e6;
  const span = h >= 48 ? `${Math.round(h / 24)} d` : `${Math.max(1, Math.round(h))} h`;
  return ms < 0 ? `${span} ago` : `in ${span}`;
}

export const bandBadge = (band) => el("span", { class: `badge band-${band}` }, band);
export const label = (s) => String(s ?? "–").replaceAll("_", " ");

/** A table: columns [{head, cell(row) → node|text, num?}], rows, and a caption. */
export function table(caption, columns, rows, { rowAttrs } = {}) {
  return el(
    "table",
    {},
    caption ? el("caption", {}, caption) : null,
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null }, c.head)))),
    el(
      "tbody",
      {},
      rows.map((r) =>
        el(
          "tr",
          rowAttrs ? rowAttrs(r) : {},
          columns.map((c) => el("td", { class: c.num ? "num" : null }, c.cell(r))),
        ),
      ),
    ),
  );
}

/** A labelled form control: label text, then the control. */
export function field(text, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, text),
    control,
    hint ? el("small", { class: "muted" }, hint) : null,
  );
}

/** An interval as "value (low – high)" with a bar showing where the interval lies around 0. */
export function interval(iv, fmt = pct) {
  if (!iv || iv.value === null || iv.value === undefined) return el("span", { class: "muted" }, "not yet");
  return el("span", {}, fmt(iv.value), " ", el("span", { class: "muted" }, `(95 %: ${fmt(iv.low)} to ${fmt(iv.high)})`));
}
