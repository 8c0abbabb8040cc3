// Numbers, times and dates as the staff pages show them (in the page's language).

import { locale, t } from "./strings.js";

const DASH = "–";

export function count(value) {
  return value === null || value === undefined ? DASH : new Intl.NumberFormat(locale()).format(value);
}

export function decimal(value, digits = 1) {
  if (value === null || value === undefined) return DASH;
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

// Seconds as minutes with one decimal (the unit of a standar pelayanan).
// Under a minute, whole seconds: a tenth of a minute would hide them.
export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return DASH;
  if (seconds < 60) return t("seconds", { n: count(Math.round(seconds)) });
  return t("minutes", { n: decimal(seconds / 60) });
}

export const toMinutes = (seconds) => (seconds === null || seconds === undefined ? null : Math.round(seconds / 6) / 10);

export function percent(value) {
  return value === null || value === undefined ? DASH : `${decimal(value)} %`;
}

// A running clock: 4:07, or 1:02:09 past the hour.
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// An instant from the API: an ISO string, or epoch seconds/milliseconds.
export function instant(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return value < 1e12 ? value * 1000 : value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export function timeOfDay(value, timeZone) {
  const ms = instant(value);
  if (ms === null) return DASH;
  return new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone }).format(ms);
}

export function date(iso) {
  if (!iso) return DASH;
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(
    Date.UTC(y, m - 1, d),
  );
}

export function monthName(yearMonth) {
  const [y, m] = yearMonth.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" }).format(Date.UTC(y, m - 1, 1));
}

export function category(ikm) {
  if (!ikm || ikm.score === null || ikm.score === undefined) return DASH;
  return ikm.category ? `${decimal(ikm.score, 2)} (${ikm.category})` : decimal(ikm.score, 2);
}

// An instant as a date and time of day (the admin page's lists and audit log).
export function dateTime(value, timeZone) {
  const ms = instant(value);
  if (ms === null) return DASH;
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short", timeZone }).format(ms);
}
