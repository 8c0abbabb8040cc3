// The service chooser: the agency tiles (the start screen), then the chosen agency's
// services, with a search and its on-screen letters for a long list, the priority
// switch, and one tap for a ticket (catalogue.js builds the tiles and buttons).

import { ApiError, retrying } from "../common/api.js";
import { clear, show } from "../ticket/dom.js";
import { getLang } from "../common/i18n.js";
import { agencyTiles, availability, matches, serviceButtons } from "./catalogue.js";
import { issued } from "./issued.js";
import { keys } from "./keyboard.js";
import { refreshState } from "./live.js";
import { explainTake } from "./messages.js";
import { unpaired } from "./pairing.js";
import { addScreen, busy, go, notice } from "./screens.js";
import { $, hoursNow, sitePath, t, view, when } from "./state.js";

const SEARCH_FROM = 12; // an agency with this many services gets a search box

function priorityAllowed() {
  return Boolean(view.site && view.site.kiosk_priority) || view.reception;
}

export function renderServices() {
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

function pickAgency(agency) {
  view.agency = agency;
  go("services");
  refreshState(); // quotas and queues as they are now
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

// ---------------------------------------------------------------- the service search

function searchKey(key) {
  const input = $("service-search");
  if (key === "Backspace") input.value = input.value.slice(0, -1);
  else if (key === "Clear") input.value = "";
  else input.value += key.toLowerCase();
  view.search = input.value;
  renderServices();
}

export function bindChooser() {
  addScreen("agencies", { draw: () => clear($("agencies")).append(...agencyTiles(view.site, t, pickAgency)) });
  addScreen("services", {
    draw: renderServices,
    move: (to) => {
      if (to === "services") return;
      view.search = "";
      $("service-search").value = "";
      show($("search-keys"), false);
    },
  });
  $("back").addEventListener("click", () => go("agencies"));
  $("search-keys").append(...keys("ABCDEFGHIJKLMNOPQRSTUVWXYZ", t, searchKey, { space: true }));
  $("service-search").addEventListener("focus", () => show($("search-keys"), true));
  $("service-search").addEventListener("input", (event) => {
    view.search = event.target.value;
    renderServices();
  });
  $("priority").addEventListener("click", () => {
    view.priority = !view.priority;
    renderServices();
  });
}
