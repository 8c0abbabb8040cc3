// The booking page, /book/{site}: agency → service → date → session → NIK, name and
// optional phone → the booking with its code and a QR code of the code. The same page
// shows one booking at its secret link, /book/{site}/{id}: code and QR code (shown at
// the kiosk to check in), status, cancel.
//
// The NIK is checked here (16 digits) before it is sent, is never kept after the answer
// and is shown only as the API gives it back (`**** **** **** 1234`). Each step is a
// history entry, so the phone's back button goes one step back.

import { ApiError, api, retrying } from "../common/api.js";
import { clear, el, show } from "../ticket/dom.js";
import { formatDate } from "../ticket/format.js";
import { applyStatic, bindSwitch, getLang, translator } from "../common/i18n.js";
import { qrSvg } from "../common/qr.js";
import { STRINGS } from "./strings.js";

const t = translator(STRINGS);
const root = document.getElementById("book");
const page = JSON.parse(root.dataset.page);
const SITE = encodeURIComponent(page.site);
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const STEPS = ["agency", "service", "date", "session", "form"];
const SAVED = `loket.bookings.${page.site}`;
const $ = (id) => document.getElementById(id);

const state = {
  step: "agency", // agency | service | date | session | form | booking | missing | loading
  agency: null,
  service: null,
  date: null,
  slots: null, // the slots answer of `date`, or null while loading
  session: null,
  form: { nik: "", name: "", phone: "" },
  invalid: {}, // field -> message key (+ vars)
  error: null, // {key, vars} of the last refusal
  sending: false,
  booking: null,
  fresh: false, // the booking was just made on this page
  notice: "",
};

// -- dates in the site's timezone, by the server's clock ------------------------------------

// The phone's clock may be wrong: count from the server's, as the page was served.
const skew = Number(page.now_ms) ? Number(page.now_ms) - Date.now() : 0;
const serverNow = () => new Date(Date.now() + skew);

function todayAtSite() {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: page.timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(serverNow());
  } catch {
    return page.today;
  }
}

// Noon UTC of a date: the same calendar day in every Indonesian timezone.
const noon = (day) => new Date(`${day}T12:00:00Z`);

