// Live floor of a site, /monitor/{site}: counters, queues, alerts; pause, resume, close,
// open a counter, cancel a waiting ticket, announce on the TVs.
//
// The monitor document (GET /api/v1/sites/{site}/monitor) is the truth; the event
// stream only says "something changed": each event re-fetches it, debounced 200 ms,
// one fetch at a time. Times in state count up every second from the server's clock.

import { api, ApiError } from "/static/display/common/api.js";
import { EventStream } from "/static/display/common/connection.js";
import { clock, instant, minutes, timeOfDay } from "./format.js";
import { body, may, startPage } from "./shell.js";
import { errorText, t } from "./strings.js";

const $ = (id) => document.getElementById(id);
const site = body.site;
const timeZone = body.timezone || "Asia/Jakarta";
const base = `/api/v1/sites/${encodeURIComponent(site)}`;
const DEBOUNCE_MS = 200;

let doc = null;
let skewMs = 0; // server clock − this machine's clock
let agencies = new Map();
let stream = null;
let ticker = null;
let timer = null;
let inFlight = null;
let again = false;
const expanded = new Set();

const serverNow = () => Date.now() + skewMs;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// ------------------------------------------------------------------ reading

async function loadSite() {
  try {
    const doc = await api("GET", base);
    agencies = new Map((doc.agencies || []).map((a) => [a.id, a.short_name || a.name]));
  } catch {
    /* names fall back to ids */
  }
}

async function refresh() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = (async () => {
    try {
      const next = await api("GET", `${base}/monitor`);
      const now = instant(next.now);
      if (now !== null) skewMs = now - Date.now();
      doc = next;
      render();
      $("error").textContent = "";
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return shell.expired();
      $("error").textContent = errorText(err);
    }
  })();
  await inFlight;
  inFlight = null;
  if (again) {
    again = false;
    await refresh();
  }
}

function soon() {
  clearTimeout(timer);
  timer = setTimeout(refresh, DEBOUNCE_MS);
}

// ------------------------------------------------------------------ rendering

function since(value) {
  const ms = instant(value);
  return ms === null ? "–" : clock((serverNow() - ms) / 1000);
}

function head(table, keys) {
  const tr = table.createTHead().insertRow();
  for (const key of keys) tr.append(el("th", { scope: "col" }, t(key)));
}

function counterActions(counter) {
  const buttons = [];
  const action = (name) =>
    el("button", { type: "button", className: `btn small act-${name}`, "data-action": name, "data-counter": counter.id }, t(`act_${name}`));
  if (counter.status === "open") buttons.push(action("pause"), action("close"));
  else if (counter.status === "paused") buttons.push(action("resume"), action("close"));
  else buttons.push(action("open"));
  return el("td", { className: "actions" }, ...buttons);
}

function renderCounters() {
  const table = $("counters");
  table.replaceChildren();
  head(table, ["col_counter", "col_agency", "col_status", "col_officer", "col_ticket", "col_in_state", "col_actions"]);
  const tbody = table.createTBody();
  const tally = { open: 0, paused: 0, closed: 0 };
  for (const counter of doc.counters) {
    tally[counter.status] = (tally[counter.status] || 0) + 1;
    const ticket = counter.ticket;
    const ticketCell = ticket
      ? el(
          "td",
          { className: "ticket" },
          el("strong", { className: "number" }, ticket.number),
          " ",
          el("small", { className: "muted" }, t(ticket.status === "serving" ? "ticket_serving" : "ticket_called")),
        )
      : el("td", { className: "ticket muted" }, "–");
    // Time in state: since the counter's last change (the server's `since`).
    const from = counter.since || (ticket && (ticket.started_at || ticket.called_at)) || null;
    tbody.append(
      el(
        "tr",
        { "data-counter": counter.id, "data-status": counter.status },
        el("th", { scope: "row" }, counter.name, counter.zone ? el("small", { className: "muted" }, ` · ${counter.zone}`) : null),
        el("td", {}, agencies.get(counter.agency) || counter.agency || "–"),
        el(
          "td",
          {},
          el("span", { className: `chip chip-${counter.status}`, "data-role": "status" }, t(`status_${counter.status}`)),
          // Away for its scheduled break: when it is due back.
          counter.status !== "open" && counter.break_until
            ? el("small", { className: "muted", "data-role": "break" }, ` ${t("on_break_until", { time: timeOfDay(counter.break_until, timeZone) })}`)
            : null,
        ),
        el("td", {}, counter.officer || "–"),
        ticketCell,
        el("td", { className: "num live", "data-since": from || "" }, since(from)),
        counterActions(counter),
      ),
    );
  }
  $("counters-summary").textContent = t("counters_summary", tally);
}

function renderQueues() {
  const table = $("queues");
  table.replaceChildren();
  head(table, ["col_service", "col_agency", "col_waiting", "col_oldest", "col_target", ""]);
  const tbody = table.createTBody();
  let waiting = 0;
  for (const queue of doc.queues) {
    waiting += queue.waiting || 0;
    const open = expanded.has(queue.service);
    const row = el(
      "tr",
      { className: queue.breach ? "queue breach" : "queue", "data-service": queue.service, "data-breach": String(Boolean(queue.breach)) },
      el("th", { scope: "row" }, queue.name || queue.service),
      el("td", {}, agencies.get(queue.agency) || queue.agency || "–"),
      el("td", { className: "num", "data-col": "waiting" }, String(queue.waiting || 0)),
      el(
        "td",
        { className: "num live oldest", "data-since": queue.waiting ? queue.oldest_issued_at || "" : "" },
        queue.waiting ? since(queue.oldest_issued_at) : "–",
        queue.breach ? el("span", { className: "breach-tag" }, ` ${t("breach")}`) : null,
      ),
      el("td", { className: "num" }, queue.target_wait_min ? minutes(queue.target_wait_min * 60) : "–"),
      el(
        "td",
        {},
        queue.waiting
          ? el(
              "button",
              { type: "button", className: "btn small", "data-expand": queue.service, "aria-expanded": String(open) },
              t(open ? "hide_tickets" : "show_tickets"),
            )
          : null,
      ),
    );
    tbody.append(row);
    if (open && queue.waiting) tbody.append(ticketsRow(queue));
  }
  $("queues-summary").textContent = t("queues_summary", { waiting, queues: doc.queues.filter((q) => q.waiting).length });
}

