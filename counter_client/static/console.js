// The console of one counter: runs actions (one at a time, each with one
// Idempotency-Key kept across retries), keeps the state fresh, and says what happened.

import { api, ApiError, retrying } from "/static/display/common/api.js";
import { allowedActions, CONFIRM } from "./state.js";
import { errorText, t } from "./strings.js";
import { confirmDialog, pickService, unstartedDialog } from "./dialogs.js";
import { agencyLabel, counterConfig, serviceName } from "./render.js";
import { startLive } from "./live.js";

const RETRY_TRIES = 10; // about a minute of backoff before giving up on an action
const MESSAGE_MS = 6000;
// The server undoes within 10 s of the action (domain.UNDO_WINDOW_S); the offer ends a
// little earlier, since its clock started when the answer arrived.
export const UNDO_OFFER_MS = 9000;
const UNDOABLE = new Set(["next", "no-show", "transfer"]);

// A 403 that means "not your counter" (not, say, a stale CSRF cookie).
function notAssigned(err) {
  return err instanceof ApiError && err.status === 403 && err.code !== "csrf_failed";
}

export function counterPath(siteId, counterId, action = "") {
  const base = `/api/v1/sites/${encodeURIComponent(siteId)}/counters/${encodeURIComponent(counterId)}`;
  return action ? `${base}/${action}` : base;
}

