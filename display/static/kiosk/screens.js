// The kiosk's screens (agencies, services, checkin, ticket): each screen's module adds
// its own with addScreen; this draws the one that is up, moves between them, goes back
// to the start, and holds what lies over every screen: the notice, the busy overlay,
// the scroll cue.

import { show } from "../ticket/dom.js";
import { applyStatic, getLang, setLang } from "../common/i18n.js";
import { $, hasBookings, t, view } from "./state.js";

const NOTICE_MS = 10_000;
const SCREENS = ["agencies", "services", "checkin", "ticket"];

const screens = new Map(); // name → {draw, move}
let noticeTimer = null;

// `draw()` fills the screen while it is up; `move(to)` hears of every move between
// screens, with the screen moved to (to let go of what the screen holds).
export function addScreen(name, { draw = () => {}, move = () => {} }) {
  screens.set(name, { draw, move });
}

export function render() {
  applyStatic(document, t);
  $("service-search").placeholder = t("search_placeholder");
  for (const name of SCREENS) show($(`screen-${name}`), view.screen === name);
  show($("reception"), view.staff);
  $("reception").setAttribute("aria-pressed", String(view.reception));
  document.body.classList.toggle("reception-mode", view.reception);
  document.body.classList.toggle("on-ticket", view.screen === "ticket");
  if (view.mode === "remote") {
    view.phone.render();
    return;
  }
  if (!view.site) return;
  show($("checkin-entry"), hasBookings());
  const screen = screens.get(view.screen);
  if (screen) screen.draw();
  requestAnimationFrame(updateMore);
}

// Draws `name` again, when it is the screen that is up.
export function redraw(name) {
  if (view.screen === name && screens.has(name)) screens.get(name).draw();
}

// The scroll cue: shown while there is more below than the screen shows.
export function updateMore() {
  const rest = document.documentElement.scrollHeight - (window.scrollY + window.innerHeight);
  show($("more"), view.mode === "kiosk" && view.screen !== "ticket" && rest > 40);
}

export function notice(message) {
  $("notice-text").textContent = message;
  show($("notice"), true);
  $("notice-ok").focus();
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => show($("notice"), false), NOTICE_MS);
}

export function busy(on, text = "") {
  view.busy = on;
  $("taking-text").textContent = text;
  show($("taking"), on);
}

export function go(screen) {
  for (const { move } of screens.values()) move(screen);
  view.screen = screen;
  render();
  window.scrollTo(0, 0);
}

// Back to the start, as the next visitor should find it.
export function reset() {
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

export function bindScreens() {
  for (const type of ["scroll", "resize"]) window.addEventListener(type, updateMore, { passive: true });
  $("more").addEventListener("click", () => window.scrollBy({ top: window.innerHeight * 0.6, behavior: "smooth" }));
  $("notice-ok").addEventListener("click", () => show($("notice"), false));
}
