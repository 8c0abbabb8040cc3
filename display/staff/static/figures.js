// What reports and the monthly report share: reading the API, the summary tiles,
// the charts of arrivals, times, SLA and IKM, the survey elements.

import { api } from "/static/display/common/api.js";
import { bar } from "./charts.js";
import { category, count, decimal, minutes, percent, toMinutes } from "./format.js";
import { ELEMENTS, elementLabel, t } from "./strings.js";
import { rowName } from "./table.js";

let elements = null;

// The survey's elements: from the server when it offers them, else the regulation's 9.
export async function survey() {
  if (elements) return elements;
  try {
    const answer = await api("GET", "/api/v1/survey");
    const list = Array.isArray(answer) ? answer : answer && answer.elements;
    elements = Array.isArray(list) && list.length ? list : ELEMENTS;
  } catch {
    elements = ELEMENTS;
  }
  return elements;
}

export function reportUrl(site, { from, to }, by, format = "json") {
  const params = new URLSearchParams({ from, to, by, format });
  return `/api/v1/sites/${encodeURIComponent(site)}/reports?${params}`;
}

export const report = (site, period, by) => api("GET", reportUrl(site, period, by));

function tile(label, value, attrs = {}) {
  const div = document.createElement("div");
  div.className = "tile";
  for (const [name, v] of Object.entries(attrs)) div.dataset[name] = v;
  const dt = document.createElement("span");
  dt.className = "tile-label";
  dt.textContent = label;
  const dd = document.createElement("strong");
  dd.className = "tile-value";
  dd.textContent = value;
  div.append(dt, dd);
  return div;
}

export function renderSummary(container, total) {
  const wait = total.wait_s || {};
  const service = total.service_s || {};
  container.replaceChildren(
    tile(t("summary_issued"), count(total.issued), { figure: "issued", value: String(total.issued) }),
    tile(t("summary_served"), count(total.served), { figure: "served", value: String(total.served) }),
    tile(t("summary_wait"), `${minutes(wait.p50)} / ${minutes(wait.p90)}`, { figure: "wait" }),
    tile(t("summary_service"), `${minutes(service.p50)} / ${minutes(service.p90)}`, { figure: "service" }),
    tile(t("summary_sla"), percent(total.sla && total.sla.pct), { figure: "sla" }),
    tile(t("summary_ikm"), category(total.ikm), { figure: "ikm" }),
  );
}

// Arrivals: tickets issued per hour of the day, zero-filled over opening hours.
export function drawArrivals(id, hourRows) {
  const byHour = new Map(hourRows.map((row) => [Number(row.key), row.issued || 0]));
  const hours = [...byHour.keys()];
  const first = Math.min(7, ...hours);
  const last = Math.max(17, ...hours);
  const labels = [];
  const data = [];
  for (let h = first; h <= last; h += 1) {
    labels.push(`${String(h).padStart(2, "0")}:00`);
    data.push(byHour.get(h) || 0);
  }
  return bar(id, labels, [{ label: t("series_issued"), data }]);
}

export function drawTimes(id, rows, by) {
  const shown = rows.slice(0, 40);
  const get = (row, field, p) => toMinutes(row[field] && row[field][p]);
  return bar(
    id,
    shown.map((row) => rowName(row, by)),
    [
      { label: t("series_wait_p50"), data: shown.map((row) => get(row, "wait_s", "p50")) },
      { label: t("series_wait_p90"), data: shown.map((row) => get(row, "wait_s", "p90")) },
      { label: t("series_service_p50"), data: shown.map((row) => get(row, "service_s", "p50")) },
      { label: t("series_service_p90"), data: shown.map((row) => get(row, "service_s", "p90")) },
    ],
  );
}

// SLA per service: only services with a target (pct not null).
export function drawSla(id, serviceRows) {
  const measured = serviceRows.filter((row) => row.sla && row.sla.pct !== null && row.sla.pct !== undefined);
  return bar(
    id,
    measured.map((row) => row.name || row.key),
    [{ label: t("series_sla"), data: measured.map((row) => row.sla.pct) }],
    { yMax: 100 },
  );
}

export function drawIkm(id, ikm, list) {
  const nrr = (ikm && ikm.nrr) || {};
  return bar(
    id,
    list.map(elementLabel),
    [{ label: t("series_nrr"), data: list.map((element) => nrr[element.slug] ?? null) }],
    { yMin: 0, yMax: 4, horizontal: true },
  );
}

// The IKM block of the monthly report: score, category, respondents, NRR per element.
export function renderIkm(container, ikm, list) {
  container.replaceChildren();
  const head = document.createElement("h2");
  head.textContent = t("summary_ikm");
  container.append(head);
  const p = document.createElement("p");
  p.className = "ikm-score";
  if (!ikm || !ikm.n) {
    p.textContent = t("ikm_none");
    container.append(p);
    return;
  }
  p.dataset.score = String(ikm.score);
  p.textContent = `${decimal(ikm.score, 2)} · ${t(`category_${ikm.category}`)} · ${t("ikm_respondents", { n: ikm.n })}`;
  container.append(p);
  const table = document.createElement("table");
  table.className = "figures ikm-table";
  const headRow = table.createTHead().insertRow();
  for (const key of ["ikm_element", "ikm_nrr"]) {
    const th = document.createElement("th");
    th.textContent = t(key);
    headRow.append(th);
  }
  const body = table.createTBody();
  for (const element of list) {
    const tr = body.insertRow();
    tr.dataset.key = element.slug;
    tr.insertCell().textContent = elementLabel(element);
    const td = tr.insertCell();
    td.className = "num";
    td.textContent = decimal(ikm.nrr ? ikm.nrr[element.slug] : null, 2);
  }
  container.append(table);
}
