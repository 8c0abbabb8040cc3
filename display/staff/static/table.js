// Tables of figures: one ROW of the API per line, the total in the footer.
// Every cell keeps the API's raw value in data-value, its column in data-col, so what is
// shown can be checked against what the API answered.

import { category, count, decimal, minutes, percent } from "./format.js";
import { t } from "./strings.js";

const pick = (path) => (row) => path.split(".").reduce((value, key) => (value == null ? null : value[key]), row);

// The columns of a report ROW; `extra` adds columns (evaluation).
export const ROW_COLUMNS = [
  { key: "issued", label: "col_issued", value: pick("issued"), text: count },
  { key: "called", label: "col_called", value: pick("called"), text: count },
  { key: "served", label: "col_served", value: pick("served"), text: count },
  { key: "no_show", label: "col_no_show", value: pick("no_show"), text: count },
  { key: "cancelled", label: "col_cancelled", value: pick("cancelled"), text: count },
  { key: "expired", label: "col_expired", value: pick("expired"), text: count },
  { key: "transferred_out", label: "col_transferred_out", value: pick("transferred_out"), text: count },
  { key: "wait_s.p50", label: "col_wait_p50", value: pick("wait_s.p50"), text: minutes },
  { key: "wait_s.p90", label: "col_wait_p90", value: pick("wait_s.p90"), text: minutes },
  { key: "service_s.p50", label: "col_service_p50", value: pick("service_s.p50"), text: minutes },
  { key: "service_s.p90", label: "col_service_p90", value: pick("service_s.p90"), text: minutes },
  { key: "sla.pct", label: "col_sla", value: pick("sla.pct"), text: percent },
  { key: "rating.mean", label: "col_rating", value: pick("rating.mean"), text: (v) => decimal(v, 2) },
  { key: "ikm.score", label: "col_ikm", value: pick("ikm.score"), text: (v, row) => category(row.ikm) },
];

export const column = (key) => ROW_COLUMNS.find((c) => c.key === key);

export function rowName(row, by) {
  if (by === "hour") return `${row.key}:00`;
  return row.name || row.key;
}

function cell(tag, text, attrs = {}) {
  const el = document.createElement(tag);
  el.textContent = text;
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, value);
  return el;
}

// Render rows (and an optional total) into <table>. `first`: leading columns such as
// the name and a rank, each {key, label, text(row, index)}. With `sort` ({key, dir}) and
// `onSort(key)`, headings become buttons.
export function renderTable(table, { rows, total, columns = ROW_COLUMNS, first, by, sort, onSort, empty }) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  const leading = first || [{ key: "name", label: "col_name", text: (row) => rowName(row, by) }];
  for (const col of [...leading, ...columns]) {
    const th = cell("th", "", { scope: "col", "data-col": col.key });
    if (col.value) th.className = "num";
    if (onSort && col.sortable !== false) {
      const button = cell("button", t(col.label), { type: "button", "data-sort": col.key });
      button.className = "sort";
      button.addEventListener("click", () => onSort(col.key));
      th.append(button);
      if (sort && sort.key === col.key) th.setAttribute("aria-sort", sort.dir === "asc" ? "ascending" : "descending");
    } else th.textContent = t(col.label);
    head.append(th);
  }
  const tbody = table.createTBody();
  if (!rows.length) {
    const td = cell("td", empty || t("no_rows"), { colspan: String(leading.length + columns.length) });
    td.className = "empty";
    tbody.insertRow().append(td);
  }
  const fill = (tr, row, index) => {
    tr.dataset.key = row.key;
    for (const col of leading) tr.append(cell(col.key === "name" ? "th" : "td", col.text(row, index), { "data-col": col.key }));
    for (const col of columns) {
      const value = col.value(row);
      const td = cell("td", col.text(value, row), { "data-col": col.key, "data-value": JSON.stringify(value ?? null) });
      td.className = "num";
      tr.append(td);
    }
  };
  rows.forEach((row, index) => fill(tbody.insertRow(), row, index));
  if (total) {
    const tr = table.createTFoot().insertRow();
    fill(tr, { ...total, name: t("total") }, -1);
    tr.dataset.key = "total";
    tr.firstChild.textContent = t("total");
    for (const col of leading.slice(1)) tr.children[leading.indexOf(col)].textContent = "";
  }
}

// Sort a copy of rows by a column; nulls always last.
export function sorted(rows, valueOf, dir) {
  const sign = dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = valueOf(a);
    const y = valueOf(b);
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === "string" || typeof y === "string") return sign * String(x).localeCompare(String(y));
    return sign * (x - y);
  });
}
