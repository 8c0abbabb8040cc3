// The ticket kiosk, /kiosk/{site}: agency → service → one tap for a ticket, printed at
// once and shown on screen; or a booking's check-in (keypad, USB scanner, camera).
// Issues tickets with the kiosk's device cookie (paired by the page handler), or, in
// reception mode, with a logged-in officer's session. Back to the start 10 s after a
// ticket, or 30 s without a touch. Unpaired: a phone gets the phone tickets
// (remote.js), a big screen a neutral "Kiosk belum siap".

import { ApiError, api, retrying } from "../common/api.js";
import { EventStream } from "../common/connection.js";
import { clear, show } from "../ticket/dom.js";
import { formatDate, formatTime } from "../ticket/format.js";
import { applyStatic, bindSwitch, getLang, setLang, translator } from "../ticket/i18n.js";
import { agencyTiles, availability, matches, serviceButtons } from "./catalogue.js";
import { Camera, CODE_ALPHABET, CODE_LENGTH, ScanBuffer, acceptChar, cameraSupported, codeBoxes } from "./checkin.js";
import { keys } from "./keyboard.js";
import { explainCheckIn, explainTake, opensAt } from "./messages.js";
import { PhonePage } from "./remote.js";
import { STRINGS } from "./strings.js";
import { printTicket, renderTicket } from "./ticket.js";

const IDLE_MS = 30_000;
const TICKET_MS = 10_000; // the ticket screen returns to the start by itself
const NOTICE_MS = 10_000;
const SEARCH_FROM = 12; // an agency with this many services gets a search box
const PHONE_SCREEN = "(max-width: 899px)"; // phones and small tablets, not kiosks
const STAFF_ROLES = ["officer", "supervisor", "admin"];

const t = translator(STRINGS);
const root = document.getElementById("kiosk");
const config = {
  site: root.dataset.site,
  siteName: root.dataset.siteName,
  timezone: root.dataset.timezone || "Asia/Jakarta",
  paired: root.dataset.paired === "true",
  setup: root.dataset.setup === "true",
};
const $ = (id) => document.getElementById(id);
const sitePath = `/api/v1/sites/${encodeURIComponent(config.site)}`;

const view = {
  site: null, // the site document
  mode: "none", // kiosk | remote | none
  waiting: {},
  quotaLeft: {},
  screen: "agencies", // agencies | services | checkin | ticket
  agency: null,
  issued: null, // {answer, service, agency, booking} of the ticket on screen
  priority: false,
  staff: false, // a logged-in officer/supervisor/admin is at this browser
  reception: false,
  busy: false,
  code: "", // the booking code typed so far
  search: "",
  ticketEnds: 0,
  minute: -1,
};
const scan = new ScanBuffer();
const camera = new Camera($("camera-video"), (code) => checkIn(code), () => show($("camera"), false));
let phone = null; // the phone page (remote.js), when this is one
let idleTimer = null;
let noticeTimer = null;
let stateTimer = null;
let stream = null; // the site's event stream, once launched

const hoursNow = () => ({ holidays: (view.site && view.site.holidays) || [], timeZone: config.timezone, now: new Date() });
const hasBookings = () => Boolean(view.site && view.site.services.some((service) => service.bookings));

// ---------------------------------------------------------------- rendering

function priorityAllowed() {
  return Boolean(view.site && view.site.kiosk_priority) || view.reception;
}

function renderServices() {
  const box = clear($("services"));
  if (!view.agency) return;
  $("agency-name").textContent = view.agency.short_name || view.agency.name;
  $("agency-full").textContent = view.agency.name;
  const all = view.site.services.filter((service) => service.agency === view.agency.id);
  const searching = all.length >= SEARCH_FROM;
  show($("search"), searching);
  const shown = searching && view.search.trim() ? all.filter((service) => matches(service, view.search)) : all;
  $("search-count").textContent = searching && view.search.trim() ? t("search_count", { n: shown.length, total: all.length }) : "";
  const options = { waiting: view.waiting, quotaLeft: view.quotaLeft, when: hoursNow(), lang: getLang() };
  if (!shown.length && all.length) box.append(Object.assign(document.createElement("p"), { className: "empty", textContent: t("search_none", { q: view.search.trim() }) }));
  else box.append(...serviceButtons(shown, options, t, take));
  show($("priority"), priorityAllowed());
  $("priority").setAttribute("aria-pressed", String(view.priority));
  $("priority-label").textContent = view.priority ? t("priority_on") : t("priority");
}

function renderCode() {
  clear($("code")).append(...codeBoxes(view.code));
  $("code").setAttribute("aria-label", view.code ? view.code.split("").join(" ") : t("checkin_help"));
  $("checkin-go").disabled = view.code.length !== CODE_LENGTH;
}

