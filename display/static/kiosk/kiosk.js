// The ticket kiosk, /kiosk/{site}: agency → service → one tap for a ticket, printed at
// once and shown on screen; or a booking's check-in (keypad, USB scanner, camera).
// Issues tickets with the kiosk's device cookie (paired by the page handler), or, in
// reception mode, with a logged-in officer's session. Back to the start 10 s after a
// ticket, or 30 s without a touch. Unpaired: a phone gets the phone tickets
// (remote.js), a big screen a neutral "Kiosk belum siap".
//
// This module wires the kiosk's parts: pairing.js (what this browser is), live.js (the
// site and its queues), screens.js (moving between the screens), chooser.js (agencies
// and services), booking.js (check-in), issued.js (the ticket screen); it keeps the
// clock and the idle reset.

import { formatDate, formatTime } from "../ticket/format.js";
import { applyStatic, bindSwitch, getLang } from "../common/i18n.js";
import { bindCheckIn } from "./booking.js";
import { bindChooser, renderServices } from "./chooser.js";
import { bindTicketScreen, countdown, holdTicket } from "./issued.js";
import { bindReception, openKiosk } from "./pairing.js";
import { bindScreens, render, reset } from "./screens.js";
import { $, config, t, view } from "./state.js";

const IDLE_MS = 30_000;

let idleTimer = null;

function tick() {
  const lang = getLang();
  $("clock-time").textContent = formatTime(null, lang, config.timezone);
  $("clock-date").textContent = formatDate(null, lang, config.timezone);
  if (view.screen === "ticket") countdown();
  const minute = new Date().getMinutes();
  if (minute !== view.minute) {
    // opening hours move on: "Buka pukul 08.00" becomes a service to take
    view.minute = minute;
    if (view.mode === "remote") view.phone.render();
    if (view.mode === "kiosk" && view.screen === "services" && !view.busy) renderServices();
  }
}

function touched() {
  clearTimeout(idleTimer);
  holdTicket(); // still reading
  idleTimer = setTimeout(() => {
    if (view.mode !== "kiosk") return;
    if (view.screen !== "agencies" || view.priority || getLang() !== "id") reset();
  }, IDLE_MS);
}

function bind() {
  bindSwitch($("lang"), () => {
    tick();
    render();
  });
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, touched, { capture: true });
  bindScreens();
  bindChooser();
  bindCheckIn();
  bindTicketScreen();
  bindReception();
}

async function start() {
  bind();
  tick();
  setInterval(tick, 1000);
  applyStatic(document, t);
  await openKiosk();
  touched();
}

start();
