// Small formatting helpers (pure).

import { t } from "./strings.js";

// Seconds since an ISO time, never negative (the officer's clock may run a bit ahead).
export function secondsSince(iso, now = Date.now()) {
  if (!iso) return null;
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return null;
  return Math.max(0, Math.floor((now - then) / 1000));
}

// 75 -> "01:15", 3725 -> "1:02:05"
export function clock(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

// 250 -> "4 mnt 10 dtk"; for figures rather than running timers.
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return "–";
  const s = Math.round(Number(seconds));
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (!m) return `${rest} ${t("seconds_short")}`;
  return rest ? `${m} ${t("minutes_short")} ${rest} ${t("seconds_short")}` : `${m} ${t("minutes_short")}`;
}

// Case- and accent-insensitive text for searching.
export function fold(text) {
  return String(text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}