function render() {
  applyStatic(document, t);
  $("service-search").placeholder = t("search_placeholder");
  show($("screen-agencies"), view.screen === "agencies");
  show($("screen-services"), view.screen === "services");
  show($("screen-checkin"), view.screen === "checkin");
  show($("screen-ticket"), view.screen === "ticket");
  show($("reception"), view.staff);
  $("reception").setAttribute("aria-pressed", String(view.reception));
  document.body.classList.toggle("reception-mode", view.reception);
  document.body.classList.toggle("on-ticket", view.screen === "ticket");
  if (view.mode === "remote") {
    phone.render();
    return;
  }
  if (!view.site) return;
  show($("checkin-entry"), hasBookings());
  if (view.screen === "agencies") clear($("agencies")).append(...agencyTiles(view.site, t, pickAgency));
  if (view.screen === "services") renderServices();
  if (view.screen === "checkin") renderCode();
  if (view.screen === "ticket" && view.issued) {
    renderTicket($("ticket"), {
      siteId: config.site,
      publicUrl: view.site.public_url || "",
      siteName: view.site.name,
      agency: view.issued.agency,
      service: view.issued.service,
      booking: view.issued.booking,
      answer: view.issued.answer,
      lang: getLang(),
      timezone: config.timezone,
      t,
    });
    countdown();
  }
  requestAnimationFrame(updateMore);
}

// The scroll cue: shown while there is more below than the screen shows.
function updateMore() {
  const rest = document.documentElement.scrollHeight - (window.scrollY + window.innerHeight);
  show($("more"), view.mode === "kiosk" && view.screen !== "ticket" && rest > 40);
}

function countdown() {
  const left = Math.max(0, Math.ceil((view.ticketEnds - Date.now()) / 1000));
  $("back-in").textContent = t("back_in", { n: left });
  if (view.screen === "ticket" && left <= 0) reset();
}

function tick() {
  const lang = getLang();
  $("clock-time").textContent = formatTime(null, lang, config.timezone);
  $("clock-date").textContent = formatDate(null, lang, config.timezone);
  if (view.screen === "ticket") countdown();
  const minute = new Date().getMinutes();
  if (minute !== view.minute) {
    // opening hours move on: "Buka pukul 08.00" becomes a service to take
    view.minute = minute;
    if (view.mode === "remote") phone.render();
    if (view.mode === "kiosk" && view.screen === "services" && !view.busy) renderServices();
  }
}

function notice(message) {
  $("notice-text").textContent = message;
  show($("notice"), true);
  $("notice-ok").focus();
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => show($("notice"), false), NOTICE_MS);
}

function busy(on, text = "") {
  view.busy = on;
  $("taking-text").textContent = text;
  show($("taking"), on);
}

// ---------------------------------------------------------------- navigation

function go(screen) {
  if (screen !== "checkin") camera.stop();
  if (screen !== "services") {
    view.search = "";
    $("service-search").value = "";
    show($("search-keys"), false);
  }
  if (screen === "ticket") view.ticketEnds = Date.now() + TICKET_MS;
  view.screen = screen;
  scan.clear();
  render();
  window.scrollTo(0, 0);
}

function reset() {
  view.agency = null;
  view.issued = null;
  view.priority = false;
  view.code = "";
  show($("notice"), false);
  if (getLang() !== "id") {
    setLang("id"); // the next visitor starts in Indonesian
    $("lang").textContent = "English";
    $("lang").lang = "en"; // the switch's own language (WCAG 3.1.2)
  }
  go("agencies");
}

