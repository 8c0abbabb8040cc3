// The visitor's status page, /t/{site}/{ticket_id}: the ticket's number, position and
// estimated wait, live over the event stream (`ticket=ID` adds `ticket.position`
// messages); a full-screen "go to counter" view when called (again on a recall), gone
// once service starts ("Sedang dilayani di Loket 5"); the phone alert (sound and
// vibration when near and when called, switched on by the visitor: alert.js); cancel
// while waiting; the satisfaction survey once done.

import { ApiError, api, retrying } from "../common/api.js";
import { EventStream } from "../common/connection.js";
import { PhoneAlert } from "./alert.js";
import { show } from "./dom.js";
import { formatDate, formatTime } from "./format.js";
import { applyStatic, bindSwitch, getLang, translator } from "../common/i18n.js";
import { STRINGS } from "./strings.js";
import { Survey } from "./survey.js";

const t = translator(STRINGS);
const root = document.getElementById("status");
const config = {
  site: root.dataset.site,
  ticketId: root.dataset.ticket,
  timezone: root.dataset.timezone || undefined,
  services: JSON.parse(root.dataset.services || "{}"),
  agencies: JSON.parse(root.dataset.agencies || "{}"),
  near: Number(root.dataset.near) || 3,
};
const path = `/api/v1/sites/${encodeURIComponent(config.site)}/tickets/${encodeURIComponent(config.ticketId)}`;
const $ = (id) => document.getElementById(id);

let ticket = null;
let position = null;
let estimate = null;
let span = null; // [low, high] s of the last API answer, for the central `apiEstimate`
let apiEstimate = null;
let alerted = null; // the call last shown full-screen: counter, recalls, called_at
let survey = null;
let online = true;
let nearAlerted = false; // the "near" alert is given once per ticket
const phone = new PhoneAlert({
  sound: root.dataset.chime,
  key: `loket.alert.${config.ticketId}`,
});

function counterName() {
  return ticket && ticket.counter ? ticket.counter.name : "";
}

function isMine(other) {
  if (!other || !ticket) return false;
  if (other.id) return other.id === config.ticketId;
  // public streams hide ids: a number is unique per prefix and day, issued_at pins the day
  return other.number === ticket.number && other.issued_at === ticket.issued_at;
}

function statusLine() {
  switch (ticket.status) {
    case "called":
      return t("called_at", { counter: counterName() });
    case "serving":
      return t("serving_at", { counter: counterName() });
    default:
      return t(`status_${ticket.status}`);
  }
}

function helpLine() {
  switch (ticket.status) {
    case "waiting":
      return phone.enabled ? t("keep_open_alert") : t("keep_open");
    case "no_show":
      return t("no_show_help");
    case "cancelled":
      return t("cancelled_help");
    case "done":
      return t("done_help");
    default:
      return "";
  }
}

function renderSurvey() {
  const box = $("survey");
  const wanted = ticket.status === "done";
  show(box, wanted);
  if (!wanted) return;
  if (!survey) {
    survey = new Survey(box, {
      site: config.site,
      ticketId: config.ticketId,
        t,
      onFinished: () => {
        if (ticket) ticket.rated = true;
      },
    });
    if (ticket.rated) survey.phase = "already";
  } else if (ticket.rated && survey.phase === "form") {
    survey.phase = "already"; // rated elsewhere (the counter's tablet)
  }
  survey.render();
}

function render() {
  applyStatic(document, t);
  if (!ticket) return;
  const lang = getLang();
  document.body.dataset.status = ticket.status;
  $("number").textContent = ticket.number;
  const service = config.services[ticket.service] || ticket.service;
  const agency = config.agencies[ticket.agency] || "";
  $("service").textContent = agency ? `${service} · ${agency}` : service;
  show($("priority"), Boolean(ticket.priority));
  $("status-text").textContent = statusLine();
  $("issued").textContent = `${t("issued")}: ${formatDate(ticket.issued_at, lang, config.timezone)}, ${formatTime(ticket.issued_at, lang, config.timezone)}`;
  const waiting = ticket.status === "waiting";
  show($("figures"), waiting);
  if (waiting) {
    const ahead = position ? position - 1 : null;
    $("ahead-label").textContent = t("ahead");
    $("ahead").textContent = ahead === null ? "–" : ahead === 0 ? t("ahead_none") : String(ahead);
    $("wait").textContent = waitRange(lang) || t("estimate_unknown");
  }
  $("help").textContent = helpLine();
  renderAlert();
  show($("cancel"), waiting);
  $("conn").textContent = online ? t("live") : t("offline");
  $("conn").dataset.online = String(online);
  $("call-number").textContent = ticket.number;
  $("call-title").textContent = t("go_to", { counter: counterName() });
  renderSurvey();
}

