// Charts of the staff pages, drawn by the vendored Chart.js (vendor/chartjs/).
//
// The UMD build sets globalThis.Chart when imported. Charts fill their .chart-box
// (fixed height in staff.css, in millimetres for print) and redraw before printing, so
// a printed report carries them at paper size. No animation: a report is read, not
// watched, and a chart printed mid-animation would be half drawn.

import "./vendor/chartjs/chart.umd.min.js";

const Chart = globalThis.Chart;
const charts = new Map();

function palette() {
  const style = getComputedStyle(document.documentElement);
  const get = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    ink: get("--ink", "#1c2430"),
    muted: get("--muted", "#5b6676"),
    grid: get("--line", "#dde3ea"),
    series: [get("--chart-1", "#1f6feb"), get("--chart-2", "#93b8f5"), get("--chart-3", "#0f8a5f"), get("--chart-4", "#8fd3b5")],
    bad: get("--bad", "#c62828"),
  };
}

if (Chart) {
  const colors = palette();
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.color = colors.muted;
  Chart.defaults.borderColor = colors.grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily || "system-ui, sans-serif";
}

export const colors = palette;

// Draw (or redraw) the bar chart on canvas #id. `datasets`: [{label, data, color?}].
export function bar(id, labels, datasets, { yMax, yMin, horizontal = false, yTitle } = {}) {
  const canvas = document.getElementById(id);
  if (!canvas || !Chart) return null;
  const previous = charts.get(id);
  if (previous) previous.destroy();
  const { series } = palette();
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: datasets.map((set, i) => ({
        label: set.label,
        data: set.data,
        backgroundColor: set.color || series[i % series.length],
        borderWidth: 0,
      })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
      scales: {
        [horizontal ? "x" : "y"]: {
          beginAtZero: yMin === undefined,
          min: yMin,
          max: yMax,
          title: yTitle ? { display: true, text: yTitle } : undefined,
        },
      },
    },
  });
  charts.set(id, chart);
  return chart;
}

function resizeAll() {
  for (const chart of charts.values()) chart.resize();
}

window.addEventListener("beforeprint", resizeAll);
window.addEventListener("afterprint", resizeAll);
if (window.matchMedia) window.matchMedia("print").addEventListener("change", resizeAll);
