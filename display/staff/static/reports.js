// Reports of a site, /reports/{site}: a period, a cut, the table, four charts, exports.

import { ApiError } from "/static/display/common/api.js";
import { drawArrivals, drawIkm, drawSla, drawTimes, renderSummary, report, reportUrl, survey } from "./figures.js";
import { createPeriodPicker, today } from "./period.js";
import { body, may, startPage } from "./shell.js";
import { errorText, t } from "./strings.js";
import { renderTable } from "./table.js";

const $ = (id) => document.getElementById(id);
const site = body.site;
const timeZone = body.timezone || "Asia/Jakarta";
const CUTS = ["site", "agency", "service", "counter", "officer", "day", "hour"];

let picker = null;
let last = null; // {main, hour, service, by, elements}
let loading = 0;

function currentBy() {
  return $("cut").value;
}

function exports(period, by) {
  $("export-csv").href = reportUrl(site, period, by, "csv");
  $("export-xlsx").href = reportUrl(site, period, by, "xlsx");
  const month = $("monthly-month").value || period.from.slice(0, 7);
  $("monthly-link").href = `/reports/${encodeURIComponent(site)}/monthly?month=${month}`;
}

function draw() {
  if (!last) return;
  const { main, hour, service, by, elements } = last;
  renderSummary($("summary"), main.total);
  $("table-cut").textContent = `· ${t(`by_${by}`)}`;
  renderTable($("figures"), { rows: main.rows, total: main.total, by });
  drawArrivals("chart-arrivals", hour.rows);
  drawTimes("chart-times", main.rows, by);
  drawSla("chart-sla", service.rows);
  drawIkm("chart-ikm", main.total.ikm, elements);
}

async function load() {
  const period = picker.get();
  const by = currentBy();
  exports(period, by);
  const ticket = ++loading;
  document.body.dataset.loaded = "";
  $("error").textContent = "";
  try {
    const [main, elements] = await Promise.all([report(site, period, by), survey()]);
    const [hour, service] = await Promise.all([
      by === "hour" ? main : report(site, period, "hour"),
      by === "service" ? main : report(site, period, "service"),
    ]);
    if (ticket !== loading) return; // a newer choice is on its way
    last = { main, hour, service, by, elements };
    draw();
    document.body.dataset.loaded = `${period.from}/${period.to}/${by}`;
  } catch (err) {
    if (ticket !== loading) return;
    if (err instanceof ApiError && err.status === 401) return shell.expired();
    $("error").textContent = errorText(err);
  }
}

const shell = startPage({
  allowed: (me) => may.reports(me, site),
  onLanguage: () => {
    picker && picker.repaint();
    draw();
  },
  onReady: async () => {
    if (!picker) {
      const query = new URLSearchParams(location.search);
      if (CUTS.includes(query.get("by"))) $("cut").value = query.get("by");
      $("monthly-month").value = today(timeZone).slice(0, 7);
      $("monthly-month").max = today(timeZone).slice(0, 7);
      picker = createPeriodPicker({ timeZone, initial: "today", onChange: load });
      $("cut").addEventListener("change", () => {
        const params = new URLSearchParams(location.search);
        params.set("by", currentBy());
        history.replaceState(null, "", `${location.pathname}?${params}`);
        load();
      });
      $("monthly-month").addEventListener("change", () => exports(picker.get(), currentBy()));
    }
    await load();
  },
});