function ticketsRow(queue) {
  const list = el("ol", { className: "tickets" });
  for (const ticket of queue.tickets || []) {
    list.append(
      el(
        "li",
        { "data-ticket": ticket.number },
        el("strong", { className: "number" }, ticket.number),
        el("span", { className: "muted" }, ` ${timeOfDay(ticket.issued_at, timeZone)} · `),
        el("span", { className: "live", "data-since": ticket.issued_at || "" }, since(ticket.issued_at)),
        ticket.id
          ? el(
              "button",
              { type: "button", className: "btn small danger", "data-cancel": ticket.id, "data-number": ticket.number },
              t("act_cancel_ticket"),
            )
          : null,
      ),
    );
  }
  const more = (queue.waiting || 0) - (queue.tickets || []).length;
  if (more > 0) list.append(el("li", { className: "muted" }, t("more_tickets", { n: more })));
  return el("tr", { className: "queue-tickets", "data-tickets-of": queue.service }, el("td", { colspan: "6" }, list));
}

function renderAlerts() {
  const list = $("alerts");
  list.replaceChildren();
  if (!doc.alerts.length) list.append(el("li", { className: "muted" }, t("alerts_none")));
  for (const alert of doc.alerts) {
    list.append(el("li", { className: `alert alert-${alert.severity || "info"}`, "data-kind": alert.kind }, alert.message));
  }
}

function render() {
  if (!doc) return;
  renderCounters();
  renderQueues();
  renderAlerts();
  document.body.dataset.seq = String(doc.seq ?? "");
}

function tick() {
  for (const node of document.querySelectorAll("[data-since]")) {
    if (!node.dataset.since) continue;
    const text = node.firstChild;
    if (text && text.nodeType === Node.TEXT_NODE) text.textContent = since(node.dataset.since);
  }
}

// ------------------------------------------------------------------ actions

function say(text) {
  $("message").textContent = text;
}

function confirm(title, text, ok) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

async function act(path, done, body) {
  $("error").textContent = "";
  try {
    const answer = await api("POST", path, body === undefined ? {} : { body });
    say(done);
    await refresh();
    return answer;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return shell.expired();
    $("error").textContent = errorText(err);
    await refresh();
    return null;
  }
}

$("counters").addEventListener("click", async (event) => {
  const button = event.target.closest("[data-action]");
  if (!button) return;
  const counter = doc.counters.find((c) => c.id === button.dataset.counter);
  const name = counter ? counter.name : button.dataset.counter;
  const action = button.dataset.action;
  if (action === "close" && !(await confirm(t("confirm_close_title", { counter: name }), t("confirm_close_text"), t("confirm_close_ok")))) return;
  button.disabled = true;
  await act(`${base}/counters/${encodeURIComponent(button.dataset.counter)}/${action}`, t(`done_${action}`, { counter: name }));
});

$("queues").addEventListener("click", async (event) => {
  const expand = event.target.closest("[data-expand]");
  if (expand) {
    const service = expand.dataset.expand;
    if (expanded.has(service)) expanded.delete(service);
    else expanded.add(service);
    renderQueues();
    return;
  }
  const cancel = event.target.closest("[data-cancel]");
  if (!cancel) return;
  const number = cancel.dataset.number;
  if (!(await confirm(t("confirm_cancel_title", { number }), t("confirm_cancel_text"), t("confirm_cancel_ok")))) return;
  cancel.disabled = true;
  await act(`${base}/tickets/${encodeURIComponent(cancel.dataset.cancel)}/cancel`, t("done_cancel", { number }));
});

$("announce-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("announce-text").value.trim();
  if (!text) return;
  $("announce-send").disabled = true;
  const answer = await act(`${base}/announcements`, t("announce_sent"), { text });
  $("announce-send").disabled = false;
  if (answer) $("announce-text").value = "";
});

// ------------------------------------------------------------------ live

function setConn(state) {
  const conn = $("conn");
  conn.hidden = false;
  conn.dataset.state = state;
  conn.textContent = t(state);
}

function stop() {
  if (stream) stream.stop();
  stream = null;
  clearInterval(ticker);
  clearTimeout(timer);
}

const shell = startPage({
  allowed: (me) => may.monitor(me, site),
  onLanguage: () => {
    render();
    if (stream) setConn(stream.online ? "online" : "offline");
  },
  onSignOut: stop,
  onReady: async () => {
    stop();
    await loadSite();
    await refresh();
    stream = new EventStream({
      site,
      onSnapshot: soon,
      onEvent: (event) => {
        if (event.type === "site.config_changed") loadSite().then(soon);
        else soon();
      },
      onStatus: setConn,
    }).start();
    ticker = setInterval(tick, 1000);
  },
});
