// The ticket kiosk, /kiosk/{site}: agency → service → one tap for a ticket, printed at
// once and shown on screen. Issues tickets with the kiosk's device cookie (paired by
// the page handler), or, in reception mode, with a logged-in officer's session.
// Back to the start after 30 s without a touch.

import { ApiError, api, retrying } from "../common/api.js";
import { EventStream } from "../common/connection.js";
import { clear, show } from "../ticket/dom.js";
import { formatDate, formatTime } from "../ticket/format.js";
import { applyStatic, bindSwitch, getLang, setLang, translator } from "../ticket/i18n.js";
import { agencyTiles, availability, serviceButtons } from "./catalogue.js";
import { STRINGS } from "./strings.js";
import { printTicket, renderTicket } from "./ticket.js";

const IDLE_MS = 30_000;
const NOTICE_MS = 10_000;
const STAFF_ROLES = ["officer", "supervisor", "admin"];

const t = translator(STRINGS);
const root = document.getElementById("kiosk");
const config = {
  site: root.dataset.site,
  siteName: root.dataset.siteName,
  timezone: root.dataset.timezone || undefined,
  paired: root.dataset.paired === "true",
};
const $ = (id) => document.getElementById(id);
const sitePath = `/api/v1/sites/${encodeURIComponent(config.site)}`;

const view = {
  site: null, // the site document
  waiting: {},
  quotaLeft: {},
  screen: "agencies", // agencies | services | ticket
  agency: null,
  issued: null, // {answer, service, agency} of the ticket on screen
  priority: false,
  staff: false, // a logged-in officer/supervisor/admin is at this browser
  reception: false,
  busy: false,
};
let idleTimer = null;
let noticeTimer = null;
let stateTimer = null;

// ---------------------------------------------------------------- rendering

function priorityAllowed() {
  return Boolean(view.site && view.site.kiosk_priority) || view.reception;
}

function renderServices() {
  const box = clear($("services"));
  if (!view.agency) return;
  $("agency-name").textContent = view.agency.short_name || view.agency.name;
  $("agency-full").textContent = view.agency.name;
  const services = view.site.services.filter((service) => service.agency === view.agency.id);
  box.append(...serviceButtons(services, { waiting: view.waiting, quotaLeft: view.quotaLeft }, t, take));
  show($("priority"), priorityAllowed());
  $("priority").setAttribute("aria-pressed", String(view.priority));
  $("priority-label").textContent = view.priority ? t("priority_on") : t("priority");
}

function render() {
  applyStatic(document, t);
  show($("screen-agencies"), view.screen === "agencies");
  show($("screen-services"), view.screen === "services");
  show($("screen-ticket"), view.screen === "ticket");
  show($("reception"), view.staff);
  $("reception").setAttribute("aria-pressed", String(view.reception));
  document.body.classList.toggle("reception-mode", view.reception);
  if (!view.site) return;
  if (view.screen === "agencies") clear($("agencies")).append(...agencyTiles(view.site, t, pickAgency));
  if (view.screen === "services") renderServices();
  if (view.screen === "ticket" && view.issued) {
    renderTicket($("ticket"), {
      siteId: config.site,
      publicUrl: view.site.public_url || "",
      siteName: view.site.name,
      agency: view.issued.agency,
      service: view.issued.service,
      answer: view.issued.answer,
      lang: getLang(),
      timezone: config.timezone,
      t,
    });
  }
}

function tick() {
  const lang = getLang();
  $("clock-time").textContent = formatTime(null, lang, config.timezone);
  $("clock-date").textContent = formatDate(null, lang, config.timezone);
}

function notice(message) {
  $("notice-text").textContent = message;
  show($("notice"), true);
  $("notice-ok").focus();
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => show($("notice"), false), NOTICE_MS);
}

// ---------------------------------------------------------------- navigation

function go(screen) {
  view.screen = screen;
  render();
  window.scrollTo(0, 0);
}

function reset() {
  view.agency = null;
  view.issued = null;
  view.priority = false;
  show($("notice"), false);
  if (getLang() !== "id") {
    setLang("id"); // the next visitor starts in Indonesian
    $("lang").textContent = "English";
  }
  go("agencies");
}

function touched() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (view.screen !== "agencies" || view.priority || getLang() !== "id") reset();
  }, IDLE_MS);
}

function pickAgency(agency) {
  view.agency = agency;
  go("services");
  refreshState(); // quotas and queues as they are now
}

// ---------------------------------------------------------------- data

