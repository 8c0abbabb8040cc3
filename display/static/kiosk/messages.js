// What the kiosk tells the visitor when the server refuses, in the visitor's language:
// from the error's code and details (the server's own messages are for developers).

import { ApiError } from "../common/api.js";
import { formatDate, formatTime } from "../ticket/format.js";

// "pukul 08.00" today, "besok pukul 08.00" tomorrow, else the weekday and date: in the
// site's zone.
export function opensAt(iso, t, lang, timeZone) {
  const time = formatTime(iso, lang, timeZone);
  const day = (at) => formatDate(at, lang, timeZone);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
  if (day(iso) === day()) return t("at_time", { time });
  if (day(iso) === day(tomorrow)) return t("tomorrow_at", { time });
  return t("day_at", { day: day(iso), time });
}

function closedNow(err, t, when) {
  const next = err.details && err.details.next_open;
  const base = t(err.code === "holiday" ? "err_holiday" : "err_closed_now");
  return next ? `${base} ${t("opens_at", { when: when(next) })}` : base;
}

// A ticket refused at the kiosk. `when(iso)` words an opening time.
export function explainTake(err, { priority = false } = {}, t, when) {
  if (!(err instanceof ApiError)) return t("err_other", { message: String(err) });
  if (err.code === "quota_reached") return t("err_quota");
  if (err.code === "service_closed_now" || err.code === "holiday") return closedNow(err, t, when);
  if (err.code === "service_closed") return t("err_closed");
  if (err.status === 429) return t("err_rate");
  if (err.status === 403 && priority) return t("err_priority");
  if (err.status === 401 || err.status === 403) return t("err_auth");
  if (err.status === 0 || err.status >= 502) return t("err_network");
  return t("err_other", { message: err.message });
}

// A booking's check-in refused (docs/bookings.md, "Check-in at the kiosk").
export function explainCheckIn(err, code, t, when) {
  if (!(err instanceof ApiError)) return t("err_other", { message: String(err) });
  if (err.status === 404) return t("err_code_unknown", { code: `${code.slice(0, 4)} ${code.slice(4)}` });
  if (err.code === "too_early") {
    const at = err.details && err.details.opens_at;
    return t("err_too_early", { when: at ? when(at) : "" });
  }
  if (err.code === "too_late") return t("err_too_late");
  if (err.code === "already_checked_in") {
    const number = (err.message.match(/ticket ([A-Z0-9]+)/) || [])[1];
    return number ? t("err_checked_in", { number }) : t("err_checked_in_plain");
  }
  if (err.code === "booking_cancelled") return t("err_booking_cancelled");
  if (err.code === "booking_expired") return t("err_booking_expired");
  return explainTake(err, {}, t, when);
}

// A phone ticket refused (docs/bookings.md, "Phone tickets").
export function explainRemote(err, t, when) {
  if (!(err instanceof ApiError)) return t("err_other", { message: String(err) });
  if (err.code === "remote_ticket_not_allowed") return t("err_remote_not_allowed");
  if (err.status === 429) return t("err_rate_phone");
  return explainTake(err, {}, t, when);
}
