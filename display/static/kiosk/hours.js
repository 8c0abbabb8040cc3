// Opening hours in the browser, as server/hours.py reads them: a service's `hours` maps
// weekdays (mon..sun) to ranges ("08:00-12:00,13:00-15:00") in the site's local time; a
// weekday it does not name is closed; no `hours` means always open; the site's
// `holidays` (YYYY-MM-DD) close every service. The kiosk uses it to show "Buka pukul
// 08.00" before a tap; the server still decides when a ticket is asked for.

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const LOOKAHEAD_DAYS = 14;

// {date: "YYYY-MM-DD", weekday: 0 (mon)..6, minutes: since local midnight} in `timeZone`.
export function localNow(now, timeZone) {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    weekday: "short",
  });
  const parts = Object.fromEntries(format.formatToParts(now).map((part) => [part.type, part.value]));
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday: WEEKDAYS.indexOf(parts.weekday.toLowerCase().slice(0, 3)),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function toMinutes(clock) {
  const [h, m] = clock.split(":").map(Number);
  return h * 60 + m;
}

// "08:00-12:00,13:00-15:00" -> [[480, 720], [780, 900]]; a malformed part is skipped
// (the server validated the configuration).
export function ranges(text) {
  if (!text) return [];
  return text
    .split(",")
    .map((part) => part.trim().match(/^(\d\d:\d\d)-(\d\d:\d\d)$/))
    .filter(Boolean)
    .map((m) => [toMinutes(m[1]), toMinutes(m[2])]);
}

function addDays(isoDate, days) {
  const [y, m, d] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

// null when the service takes tickets now; else {holiday, next: {days, minutes, weekday}
// or null}: `days` from today (0 today, 1 tomorrow) and the opening's local minutes.
export function closedNow(hours, holidays, timeZone, now = new Date()) {
  const local = localNow(now, timeZone);
  const off = new Set(holidays || []);
  const holiday = off.has(local.date);
  const inside = () =>
    ranges(hours[WEEKDAYS[local.weekday]]).some(([start, end]) => start <= local.minutes && local.minutes < end);
  if (!holiday && (!hours || inside())) return null;
  for (let days = 0; days <= LOOKAHEAD_DAYS; days += 1) {
    if (off.has(addDays(local.date, days))) continue;
    const weekday = (local.weekday + days) % 7;
    const starts = hours ? ranges(hours[WEEKDAYS[weekday]]).map(([start]) => start) : [0];
    const next = starts.find((start) => days > 0 || start > local.minutes);
    if (next !== undefined) return { holiday, next: { days, minutes: next, weekday } };
  }
  return { holiday, next: null };
}

// 480 -> "08.00" (Indonesian) or "08:00" (English).
export function clockText(minutes, lang) {
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return lang === "en" ? `${hh}:${mm}` : `${hh}.${mm}`;
}