async function loadSite() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      view.site = await api("GET", sitePath);
      return;
    } catch (err) {
      if (attempt === 0) notice(t("err_network"));
      await new Promise((resolve) => setTimeout(resolve, Math.min(15000, 1000 * 2 ** attempt)));
    }
  }
}

function applyState(state) {
  view.waiting = state.waiting || {};
  view.quotaLeft = state.quota_left || {};
  if (view.screen === "services") renderServices();
}

async function refreshState() {
  try {
    applyState(await api("GET", `${sitePath}/state`));
  } catch {
    // the stream will bring it
  }
}

function refreshStateSoon() {
  if (stateTimer) return;
  stateTimer = setTimeout(() => {
    stateTimer = null;
    refreshState();
  }, 2000);
}

async function onEvent(event) {
  if (event.waiting) Object.assign(view.waiting, event.waiting);
  if (event.type === "site.config_changed") {
    await loadSite();
    if (view.agency) view.agency = view.site.agencies.find((a) => a.id === view.agency.id) || null;
    if (view.screen === "services" && !view.agency) view.screen = "agencies";
    refreshState();
    if (view.screen !== "ticket") render();
    return;
  }
  if (["ticket.issued", "ticket.cancelled", "site.day_reset"].includes(event.type)) refreshStateSoon();
  if (view.screen === "services") renderServices();
}

// ---------------------------------------------------------------- taking a ticket

// "08.00" today, "besok 08.00" tomorrow, else the weekday and date: in the site's zone.
function opensAt(iso) {
  const lang = getLang();
  const time = formatTime(iso, lang, config.timezone);
  const day = (when) => formatDate(when, lang, config.timezone);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
  if (day(iso) === day()) return t("at_time", { time });
  if (day(iso) === day(tomorrow)) return t("tomorrow_at", { time });
  return t("day_at", { day: day(iso), time });
}

function explain(err, service, priority) {
  if (!(err instanceof ApiError)) return t("err_other", { message: String(err) });
  if (err.code === "quota_reached") {
    view.quotaLeft[service.id] = 0;
    return t("err_quota");
  }
  if (err.code === "service_closed_now" || err.code === "holiday") {
    const next = err.details && err.details.next_open;
    const base = t(err.code === "holiday" ? "err_holiday" : "err_closed_now");
    return next ? `${base} ${t("opens_at", { when: opensAt(next) })}` : base;
  }
  if (err.code === "service_closed") {
    service.open = false;
    return t("err_closed");
  }
  if (err.status === 429) return t("err_rate");
  if (err.status === 403 && priority) return t("err_priority");
  if (err.status === 401 || err.status === 403) return t("err_auth");
  if (err.status === 0 || err.status >= 502) return t("err_network");
  return t("err_other", { message: err.message });
}

async function take(service) {
  if (view.busy || availability(service, view.quotaLeft) !== "open") return;
  view.busy = true;
  const priority = view.priority && priorityAllowed();
  show($("taking"), true);
  try {
    const body = { service: service.id };
    if (priority) body.priority = true;
    const answer = await retrying("POST", `${sitePath}/tickets`, { body, tries: 3 });
    view.issued = { answer, service, agency: view.agency };
    view.priority = false;
    go("ticket");
    printTicket($("ticket"));
  } catch (err) {
    const message = explain(err, service, priority);
    renderServices();
    notice(message);
  } finally {
    view.busy = false;
    show($("taking"), false);
  }
}

// ---------------------------------------------------------------- start

async function whoAmI() {
  try {
    const me = await api("GET", "/api/v1/auth/me");
    return STAFF_ROLES.includes(me.role) && (me.site === config.site || me.role === "admin") ? me : null;
  } catch {
    return null;
  }
}

async function launch() {
  show($("app"), true);
  await loadSite();
  render();
  new EventStream({
    site: config.site,
    onSnapshot: (state) => applyState(state),
    onEvent,
  }).start();
}

async function start() {
  bindSwitch($("lang"), () => {
    tick();
    render();
  });
  tick();
  setInterval(tick, 1000);
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, touched, { capture: true });
  $("back").addEventListener("click", () => go("agencies"));
  $("done").addEventListener("click", reset);
  $("notice-ok").addEventListener("click", () => show($("notice"), false));
  $("priority").addEventListener("click", () => {
    view.priority = !view.priority;
    renderServices();
  });
  $("reception").addEventListener("click", () => {
    view.reception = !view.reception;
    if (!view.reception) view.priority = false;
    render();
  });
  applyStatic(document, t);

  const staff = await whoAmI();
  view.staff = Boolean(staff);
  if (config.paired || staff) {
    show($("pairing"), false);
    await launch();
  } else {
    render();
  }
  touched();
}

start();
