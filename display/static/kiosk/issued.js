// The ticket screen: the ticket just issued (taken from the service list, or a
// booking's checked in), shown and printed at once, and its return timer: back to the
// start 10 s after the ticket, counted afresh while the visitor still touches the screen.

import { getLang } from "../common/i18n.js";
import { addScreen, go, reset } from "./screens.js";
import { $, config, t, view } from "./state.js";
import { printTicket, renderTicket } from "./ticket.js";

const TICKET_MS = 10_000; // the ticket screen returns to the start by itself

export function issued(answer, service, agency, booking = null) {
  view.issued = { answer, service, agency, booking };
  view.priority = false;
  go("ticket");
  printTicket($("ticket"));
}

export function countdown() {
  const left = Math.max(0, Math.ceil((view.ticketEnds - Date.now()) / 1000));
  $("back-in").textContent = t("back_in", { n: left });
  if (view.screen === "ticket" && left <= 0) reset();
}

// A touch on the ticket screen: still reading, the timer starts again.
export function holdTicket() {
  if (view.screen === "ticket") view.ticketEnds = Date.now() + TICKET_MS;
}

function drawTicket() {
  if (!view.issued) return;
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

export function bindTicketScreen() {
  addScreen("ticket", {
    draw: drawTicket,
    move: (to) => {
      if (to === "ticket") view.ticketEnds = Date.now() + TICKET_MS;
    },
  });
  $("done").addEventListener("click", reset);
}