function addDays(day, n) {
  const d = noon(day);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function shortDate(day) {
  const locale = getLang() === "en" ? "en-GB" : "id-ID";
  return new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(noon(day));
}

const longDate = (day) => formatDate(noon(day).toISOString(), getLang(), "UTC");

// The dates a service may be booked on: today .. today + days_ahead, on weekdays with
// sessions, not on holidays (the slots answer has the last word).
function bookableDates(service) {
  const today = todayAtSite();
  const days = [];
  for (let i = 0; i <= service.days_ahead; i += 1) {
    const day = addDays(today, i);
    if (!service.weekdays.includes(WEEKDAYS[noon(day).getUTCDay()])) continue;
    if (page.holidays.includes(day)) continue;
    days.push(day);
  }
  return days;
}

function minusMinutes(hhmm, minutes) {
  const [h, m] = hhmm.split(":").map(Number);
  const total = Math.max(0, h * 60 + m - minutes);
  return `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
}

// -- lookups ------------------------------------------------------------------------------

const agencyOf = (id) => page.agencies.find((a) => a.id === id) || null;

function serviceOf(id) {
  for (const agency of page.agencies) {
    const service = agency.services.find((s) => s.id === id);
    if (service) return { agency, service };
  }
  return null;
}

// -- bookings kept on this device ---------------------------------------------------------

function saved() {
  try {
    const list = JSON.parse(localStorage.getItem(SAVED) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function remember(booking) {
  const entry = { id: booking.id, code: booking.code, service: booking.service, date: booking.date, start: booking.start, end: booking.end };
  const list = [entry, ...saved().filter((b) => b.id !== booking.id)].slice(0, 10);
  try {
    localStorage.setItem(SAVED, JSON.stringify(list));
  } catch {
    // private mode: the link is what counts
  }
}

// -- navigation ---------------------------------------------------------------------------

function go(step, { push = true } = {}) {
  state.step = step;
  state.error = null;
  state.notice = "";
  if (push) history.pushState({ step }, "");
  render();
  const heading = document.querySelector("#steps h2");
  if (heading) heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function back() {
  if (history.state && history.state.step && STEPS.includes(history.state.step)) history.back();
  else go(previous(state.step));
}

function previous(step) {
  const index = STEPS.indexOf(step);
  let prev = STEPS[Math.max(0, index - 1)];
  if (prev === "agency" && page.agencies.length === 1) prev = "service";
  return prev;
}

function firstStep() {
  if (page.agencies.length === 1) state.agency = page.agencies[0].id;
  return page.agencies.length === 1 ? "service" : "agency";
}

window.addEventListener("popstate", (event) => {
  const step = event.state && event.state.step;
  if (!step || !STEPS.includes(step) || state.step === "booking" || state.step === "missing") {
    location.reload(); // back to the page's own start, or the booking's own page
    return;
  }
  go(step, { push: false });
});

// -- steps ----------------------------------------------------------------------------------

function heading(text, n) {
  return [
    n ? el("p", { class: "step-no" }, t("step", { n })) : null,
    el("h2", { class: "step-title", tabindex: "-1" }, text),
  ];
}

function backButton() {
  return el("button", { type: "button", class: "back", onclick: back }, `‹ ${t("back")}`);
}

function choice(label, detail, onclick, { disabled = false, className = "" } = {}) {
  return el(
    "button",
    { type: "button", class: `choice ${className}`.trim(), disabled, onclick },
    el("span", { class: "choice-label" }, label),
    detail ? el("span", { class: "choice-detail" }, detail) : null,
  );
}

function stepAgency() {
  const list = saved().filter((b) => b.date >= todayAtSite());
  const mine = list.length
    ? el(
        "nav",
        { class: "mine", "aria-label": t("mine") },
        el("h2", { class: "mine-title" }, t("mine")),
        el(
          "ul",
          {},
          list.map((b) => {
            const found = serviceOf(b.service);
            const name = found ? found.service.name : b.service;
            return el("li", {}, el("a", { href: `/book/${SITE}/${encodeURIComponent(b.id)}` }, `${b.code} · ${name} · ${shortDate(b.date)} ${b.start}`));
          }),
        ),
      )
    : null;
  if (!page.agencies.length) return [mine, el("p", { class: "book-note" }, t("none"))];
  return [
    el("p", { class: "intro" }, t("intro")),
    mine,
    ...heading(t("pick_agency"), 1),
    el(
      "div",
      { class: "choices" },
      page.agencies.map((agency) =>
        choice(agency.short_name, agency.short_name === agency.name ? null : agency.name, () => {
          state.agency = agency.id;
          go("service");
        }),
      ),
    ),
  ];
}

function stepService() {
  const agency = agencyOf(state.agency);
  if (!agency) return stepAgency();
  return [
    page.agencies.length > 1 ? backButton() : el("p", { class: "intro" }, t("intro")),
    ...heading(t("pick_service"), 2),
    el("p", { class: "context" }, agency.name),
    el(
      "div",
      { class: "choices" },
      agency.services.map((service) =>
        choice(service.name, null, () => {
          state.service = service.id;
          go("date");
        }),
      ),
    ),
  ];
}

function stepDate() {
  const found = serviceOf(state.service);
  if (!found) return stepAgency();
  const today = todayAtSite();
  const dates = bookableDates(found.service);
  return [
    backButton(),
    ...heading(t("pick_date"), 3),
    el("p", { class: "context" }, found.service.name),
    dates.length
      ? el(
          "div",
          { class: "dates" },
          dates.map((day) =>
            choice(shortDate(day), day === today ? t("today") : null, () => pickDate(day), {
              className: "date",
            }),
          ),
        )
      : el("p", { class: "book-note" }, t("no_dates")),
  ];
}

async function loadSlots() {
  state.slots = null;
  const day = state.date;
  try {
    const answer = await api("GET", `/api/v1/sites/${SITE}/services/${encodeURIComponent(state.service)}/slots?date=${day}`);
    if (state.date === day) state.slots = answer;
  } catch (err) {
    state.slots = { sessions: [], closed: null, failed: errorOf(err) };
  }
}

async function pickDate(day) {
  state.date = day;
  state.session = null;
  state.slots = null;
  go("session");
  await loadSlots();
  if (state.step === "session") render();
}

function stepSession() {
  const found = serviceOf(state.service);
  if (!found || !state.date) return stepAgency();
  const parts = [backButton(), ...heading(t("pick_session"), 4), el("p", { class: "context" }, `${found.service.name} · ${longDate(state.date)}`)];
  if (state.notice) parts.push(el("p", { class: "book-error", role: "alert" }, state.notice));
  const slots = state.slots;
  if (!slots) return [...parts, el("p", { class: "book-note", role: "status" }, t("loading"))];
  if (slots.failed) return [...parts, el("p", { class: "book-error", role: "alert" }, message(slots.failed))];
  if (slots.closed) return [...parts, el("p", { class: "book-note" }, t(`closed_${slots.closed}`))];
  const open = slots.sessions.filter((s) => s.left > 0);
  const now = state.date === todayAtSite() ? serverNow() : null;
  parts.push(
    el(
      "div",
      { class: "choices sessions" },
      slots.sessions.map((s) => {
        const overNow = s.left === 0 && now && s.end <= timeAtSite(now);
        const detail = s.left > 0 ? t("left", { n: s.left }) : overNow ? t("over") : t("full");
        return choice(`${s.start}–${s.end}`, detail, () => {
          state.session = s.id;
          go("form");
        }, { disabled: s.left <= 0, className: s.left > 0 ? "session" : "session gone" });
      }),
    ),
  );
  if (!open.length) parts.push(el("p", { class: "book-note" }, t("all_full")));
  return parts;
}

function timeAtSite(date) {
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone: page.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
  } catch {
    return "00:00";
  }
}

function field(name, labelKey, attrs, hintKey) {
  const id = `f-${name}`;
  const invalid = state.invalid[name];
  const described = [hintKey ? `${id}-hint` : null, invalid ? `${id}-error` : null].filter(Boolean).join(" ");
  const input = el("input", {
    id,
    name,
    ...attrs,
    "aria-invalid": invalid ? "true" : null,
    "aria-describedby": described || null,
  });
  input.value = state.form[name];
  input.addEventListener("input", () => {
    state.form[name] = input.value;
  });
  return el(
    "div",
    { class: invalid ? "field invalid" : "field" },
    el("label", { for: id }, t(labelKey)),
    input,
    hintKey ? el("p", { class: "hint", id: `${id}-hint` }, t(hintKey)) : null,
    invalid ? el("p", { class: "field-error", id: `${id}-error` }, t(invalid.key, invalid.vars)) : null,
  );
}

function stepForm() {
  const found = serviceOf(state.service);
  const session = state.slots && state.slots.sessions.find((s) => s.id === state.session);
  if (!found || !session) return stepAgency();
  const form = el(
    "form",
    { class: "book-form", novalidate: true },
    field("nik", "nik", { inputmode: "numeric", autocomplete: "off", maxlength: "24", required: true, spellcheck: "false" }, "nik_hint"),
    field("name", "name", { autocomplete: "name", maxlength: "100", required: true }),
    field("phone", "phone", { type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: "20" }, "phone_hint"),
    state.error ? errorBox() : null,
    el("button", { type: "submit", class: "primary", disabled: state.sending }, state.sending ? t("sending") : t("submit")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  return [
    backButton(),
    ...heading(t("your_data"), 5),
    el("p", { class: "context chosen" }, t("chosen", { service: found.service.name, date: longDate(state.date), start: session.start, end: session.end })),
    form,
  ];
}

function errorBox() {
  const box = el("div", { class: "book-error", role: "alert", tabindex: "-1", id: "book-error" }, el("p", {}, message(state.error)));
  if (["session_full", "day_full", "session_over"].includes(state.error.key)) {
    box.append(
      el("button", { type: "button", class: "secondary", onclick: () => retrySession() }, t("pick_session")),
    );
  }
  return box;
}

async function retrySession() {
  const keep = state.error;
  go("session");
  state.notice = message(keep);
  render();
  await loadSlots();
  if (state.step === "session") render();
}

// -- the NIK and the other fields, before sending -------------------------------------------

function digitsOf(nik) {
  return nik.replace(/[\s.-]/g, "");
}

function validate() {
  const invalid = {};
  const nik = digitsOf(state.form.nik);
  if (!/^\d{16}$/.test(nik)) invalid.nik = { key: "err_nik_digits", vars: { n: nik.replace(/\D/g, "").length } };
  else if (/^0+$/.test(nik)) invalid.nik = { key: "err_nik_zero" };
  if (!state.form.name.trim()) invalid.name = { key: "err_name" };
  const phone = state.form.phone.replace(/[\s().-]/g, "");
  if (phone && !/^\+?\d{8,15}$/.test(phone)) invalid.phone = { key: "err_phone" };
  return invalid;
}

function focusProblem() {
  const first = document.querySelector("[aria-invalid=true]") || $("book-error");
  if (!first) return;
  first.scrollIntoView({ block: "center" });
  first.focus({ preventScroll: true });
}

async function submit() {
  if (state.sending) return;
  state.invalid = validate();
  state.error = null;
  if (Object.keys(state.invalid).length) {
    render();
    focusProblem();
    return;
  }
  const body = {
    service: state.service,
    date: state.date,
    session: state.session,
    nik: digitsOf(state.form.nik),
    name: state.form.name.trim(),
  };
  if (state.form.phone.trim()) body.phone = state.form.phone.trim();
  state.sending = true;
  render();
  try {
    const answer = await retrying("POST", `/api/v1/sites/${SITE}/bookings`, { body });
    state.form = { nik: "", name: "", phone: "" }; // the NIK is not kept a moment longer
    state.sending = false;
    state.booking = answer.booking;
    state.fresh = true;
    remember(answer.booking);
    history.replaceState({ step: "booking" }, "", `/book/${SITE}/${encodeURIComponent(answer.booking.id)}`);
    go("booking", { push: false });
  } catch (err) {
    state.sending = false;
    const error = errorOf(err);
    if (error.field) {
      state.invalid[error.field] = { key: `invalid_${error.field}` };
    } else {
      state.error = error;
    }
    render();
    focusProblem();
  }
}

// -- answers of the API in the visitor's words ------------------------------------------

const KNOWN = new Set([
  "already_booked", "session_full", "day_full", "rate_limited", "session_over", "holiday",
  "date_past", "date_too_far", "no_sessions", "no_bookings",
]);

function errorOf(err) {
  if (!(err instanceof ApiError)) return { key: "failed", vars: { message: String(err) } };
  if (err.status === 0) return { key: "network" };
  if (KNOWN.has(err.code)) return { key: err.code };
  if (err.status === 429) return { key: "rate_limited" };
  if (err.code === "invalid_field") {
    const name = (err.message || "").split(":")[0].trim();
    if (["nik", "name", "phone"].includes(name)) return { key: `invalid_${name}`, field: name };
    return { key: "invalid_other" };
  }
  if (err.status >= 500) return { key: "unavailable" };
  return { key: "failed", vars: { message: err.message } };
}

function message(error) {
  return t(error.key, error.vars || {});
}

// -- the booking -------------------------------------------------------------------------------

function formatCode(code) {
  return code.length === 8 ? `${code.slice(0, 4)} ${code.slice(4)}` : code;
}

function row(labelKey, value) {
  return value ? [el("dt", {}, t(labelKey)), el("dd", {}, value)] : [];
}

function stepBooking() {
  const b = state.booking;
  const found = serviceOf(b.service);
  const serviceName = found ? `${found.service.name} · ${found.agency.short_name}` : b.service;
  const booked = b.status === "booked";
  const parts = [
    el("h2", { class: "step-title", tabindex: "-1" }, t(state.fresh && booked ? "booked_title" : "booking_title")),
    el("p", { class: `booking-status status-${b.status}` }, t(`status_${b.status}`)),
  ];
  const card = el("section", { class: "booking-card", "aria-label": t("code") });
  card.append(el("p", { class: "code-label" }, t("code")), el("p", { class: "code", id: "code" }, formatCode(b.code)));
  if (booked) {
    card.append(
      el("div", { class: "qr-box" }, qrSvg(b.code, t("qr_label", { code: b.code }))),
      el("p", { class: "kiosk-help" }, t("show_at_kiosk", { opens: minusMinutes(b.start, page.check_in_margin_min), end: b.end })),
    );
  }
  card.append(
    el(
      "dl",
      { class: "details" },
      row("service", serviceName),
      row("date", longDate(b.date)),
      row("session", `${b.start}–${b.end}`),
      row("holder", b.name),
      row("nik_masked", b.nik),
      row("phone_short", b.phone),
    ),
  );
  parts.push(card);
  if (b.status === "checked_in" && b.ticket) {
    parts.push(el("p", { class: "ticket-line" }, t("ticket", { number: b.ticket.number })));
    if (b.ticket.id) {
      parts.push(el("a", { class: "primary link-button", href: `/t/${SITE}/${encodeURIComponent(b.ticket.id)}` }, t("open_ticket")));
    }
  }
  if (b.status === "cancelled") parts.push(el("p", { class: "book-note" }, t("cancelled_help")));
  if (b.status === "expired") parts.push(el("p", { class: "book-note" }, t("expired_help")));
  if (booked) {
    const copied = el("span", { class: "copied", role: "status" }, state.notice);
    parts.push(
      el(
        "div",
        { class: "keep" },
        el("p", {}, t("keep_link")),
        el("button", { type: "button", class: "secondary", onclick: () => copyLink(copied) }, t("copy")),
        copied,
      ),
    );
    if (state.error) parts.push(el("p", { class: "book-error", role: "alert" }, message(state.error)));
    parts.push(el("button", { type: "button", class: "cancel", id: "cancel-booking", onclick: cancelBooking }, t("cancel")));
  }
  parts.push(el("p", { class: "again" }, el("a", { href: `/book/${SITE}` }, t("book_again"))));
  return parts;
}

async function copyLink(status) {
  try {
    await navigator.clipboard.writeText(location.href);
    state.notice = t("copied");
  } catch {
    state.notice = location.href; // no clipboard: show the link to copy by hand
  }
  status.textContent = state.notice;
}

async function cancelBooking() {
  const dialog = $("confirm");
  const answer = await new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
  });
  if (answer !== "yes") return;
  try {
    const data = await retrying("POST", `/api/v1/sites/${SITE}/bookings/${encodeURIComponent(state.booking.id)}/cancel`);
    state.booking = data.booking;
    state.error = null;
  } catch (err) {
    const error = errorOf(err);
    state.error = { key: "cancel_failed", vars: { message: message(error) } };
    await loadBooking(state.booking.id);
  }
  render();
}

async function loadBooking(id) {
  try {
    const data = await api("GET", `/api/v1/sites/${SITE}/bookings/${encodeURIComponent(id)}`);
    state.booking = data.booking;
    state.step = "booking";
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) state.step = "missing";
    else state.error = errorOf(err);
  }
}

function stepMissing() {
  return [
    el("h2", { class: "step-title", tabindex: "-1" }, t("booking_title")),
    el("p", { class: "book-error", role: "alert" }, t("not_found")),
    el("p", { class: "again" }, el("a", { href: `/book/${SITE}` }, t("book_again"))),
  ];
}

function stepLoading() {
  const parts = [el("p", { class: "book-note", role: "status" }, t("loading"))];
  if (state.error) parts.push(el("p", { class: "book-error", role: "alert" }, message(state.error)));
  return parts;
}

// -- drawing ---------------------------------------------------------------------------------

const VIEWS = {
  agency: stepAgency,
  service: stepService,
  date: stepDate,
  session: stepSession,
  form: stepForm,
  booking: stepBooking,
  missing: stepMissing,
  loading: stepLoading,
};

function render() {
  applyStatic(document, t);
  document.title = `${t("title")} — ${page.name}`;
  const steps = $("steps");
  clear(steps);
  steps.append(...VIEWS[state.step]().flat().filter(Boolean));
  steps.dataset.step = state.step;
  show($("title"), !["booking", "missing"].includes(state.step));
}

async function start() {
  bindSwitch($("lang"), render);
  const id = root.dataset.booking;
  if (id) {
    state.step = "loading";
    render();
    await loadBooking(id);
    render();
    return;
  }
  state.step = firstStep();
  history.replaceState({ step: state.step }, "");
  render();
}

start();
