// Draws the console from the state. Pure DOM updates, no requests.

import { allowedActions } from "./state.js";
import { t } from "./strings.js";
import { clock, duration, secondsSince } from "./format.js";

const $ = (id) => document.getElementById(id);

export function serviceName(site, serviceId) {
  const service = site.services.find((s) => s.id === serviceId);
  return service ? service.name : serviceId;
}

function agencyName(site, agencyId) {
  const agency = site.agencies.find((a) => a.id === agencyId);
  return agency ? agency.short_name || agency.name : agencyId;
}

// The agency's full name, for a question that must leave no doubt.
export function agencyLabel(site, agencyId) {
  const agency = site.agencies.find((a) => a.id === agencyId);
  return agency ? agency.name : agencyId;
}

export function counterConfig(site, counterId) {
  if (!site || !counterId) return null;
  return site.counters.find((c) => c.id === counterId) || null;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function renderHeader(state) {
  const config = counterConfig(state.site, state.counterId);
  const inConsole = Boolean(state.counterId && config);
  $("where").hidden = !inConsole;
  if (inConsole) {
    $("counter-name").textContent = (state.counter && state.counter.name) || config.name;
    $("counter-agency").textContent = agencyName(state.site, config.agency);
    const status = state.counter ? state.counter.status : null;
    const chip = $("counter-status");
    chip.hidden = !status;
    chip.dataset.status = status || "";
    chip.textContent = status ? t(`counter_${status}`) : "";
  }
  $("user-name").hidden = !state.me;
  $("user-name").textContent = state.me ? state.me.name || "" : "";
  $("logout").hidden = !state.me;
  $("change-counter").hidden = !inConsole;
}

export function renderBanner(state) {
  const offline = state.me && (!state.streamOnline || state.retryingAction);
  const banner = $("banner");
  banner.hidden = !offline;
  banner.textContent = offline ? t("offline") : "";
  const conn = $("conn");
  conn.hidden = !state.counterId;
  conn.dataset.state = offline ? "offline" : "online";
  conn.title = offline ? t("offline") : "";
}

export function renderTicket(state) {
  const counter = state.counter;
  const ticket = counter && counter.ticket;
  const card = $("ticket-card");
  card.dataset.status = ticket ? ticket.status : "none";
  card.dataset.priority = ticket && ticket.priority ? "yes" : "no";
  $("ticket-number").textContent = ticket ? ticket.number : "—";
  const chip = $("ticket-status");
  chip.hidden = !ticket;
  chip.dataset.status = ticket ? ticket.status : "";
  chip.textContent = ticket ? t(`status_${ticket.status}`) : "";
  if (ticket) {
    $("ticket-service").textContent = serviceName(state.site, ticket.service);
  } else if (counter && counter.status === "paused") {
    $("ticket-service").textContent = t("no_ticket_paused");
  } else if (counter && counter.status === "closed") {
    $("ticket-service").textContent = t("no_ticket_closed");
  } else {
    $("ticket-service").textContent = counter ? t("no_ticket") : "";
  }
  const extra = [];
  if (ticket && ticket.priority) extra.push(t("priority"));
  if (ticket && ticket.recalls) extra.push(t("recalls", { n: ticket.recalls }));
  if (ticket && ticket.transfers) extra.push(t("transfers", { n: ticket.transfers }));
  $("ticket-extra").textContent = extra.join(" · ");
  renderTimer(state);
}

// Called every second: the time since the ticket was called or started.
export function renderTimer(state) {
  const ticket = state.counter && state.counter.ticket;
  let text = "";
  if (ticket && ticket.status === "serving") {
    text = t("serving_for", { time: clock(secondsSince(ticket.started_at)) });
  } else if (ticket && ticket.status === "called") {
    // "Dipanggil baru saja", then whole minutes: a running 00:07 reads as noise here.
    const minutes = Math.floor((secondsSince(ticket.called_at) || 0) / 60);
    text = minutes < 1 ? t("called_just_now") : t("called_minutes", { n: minutes });
  }
  $("ticket-timer").textContent = text;
  for (const item of document.querySelectorAll("#waiting-list [data-issued]")) {
    item.textContent = t("waited", { time: clock(secondsSince(item.dataset.issued)) });
  }
}

export function renderActions(state) {
  const counter = state.counter;
  const allowed = counter && !state.forbidden ? allowedActions(counter.status, counter.ticket) : new Set();
  const status = counter ? counter.status : "open";
  for (const button of document.querySelectorAll("#actions [data-action]")) {
    const action = button.dataset.action;
    if (action === "pause") button.hidden = status === "paused";
    if (action === "resume") button.hidden = status !== "paused";
    if (action === "close") button.hidden = status === "closed";
    if (action === "open") button.hidden = status !== "closed";
    button.disabled = Boolean(state.busy) || !allowed.has(action);
    button.dataset.busy = state.busy === action ? "yes" : "no";
  }
}

export function renderNotice(state) {
  const notice = $("notice");
  let text = "";
  let kind = "info";
  if (state.forbidden) {
    text = t("not_assigned");
    kind = "error";
  } else if (state.counter && state.counter.status === "paused") {
    text = t("paused_notice");
  } else if (state.counter && state.counter.status === "closed") {
    text = t("closed_notice");
  }
  notice.hidden = !text;
  notice.textContent = text;
  notice.dataset.kind = kind;
}

// The message's text is a function of the language: drawn again after a switch.
export function renderMessage(state) {
  const message = $("message");
  const text = state.message ? state.message.text : "";
  message.textContent = typeof text === "function" ? text() : text;
  message.dataset.kind = state.message ? state.message.kind : "";
}

const ACTION_LABELS = { next: "act_next", "no-show": "act_no_show", transfer: "act_transfer" };

// The "Urungkan" toast, while the last next, no-show or transfer may be undone.
export function renderUndo(state) {
  const toast = $("undo-toast");
  const offer = state.forbidden ? null : state.undo;
  const key = offer ? String(offer.id) : "";
  if (key !== toast.dataset.offer) {
    // a new offer (or none): the countdown bar starts again
    toast.dataset.offer = key;
    const bar = $("undo-bar");
    bar.classList.remove("running");
    if (offer) {
      void bar.offsetWidth;
      bar.classList.add("running");
    }
  }
  toast.hidden = !offer;
  if (offer) $("undo-text").textContent = t("undo_offer", { action: t(ACTION_LABELS[offer.action]) });
  $("undo-button").disabled = Boolean(state.busy);
}

export function renderWaiting(state) {
  const config = counterConfig(state.site, state.counterId);
  const list = $("waiting-counts");
  list.replaceChildren();
  if (!config) return;
  let total = 0;
  for (const serviceId of config.services) {
    const n = state.waiting[serviceId] || 0;
    total += n;
    const item = el("li");
    item.append(el("span", "count-name", serviceName(state.site, serviceId)), el("strong", "count-n", String(n)));
    list.append(item);
  }
  if (config.services.length > 1) {
    const item = el("li", "count-total");
    item.append(el("span", "count-name", t("waiting_total")), el("strong", "count-n", String(total)));
    list.append(item);
  }
}

export function renderQueue(state, onCall) {
  const list = $("waiting-list");
  list.replaceChildren();
  if (!state.queue.length) {
    list.append(el("li", "queue-empty", t("queue_empty")));
    return;
  }
  const canCall =
    !state.busy && !state.forbidden && state.counter && allowedActions(state.counter.status, state.counter.ticket).has("call");
  for (const ticket of state.queue) {
    const item = el("li", "queue-item");
    if (ticket.priority) item.dataset.priority = "yes";
    const who = el("div", "queue-who");
    who.append(el("span", "queue-number", ticket.number));
    if (ticket.priority) who.append(el("span", "badge", t("priority")));
    const what = el("div", "queue-what");
    what.append(el("span", "queue-service", serviceName(state.site, ticket.service)));
    const waited = el("span", "queue-waited", t("waited", { time: clock(secondsSince(ticket.issued_at)) }));
    waited.dataset.issued = ticket.issued_at || "";
    what.append(waited);
    const call = el("button", "btn small", t("act_call"));
    call.type = "button";
    call.disabled = !canCall || !ticket.id;
    call.addEventListener("click", () => onCall(ticket));
    item.append(who, what, call);
    list.append(item);
  }
}

export function renderToday(state) {
  const today = state.today;
  $("today-served").textContent = today ? String(today.served ?? 0) : "–";
  $("today-no-show").textContent = today ? String(today.no_show ?? 0) : "–";
  $("today-avg").textContent = today && today.avg_service_s != null ? duration(today.avg_service_s) : "–";
}

export function renderConsole(state, { onCall }) {
  renderHeader(state);
  renderBanner(state);
  renderNotice(state);
  renderTicket(state);
  renderActions(state);
  renderMessage(state);
  renderUndo(state);
  renderWaiting(state);
  renderQueue(state, onCall);
  renderToday(state);
}