// hooks: {signedOut(), counterGone(counterId), siteChanged()}
export function createConsole({ store, siteId, hooks }) {
  let live = null;
  let messageTimer = null;
  let undoTimer = null;
  let offerCount = 0;
  let generation = 0; // bumps on every counter switch: late answers for the old one are dropped
  let epoch = 0; // bumps on every action: a read started before it may be stale

  // `text` is a function that answers the words in the current language (the message is
  // drawn again when the officer switches language), or "" to clear.
  function say(text, kind = "info") {
    clearTimeout(messageTimer);
    store.set({ message: text ? { text, kind } : null });
    if (text && kind !== "error") messageTimer = setTimeout(() => store.set({ message: null }), MESSAGE_MS);
  }

  // The "Urungkan" toast after next, no-show and transfer: {action, number} or null.
  function offerUndo(offer) {
    clearTimeout(undoTimer);
    store.set({ undo: offer && { ...offer, id: (offerCount += 1) } });
    if (offer) undoTimer = setTimeout(() => store.set({ undo: null }), UNDO_OFFER_MS);
  }

  function undoOffer(action, data, before) {
    if (!UNDOABLE.has(action)) return null;
    if (action === "next") {
      const called = data && data.ticket;
      if (!called && !before) return null; // nothing happened
      return { action, number: called ? called.number : before.number, called: Boolean(called) };
    }
    return { action, number: before ? before.number : data.ticket ? data.ticket.number : "" };
  }

  async function handleReadError(err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 401) return hooks.signedOut(() => t("err_unauthorized"));
    if (notAssigned(err)) return store.set({ forbidden: true });
    if (err.status === 404) return hooks.counterGone(store.get().counterId);
    // network or server trouble: the stream's reconnect triggers a resync later
  }

  async function refreshCounter() {
    const { counterId } = store.get();
    const mine = generation;
    const seen = epoch;
    if (!counterId) return;
    try {
      const data = await api("GET", counterPath(siteId, counterId));
      if (mine !== generation) return;
      // An action began meanwhile: its own answer wins, and it refreshes again after.
      if (store.get().busy || seen !== epoch) return;
      store.set({ counter: data.counter, today: data.today, forbidden: false });
    } catch (err) {
      if (mine === generation) await handleReadError(err);
    }
  }

  async function refreshQueue() {
    const { counterId, site } = store.get();
    const mine = generation;
    if (!counterId) return;
    try {
      const data = await api("GET", counterPath(siteId, counterId, "waiting"));
      if (mine !== generation) return;
      const queue = data.tickets || [];
      const patch = { queue };
      if (queue.length < 100) {
        // The whole queue is here: count it exactly.
        const config = counterConfig(site, counterId);
        const waiting = { ...store.get().waiting };
        for (const service of config ? config.services : []) waiting[service] = 0;
        for (const ticket of queue) waiting[ticket.service] = (waiting[ticket.service] || 0) + 1;
        patch.waiting = waiting;
      }
      store.set(patch);
    } catch (err) {
      if (mine === generation) await handleReadError(err);
    }
  }

  function successText(action, data, before) {
    const state = store.get();
    const counterName = state.counter ? state.counter.name : "";
    const ticket = data && data.ticket;
    if (action === "next" && !ticket) return t("queue_empty_next");
    if (action === "undo") {
      // `before` is the offer: {action, number, called}
      const parts = [];
      if (before.action === "next" && before.called) parts.push(t("undone_waiting", { number: before.number }));
      if (ticket) parts.push(t("undone_back", { number: ticket.number }));
      return [t("undone"), ...parts].join(" ");
    }
    if (data && data.counter) return t(`done_${action}`);
    const number = ticket ? ticket.number : before ? before.number : "";
    const service = ticket ? serviceName(state.site, ticket.service) : "";
    return t(`done_${action}`, { number, counter: counterName, service });
  }

  function applyAnswer(action, data) {
    const counter = store.get().counter;
    if (data.counter) return store.set({ counter: data.counter });
    if (!counter) return;
    const ticket = data.ticket || null;
    const holds = ticket && (ticket.status === "called" || ticket.status === "serving");
    store.set({ counter: { ...counter, ticket: holds ? ticket : null } });
  }

  // Ask what the action needs (a confirmation, a target service); null = cancelled.
  async function prepare(action) {
    const state = store.get();
    const ticket = state.counter && state.counter.ticket;
    if (CONFIRM.has(action)) {
      const vars = { number: ticket ? ticket.number : "", counter: state.counter ? state.counter.name : "" };
      const key = action === "no-show" ? "no_show" : action;
      const ok = await confirmDialog({
        title: t(`confirm_${key}_title`, vars),
        text: t(`confirm_${key}_text`, vars),
        ok: t(`confirm_${key}_ok`, vars),
      });
      return ok ? {} : null;
    }
    if (action === "transfer") {
      const number = ticket ? ticket.number : "";
      const agency = ticket ? ticket.agency : null;
      const service = await pickService({ site: state.site, exclude: ticket && ticket.service, agency, number });
      if (!service) return null;
      if (agency && service.agency !== agency) {
        // Another agency: its own queue, other rules. Ask once more, by name.
        const vars = { number, service: service.name, agency: agencyLabel(state.site, service.agency) };
        const ok = await confirmDialog({
          title: t("confirm_transfer_agency_title", vars),
          text: t("confirm_transfer_agency_text", vars),
          ok: t("confirm_transfer_agency_ok", vars),
        });
        if (!ok) return null;
      }
      return { body: { service: service.id } };
    }
    return {};
  }

  let preparing = false;

  // Next and Call finish the held ticket as served. A ticket that was called but never
  // started may be a visitor who never came: ask first, so the figures stay true.
  // Answers a plan ({} or {noShowFirst: true}, busy already set), or null = cancelled.
  async function askUnstarted(action, extra, before, mine) {
    preparing = true;
    let choice;
    try {
      choice = await unstartedDialog({ number: before.number });
    } finally {
      preparing = false;
    }
    if (!choice || store.get().busy || mine !== generation) return null;
    const now = store.get().counter;
    const held = now && now.ticket;
    if (!held || held.number !== before.number || !allowedActions(now.status, held).has(action)) {
      // It changed while the dialog was open (another tab, a pedal): the answer was
      // about a ticket that is no longer there. Let the officer look again.
      say(() => t("changed_elsewhere"), "warn");
      refreshCounter();
      return null;
    }
    const plan = prepareNow(action, extra);
    return choice === "no-show" ? { ...plan, noShowFirst: true } : plan;
  }

  async function act(action, extra = {}) {
    const state = store.get();
    if (state.busy || preparing || state.forbidden || !state.counter) return;
    if (action === "undo") return undo();
    if (action === "pause-toggle") action = state.counter.status === "paused" ? "resume" : "pause";
    if (!allowedActions(state.counter.status, state.counter.ticket).has(action)) return;
    const mine = generation;
    const before = state.counter.ticket;
    let plan = {};
    if ((action === "next" || action === "call") && before && before.status === "called") {
      plan = await askUnstarted(action, extra, before, mine);
      if (!plan) return;
    } else if (CONFIRM.has(action) || action === "transfer") {
      preparing = true;
      try {
        plan = await prepare(action);
      } finally {
        preparing = false;
      }
      if (!plan || store.get().busy || mine !== generation) return;
    } else {
      plan = await prepareNow(action, extra);
    }
    await send(action, plan, before, mine);
  }

  // Actions without a dialog must mark the console busy before any await, so a
  // double click (or a bouncing foot pedal) sends exactly one request.
  function prepareNow(action, extra) {
    store.set({ busy: action });
    return action === "call" ? { body: { ticket: extra.ticket.id } } : {};
  }

  // Take back the last next, no-show or transfer, while the toast offers it.
  async function undo() {
    const offer = store.get().undo;
    if (!offer) return;
    offerUndo(null);
    store.set({ busy: "undo" });
    await send("undo", {}, offer, generation);
  }

  async function send(action, plan, before, mine) {
    const { counterId } = store.get();
    epoch += 1;
    store.set({ busy: action });
    say("");
    offerUndo(null);
    const post = (name, body) =>
      retrying("POST", counterPath(siteId, counterId, name), {
        body,
        tries: RETRY_TRIES,
        onRetry: () => store.set({ retryingAction: true }),
      });
    try {
      // "Tidak hadir" in the unstarted dialog: the held ticket is a no-show, then call.
      // Should the call fail, the no-show stands (it is true) and the error is shown.
      let prefix = () => "";
      if (plan.noShowFirst) {
        await post("no-show");
        if (mine !== generation) return;
        epoch += 1;
        prefix = () => `${t("done_no-show", { number: before ? before.number : "" })} `;
      }
      const data = await post(action, plan.body);
      if (mine !== generation) return;
      store.set({ retryingAction: false, busy: null });
      epoch += 1;
      applyAnswer(action, data);
      const empty = action === "next" && !data.ticket;
      say(() => prefix() + successText(action, data, before), empty ? "warn" : "ok");
      offerUndo(undoOffer(action, data, before));
    } catch (err) {
      store.set({ retryingAction: false, busy: null });
      if (mine !== generation) return;
      if (err instanceof ApiError && err.status === 401) return hooks.signedOut(() => t("err_unauthorized"));
      if (notAssigned(err)) store.set({ forbidden: true });
      say(() => errorText(err), "error");
    } finally {
      if (store.get().busy === action) store.set({ busy: null });
    }
    refreshCounter();
    refreshQueue();
  }

  function open(counterId) {
    close();
    generation += 1;
    const { site } = store.get();
    const config = counterConfig(site, counterId);
    store.set({
      counterId,
      counter: null, // until the server says (actions stay disabled)
      today: null,
      waiting: {},
      queue: [],
      forbidden: false,
      busy: null,
      message: null,
      undo: null,
      streamOnline: true,
      retryingAction: false,
    });
    refreshCounter();
    refreshQueue();
    live = startLive({
      store,
      siteId,
      config,
      hooks: {
        refreshCounter,
        refreshQueue,
        refreshSite: hooks.siteChanged,
        changedElsewhere: () => say(() => t("changed_elsewhere")),
      },
    });
  }

  function close() {
    generation += 1;
    if (live) live.stop();
    live = null;
    clearTimeout(messageTimer);
    offerUndo(null);
  }

  // A safety net: figures and state once a minute even if nothing happened.
  setInterval(() => {
    if (live && store.get().streamOnline) refreshCounter();
  }, 60000);

  return { open, close, act, refreshCounter, refreshQueue };
}
