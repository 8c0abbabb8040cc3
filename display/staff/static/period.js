// The period picker of reports and evaluation: today, this week (from Monday), this
// month, last month, or a custom range; dates are service days in the site's timezone.
// The choice lives in the address (?period=&from=&to=) so a reload or a shared link
// shows the same figures.

import { date } from "./format.js";
import { t } from "./strings.js";

const $ = (id) => document.getElementById(id);

export function today(timeZone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

const parse = (iso) => {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
};
const iso = (day) => day.toISOString().slice(0, 10);

export function monthRange(yearMonth, timeZone) {
  const [y, m] = yearMonth.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1, 1));
  const last = new Date(Date.UTC(y, m, 0));
  const now = today(timeZone);
  return { from: iso(first), to: iso(last) > now ? now : iso(last) };
}

export function range(kind, timeZone) {
  const now = today(timeZone);
  const day = parse(now);
  if (kind === "week") {
    const back = (day.getUTCDay() + 6) % 7; // Monday = 0
    return { from: iso(new Date(day.getTime() - back * 86400000)), to: now };
  }
  if (kind === "month") return { from: `${now.slice(0, 8)}01`, to: now };
  if (kind === "last_month") {
    const last = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 0));
    return { from: `${iso(last).slice(0, 8)}01`, to: iso(last) };
  }
  return { from: now, to: now };
}

export function createPeriodPicker({ timeZone, initial = "today", onChange }) {
  const query = new URLSearchParams(location.search);
  let kind = query.get("period") || initial;
  let current =
    kind === "custom" && query.get("from") && query.get("to")
      ? { from: query.get("from"), to: query.get("to") }
      : range(kind === "custom" ? "today" : kind, timeZone);

  function paint() {
    for (const button of document.querySelectorAll("[data-period]")) {
      button.setAttribute("aria-pressed", String(button.dataset.period === kind));
    }
    $("custom-range").hidden = kind !== "custom";
    $("period-from").value = current.from;
    $("period-to").value = current.to;
    $("period-from").max = $("period-to").max = today(timeZone);
    $("period-label").textContent =
      current.from === current.to ? date(current.from) : t("range", { from: date(current.from), to: date(current.to) });
  }

  function remember() {
    const params = new URLSearchParams(location.search);
    params.set("period", kind);
    params.set("from", current.from);
    params.set("to", current.to);
    history.replaceState(null, "", `${location.pathname}?${params}`);
  }

  function set(nextKind, nextRange) {
    kind = nextKind;
    current = nextRange;
    paint();
    remember();
    onChange(current);
  }

  for (const button of document.querySelectorAll("[data-period]")) {
    button.addEventListener("click", () => {
      const chosen = button.dataset.period;
      if (chosen === "custom") {
        kind = "custom";
        paint();
        $("period-from").focus();
        return;
      }
      set(chosen, range(chosen, timeZone));
    });
  }
  $("period-apply").addEventListener("click", () => {
    let from = $("period-from").value;
    let to = $("period-to").value;
    if (!from || !to) return;
    if (from > to) [from, to] = [to, from];
    set("custom", { from, to });
  });

  paint();
  return {
    get: () => current,
    kind: () => kind,
    repaint: paint,
  };
}
