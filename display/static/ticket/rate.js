// The counter's rating tablet, /rate/{site}/{counter}: follows the counter's events
// and after each `ticket.finished` there offers the survey for that ticket, rated
// through the counter (`POST .../counters/{counter}/rating`: a kiosk token never sees
// ticket ids); back to the idle screen after a rating is sent or after 60 s.

import { EventStream } from "../common/connection.js";
import { clear, el, show } from "./dom.js";
import { applyStatic, bindSwitch, translator } from "../common/i18n.js";
import { STRINGS } from "./strings.js";
import { Survey } from "./survey.js";

const RESET_MS = 60_000;
const THANKS_MS = 6_000;

const t = translator(STRINGS);
const root = document.getElementById("rate");
const config = {
  site: root.dataset.site,
  counter: root.dataset.counter,
};
const $ = (id) => document.getElementById(id);

let current = null; // {ticket, survey}
let timer = null;
let live = false;

function idle() {
  clearTimeout(timer);
  current = null;
  clear($("rate-survey"));
  show($("rate-idle"), true);
  show($("rate-active"), false);
}

function armReset(ms) {
  clearTimeout(timer);
  timer = setTimeout(idle, ms);
}

function render() {
  applyStatic(document, t);
  if (!current) return;
  $("rate-for").textContent = t("tablet_for", { number: current.ticket.number });
  current.survey.render();
}

function offer(ticket) {
  const survey = new Survey($("rate-survey"), {
    site: config.site,
    ticketId: ticket.number,
    path: `/api/v1/sites/${encodeURIComponent(config.site)}/counters/${encodeURIComponent(config.counter)}/rating`,
    extra: { number: ticket.number },
    t,
    onFinished: () => armReset(THANKS_MS),
  });
  current = { ticket, survey };
  show($("rate-idle"), false);
  show($("rate-active"), true);
  render();
  armReset(RESET_MS);
}

function onEvent(event) {
  if (event.type !== "ticket.finished" || !event.ticket) return;
  const counter = event.counter || event.ticket.counter;
  if (!counter || counter.id !== config.counter) return;
  if (event.ticket.rated) return;
  if (!live) {
    // replayed after a reconnect: only a visitor who may still be standing here
    const finished = Date.parse(event.ticket.finished_at || "");
    if (!(finished > Date.now() - RESET_MS)) return;
  }
  offer(event.ticket);
}

function start() {
  bindSwitch($("lang"), render);
  // any touch keeps an open survey from resetting under the visitor's finger
  document.addEventListener("pointerdown", () => {
    if (current && current.survey.phase === "form") armReset(RESET_MS);
  });
  idle();
  render();
  new EventStream({
    site: config.site,
    filters: { counter: config.counter },
    onSnapshot: () => {
      live = true;
      root.dataset.ready = "true"; // events from here on are offered (tests wait for it)
    },
    onEvent,
    onMessage: (message) => {
      if (message.type !== "ready") return;
      live = true;
      root.dataset.ready = "true";
    },
    onStatus: (status) => {
      if (status !== "online") {
        live = false;
        delete root.dataset.ready;
      }
      $("conn").dataset.online = String(status === "online");
    },
  }).start();
}

start();