function renderAlert() {
  const live = ticket.status === "waiting" || ticket.status === "called";
  show($("alert-box"), live);
  const toggle = $("alert-toggle");
  toggle.setAttribute("aria-checked", String(phone.enabled));
  $("alert-help").textContent = phone.enabled
    ? t("alert_on", { n: config.near })
    : t("alert_off", { n: config.near });
}

function toggleAlert() {
  phone.set(!phone.enabled);
  if (phone.enabled && isNear()) nearAlerted = true; // already there: no second buzz
  render();
}

function isNear() {
  return ticket && ticket.status === "waiting" && position !== null && position <= config.near;
}

function alertIfNear() {
  if (nearAlerted || !isNear()) return;
  nearAlerted = true;
  phone.fire("near", { position });
}

function callView(visible) {
  show($("call"), visible);
  document.body.classList.toggle("calling", visible);
  if (visible) $("call-ok").focus();
}

function alertIfCalled() {
  if (ticket.status !== "called") {
    callView(false); // serving: "Sedang dilayani di Loket 5" on the card, not "go to"
    return;
  }
  nearAlerted = true; // past "near": a transfer back to waiting warns only when called
  const key = `${ticket.counter ? ticket.counter.id : ""}|${ticket.recalls}|${ticket.called_at}`;
  if (key === alerted) return;
  alerted = key;
  callView(true);
  phone.fire("called", { counter: counterName() });
}

// A range rounded for people: 5-minute steps under an hour, 15-minute ones beyond,
// "± 10–15 menit". The live messages carry the central estimate only: the range of the
// last API answer is moved along with it (its width in proportion).
const STEP = (s) => (s < 3600 ? 300 : 900);

function minutes(seconds) {
  return Math.round(seconds / 60);
}

function waitRange(lang) {
  if (estimate === null || !Number.isFinite(estimate)) return null;
  let low = estimate;
  let high = estimate;
  if (span && apiEstimate !== null) {
    const scale = apiEstimate > 0 ? estimate / apiEstimate : 1;
    [low, high] = [span[0] * scale, span[1] * scale];
  }
  if (high < 60) return t("wait_under_minute");
  low = Math.floor(Math.min(low, estimate) / STEP(low)) * STEP(low);
  high = Math.max(Math.ceil(Math.max(high, estimate) / STEP(high)) * STEP(high), low + STEP(low));
  if (high > 3 * 3600) return t("wait_over", { n: 3 });
  if (low === 0) return t("wait_upto", { n: minutes(high) });
  return t("wait_range", { low: minutes(low), high: minutes(high) });
}

function apply(next, nextPosition, nextEstimate, nextSpan) {
  ticket = { ...next, id: config.ticketId };
  position = nextPosition;
  estimate = nextEstimate;
  if (nextSpan !== undefined) {
    span = Array.isArray(nextSpan) ? nextSpan : null;
    apiEstimate = nextEstimate;
  }
  render();
  alertIfCalled();
  alertIfNear();
}

async function refresh() {
  try {
    const data = await api("GET", path);
    apply(data.ticket, data.position, data.estimated_wait_s, data.estimated_wait_range_s ?? null);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      location.reload(); // the server renders the friendly "not found" page
    }
    // otherwise the stream's reconnect brings us back here
  }
}

function onEvent(event) {
  if (!isMine(event.ticket)) return;
  const next = { ...event.ticket };
  if (!next.counter && event.counter && next.status !== "waiting") next.counter = event.counter;
  const waiting = next.status === "waiting";
  apply(next, waiting ? position : null, waiting ? estimate : null);
  if (waiting) refresh(); // a transfer: a new queue, a new position
}

function onMessage(message) {
  if (message.type === "ready") {
    refresh();
    return;
  }
  if (message.type !== "ticket.position" || !ticket) return;
  if (message.status !== ticket.status) {
    refresh(); // the full ticket carries the counter
    return;
  }
  position = message.position ?? null;
  estimate = message.estimated_wait_s ?? null;
  render();
  alertIfNear();
}

async function cancel() {
  const dialog = $("confirm");
  const answer = await new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
  });
  if (answer !== "yes") return;
  try {
    const data = await retrying("POST", `${path}/cancel`);
    apply(data.ticket, null, null);
  } catch (err) {
    $("help").textContent = t("cancel_failed", {
      message: err instanceof ApiError && err.status === 0 ? t("network") : err.message,
    });
    if (err instanceof ApiError && err.status === 409) refresh();
  }
}

function start() {
  bindSwitch($("lang"), render);
  $("alert-toggle").addEventListener("click", toggleAlert);
  $("cancel").addEventListener("click", cancel);
  $("call-ok").addEventListener("click", () => callView(false));
  render();
  refresh();
  new EventStream({
    site: config.site,
    ticket: config.ticketId,
    onSnapshot: () => refresh(),
    onEvent,
    onMessage,
    onStatus: (status) => {
      online = status === "online";
      if (ticket) render();
    },
  }).start();
}

start();
