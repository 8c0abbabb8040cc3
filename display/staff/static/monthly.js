// The printable monthly report, /reports/{site}/monthly?month=YYYY-MM (A4, print CSS).

import { ApiError } from "/static/display/common/api.js";
import { drawArrivals, drawIkm, drawSla, renderIkm, renderSummary, report, survey } from "./figures.js";
import { monthName } from "./format.js";
import { monthRange, today } from "./period.js";
import { body, may, startPage } from "./shell.js";
import { errorText, locale, t } from "./strings.js";
import { ROW_COLUMNS, renderTable } from "./table.js";

const $ = (id) => document.getElementById(id);
const site = body.site;
const timeZone = body.timezone || "Asia/Jakarta";
let month = /^\d{4}-\d{2}$/.test(body.month || "") ? body.month : today(timeZone).slice(0, 7);
let last = null;

const SHORT = ["issued", "called", "served", "no_show", "cancelled", "wait_s.p50", "wait_s.p90", "service_s.p90", "sla.pct", "ikm.score"];

function draw() {
  if (!last) return;
  const { service, agency, hour, elements } = last;
  document.title = `${t("monthly_heading")} ${monthName(month)} · ${body.siteName}`;
  $("report-month").textContent = monthName(month);
  renderSummary($("summary"), service.total);
  renderIkm($("report-ikm"), service.total.ikm, elements);
  const columns = ROW_COLUMNS.filter((c) => SHORT.includes(c.key));
  renderTable($("table-service"), { rows: service.rows, total: service.total, columns, by: "service" });
  renderTable($("table-agency"), { rows: agency.rows, total: agency.total, columns, by: "agency" });
  drawArrivals("chart-arrivals", hour.rows);
  drawIkm("chart-ikm", service.total.ikm, elements);
  drawSla("chart-sla", service.rows);
  const printed = new Intl.DateTimeFormat(locale(), { dateStyle: "long", timeStyle: "short", timeZone }).format(new Date());
  $("report-foot").textContent = t("printed_at", { time: printed });
}

async function load() {
  const period = monthRange(month, timeZone);
  $("error").textContent = "";
  document.body.dataset.loaded = "";
  try {
    const [service, agency, hour, elements] = await Promise.all([
      report(site, period, "service"),
      report(site, period, "agency"),
      report(site, period, "hour"),
      survey(),
    ]);
    last = { service, agency, hour, elements };
    draw();
    document.body.dataset.loaded = month;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return shell.expired();
    $("error").textContent = errorText(err);
  }
}

const shell = startPage({
  allowed: (me) => may.reports(me, site),
  onLanguage: draw,
  onReady: async () => {
    $("month").value = month;
    $("month").max = today(timeZone).slice(0, 7);
    $("month").onchange = () => {
      if (!$("month").value) return;
      month = $("month").value;
      history.replaceState(null, "", `${location.pathname}?month=${month}`);
      load();
    };
    $("print").onclick = () => window.print();
    await load();
  },
});