function touched() {
  clearTimeout(idleTimer);
  if (view.screen === "ticket") view.ticketEnds = Date.now() + TICKET_MS; // still reading
  idleTimer = setTimeout(() => {
    if (view.mode !== "kiosk") return;
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

const when = (iso) => opensAt(iso, t, getLang(), config.timezone);

function issued(answer, service, agency, booking = null) {
  view.issued = { answer, service, agency, booking };
  view.priority = false;
  go("ticket");
  printTicket($("ticket"));
}

async function take(service) {
  if (view.busy || availability(service, view.quotaLeft, hoursNow()) !== "open") return;
  const priority = view.priority && priorityAllowed();
  busy(true, t("taking"));
  try {
    const body = { service: service.id };
    if (priority) body.priority = true;
    issued(await retrying("POST", `${sitePath}/tickets`, { body, tries: 3 }), service, view.agency);
  } catch (err) {
    if (err instanceof ApiError && err.code === "quota_reached") view.quotaLeft[service.id] = 0;
    if (err instanceof ApiError && err.code === "service_closed") service.open = false;
    const message = explainTake(err, { priority }, t, when);
    renderServices();
    notice(message);
    if (err instanceof ApiError && err.status === 401) unpaired();
  } finally {
    busy(false);
  }
}

// ---------------------------------------------------------------- check-in of a booking

async function checkIn(code) {
  if (view.busy || view.mode !== "kiosk") return;
  camera.stop();
  show($("notice"), false);
  busy(true, t("checking"));
  try {
    const answer = await retrying("POST", `${sitePath}/bookings/${encodeURIComponent(code)}/check-in`, { tries: 3 });
    const service = view.site.services.find((s) => s.id === answer.ticket.service) || null;
    const agency = (service && view.site.agencies.find((a) => a.id === service.agency)) || null;
    view.code = "";
    issued(answer, service, agency, answer.booking || { code });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) view.code = "";
    else view.code = code; // a typo: let the visitor correct it
    if (view.screen === "checkin") renderCode();
    notice(explainCheckIn(err, code, t, when));
  } finally {
    busy(false);
  }
}

function codeKey(key) {
  if (key === "Backspace") view.code = view.code.slice(0, -1);
  else if (key === "Clear") view.code = "";
  else view.code = acceptChar(view.code, key);
  renderCode();
}

// A USB scanner types the code (or a link holding it) and Enter, anywhere on the start
// and check-in screens; on the check-in screen a keyboard also types into the code.
function onKey(event) {
  if (view.mode !== "kiosk" || view.busy || !view.site || !["agencies", "checkin"].includes(view.screen)) return;
  if (event.target instanceof HTMLInputElement) return;
  const code = scan.feed(event);
  if (view.screen === "checkin") {
    if (event.key === "Backspace") codeKey("Backspace");
    else if (event.key.length === 1 && CODE_ALPHABET.includes(event.key.toUpperCase())) codeKey(event.key);
  }
  if (event.key === "Enter") {
    event.preventDefault(); // not a click on the focused button
    const typed = view.screen === "checkin" && view.code.length === CODE_LENGTH ? view.code : null;
    if (code || typed) checkIn(code || typed);
  }
}

async function openCamera() {
  show($("camera"), true);
  try {
    await camera.start();
  } catch {
    show($("camera"), false);
    notice(t("camera_failed"));
  }
}

// ---------------------------------------------------------------- the service search

function searchKey(key) {
  const input = $("service-search");
  if (key === "Backspace") input.value = input.value.slice(0, -1);
  else if (key === "Clear") input.value = "";
  else input.value += key.toLowerCase();
  view.search = input.value;
  renderServices();
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
  view.mode = "kiosk";
  show($("app"), true);
  await loadSite();
  render();
  show($("camera-open"), await cameraSupported());
  stream = new EventStream({
    site: config.site,
    onSnapshot: (state) => applyState(state),
    onEvent,
    onStatus: (status, reason) => {
      if (status === "offline" && String(reason || "").includes("revoked")) unpaired();
    },
  }).start();
}

// The kiosk's token was revoked (the server closed its stream, or refused a ticket):
// back to the neutral "Kiosk belum siap" the page shows unpaired, until staff pair it
// again. A kiosk run by a logged-in officer (reception) keeps going on that session.
function unpaired() {
  if (view.mode !== "kiosk" || view.staff) return;
  view.mode = "none";
  if (stream) stream.stop();
  camera.stop();
  show($("app"), false);
  show($("more"), false);
  show($("pairing"), true);
}

function bind() {
  bindSwitch($("lang"), () => {
    tick();
    render();
  });
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, touched, { capture: true });
  document.addEventListener("keydown", onKey);
  for (const type of ["scroll", "resize"]) window.addEventListener(type, updateMore, { passive: true });
  $("more").addEventListener("click", () => window.scrollBy({ top: window.innerHeight * 0.6, behavior: "smooth" }));
  $("back").addEventListener("click", () => go("agencies"));
  $("checkin-back").addEventListener("click", () => go("agencies"));
  $("checkin-entry").addEventListener("click", () => go("checkin"));
  $("checkin-go").addEventListener("click", () => view.code.length === CODE_LENGTH && checkIn(view.code));
  $("code-keys").append(...keys(CODE_ALPHABET, t, codeKey));
  $("camera-open").addEventListener("click", openCamera);
  $("camera-stop").addEventListener("click", () => camera.stop());
  $("search-keys").append(...keys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", t, searchKey, { space: true }));
  $("service-search").addEventListener("focus", () => show($("search-keys"), true));
  $("service-search").addEventListener("input", (event) => {
    view.search = event.target.value;
    renderServices();
  });
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
}

async function start() {
  bind();
  tick();
  setInterval(tick, 1000);
  applyStatic(document, t);

  const staff = await whoAmI();
  view.staff = Boolean(staff);
  if (config.paired || staff) {
    show($("pairing"), false);
    await launch();
  } else if (!config.setup && window.matchMedia(PHONE_SCREEN).matches) {
    phone = new PhonePage({
      site: config.site,
      sitePath,
      timeZone: config.timezone,
      t,
      ui: { busy, notice, hours: hoursNow, when },
    });
    if (await phone.start()) view.mode = "remote";
  } else {
    show($("pairing"), true); // "Kiosk belum siap" (or, at ?setup=1, the instructions)
    render();
  }
  touched();
}

start();
