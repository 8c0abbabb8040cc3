// Evaluation of every site, /evaluation: ranked on the figures of spec section 6,
// sortable by any column, charted (IKM and SLA per site), exported.

import { api, ApiError } from "/static/display/common/api.js";
import { bar, colors } from "./charts.js";
import { count, decimal } from "./format.js";
import { createPeriodPicker } from "./period.js";
import { may, startPage } from "./shell.js";
import { errorText, t } from "./strings.js";
import { column, renderTable, sorted } from "./table.js";

const $ = (id) => document.getElementById(id);
// Periods of the evaluation are service days in WIB, as the API counts them (every
// Indonesian site is compared on the same calendar), whatever the browser's zone.
const timeZone = "Asia/Jakarta";

const COLUMNS = [
  column("issued"),
  column("served"),
  column("wait_s.p50"),
  column("wait_s.p90"),
  column("service_s.p90"),
  column("sla.pct"),
  column("ikm.score"),
  { key: "counters", label: "col_counters", value: (row) => row.counters ?? null, text: count },
  {
    key: "served_per_counter_hour",
    label: "col_per_counter_hour",
    value: (row) => row.served_per_counter_hour ?? null,
    text: (v) => decimal(v, 1),
  },
];
// Higher is better for these; lower for the times. The first click sorts best first.
const LOWER_IS_BETTER = new Set(["wait_s.p50", "wait_s.p90", "service_s.p90", "name"]);

let picker = null;
let data = null;
let sort = { key: "ikm.score", dir: "desc" };

function url(period, format) {
  return `/api/v1/evaluation?${new URLSearchParams({ from: period.from, to: period.to, format })}`;
}

function valueOf(key) {
  if (key === "name") return (row) => row.name || row.key;
  const col = COLUMNS.find((c) => c.key === key);
  return col ? col.value : () => null;
}

function onSort(key) {
  if (key === "rank") return;
  if (sort.key === key) sort = { key, dir: sort.dir === "asc" ? "desc" : "asc" };
  else sort = { key, dir: LOWER_IS_BETTER.has(key) ? "asc" : "desc" };
  draw();
}

function draw() {
  if (!data) return;
  const rows = sorted(data.sites, valueOf(sort.key), sort.dir);
  renderTable($("ranking"), {
    rows,
    columns: COLUMNS,
    first: [
      { key: "rank", label: "col_rank", text: (row, i) => String(i + 1), sortable: false },
      { key: "name", label: "col_name", text: (row) => row.name || row.key },
    ],
    sort,
    onSort,
  });
  const names = rows.map((row) => row.name || row.key);
  const { series, bad } = colors();
  const ikmColors = rows.map((row) => (row.ikm && row.ikm.category && row.ikm.category >= "C" ? bad : series[0]));
  bar("chart-ikm-sites", names, [{ label: t("series_ikm"), data: rows.map((row) => (row.ikm ? row.ikm.score : null)), color: ikmColors }], {
    yMin: 0,
    yMax: 100,
  });
  bar("chart-sla-sites", names, [{ label: t("series_sla"), data: rows.map((row) => (row.sla ? row.sla.pct : null)), color: series[2] }], {
    yMax: 100,
  });
}

async function load(period) {
  $("export-csv").href = url(period, "csv");
  $("export-xlsx").href = url(period, "xlsx");
  $("error").textContent = "";
  document.body.dataset.loaded = "";
  try {
    data = await api("GET", url(period, "json"));
    draw();
    document.body.dataset.loaded = `${period.from}/${period.to}`;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return shell.expired();
    $("error").textContent = errorText(err);
  }
}

const shell = startPage({
  allowed: (me) => may.evaluation(me),
  onLanguage: () => {
    picker && picker.repaint();
    draw();
  },
  onReady: async () => {
    if (!picker) picker = createPeriodPicker({ timeZone, initial: "month", onChange: load });
    await load(picker.get());
  },
});
