// What the lobby TV knows, built from a snapshot and kept current by events (pure: no DOM).
//
// applyEvent() answers what changed, so the page redraws only that:
//   {call, counters: Set(ids), waiting, recent, latest, reload: null | "state" | "page",
//    announcement}   (latest: the big call changed without a new call, e.g. a transfer)

export const RECENT_LIMIT = 10;

const COUNTER_STATUS = {
  "counter.opened": "open",
  "counter.resumed": "open",
  "counter.paused": "paused",
  "counter.closed": "closed",
};
import { closedNow } from "../kiosk/hours.js";

const RELEASES = new Set(["ticket.finished", "ticket.no_show", "ticket.transferred", "ticket.cancelled"]);

function split(value) {
  return String(value || "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

// Which counters and services a TV shows, from its filters (comma lists, as in the URL).
export function makeScope(site, filters = {}) {
  const agencies = split(filters.agency);
  const counterIds = split(filters.counter);
  const zones = split(filters.zone);
  const counters = site.counters.filter(
    (c) =>
      (!agencies.length || agencies.includes(c.agency)) &&
      (!counterIds.length || counterIds.includes(c.id)) &&
      (!zones.length || zones.includes(c.zone)),
  );
  let services = site.services.filter((s) => !agencies.length || agencies.includes(s.agency));
  if (counterIds.length || zones.length) {
    const served = new Set(counters.flatMap((c) => c.services));
    services = services.filter((s) => served.has(s.id));
  }
  const serviceAgencies = new Set(services.map((s) => s.agency));
  return {
    counters, // config order
    services,
    agencies: site.agencies.filter((a) => serviceAgencies.has(a.id)),
    counterIds: new Set(counters.map((c) => c.id)),
    serviceIds: new Set(services.map((s) => s.id)),
  };
}

// The same ticket: by id when both have one, else by number (numbers are unique per day).
function sameTicket(a, b) {
  if (!a || !b) return false;
  return a.id && b.id ? a.id === b.id : a.number === b.number;
}

// A call the last-calls list can show: it names a counter and its ticket is still there.
function shown(ticket) {
  return Boolean(ticket && ticket.counter && ticket.counter.name) && ticket.status !== "waiting";
}

function calledAt(ticket) {
  const time = Date.parse(ticket.called_at || "");
  return Number.isNaN(time) ? 0 : time;
}

export class TvState {
  constructor(site, filters = {}) {
    this.site = site;
    this.scope = makeScope(site, filters);
    this.services = new Map(site.services.map((s) => [s.id, s]));
    this.counters = new Map(); // id → {id, name, status, ticket}
    this.recent = []; // call tickets, newest first
    this.waiting = {}; // service id → n
    this.latest = null; // {ticket, counter: {id, name}}
    this.seq = null;
  }

  serviceName(id) {
    return this.services.get(id)?.name || id || "";
  }

  // A service's name as the TV shows it: with its agency's short name when another
  // service of this TV has the same name ("Balik Nama Pelanggan · PLN"), and with its
  // prefix when even that is the same.
  serviceLabel(id) {
    const service = this.services.get(id);
    if (!service) return id || "";
    const twins = this.scope.services.filter((s) => s.id !== id && s.name === service.name);
    if (!twins.length) return service.name;
    const agency = this.site.agencies.find((a) => a.id === service.agency);
    const short = agency ? agency.short_name || agency.name : service.agency;
    if (twins.every((s) => s.agency !== service.agency)) return `${service.name} · ${short}`;
    return `${service.name} · ${short} (${service.prefix})`;
  }

  // Counters worth a tile: not closed and holding a ticket (called or in service), in
  // the configuration's order.
  activeCounters() {
    return [...this.counters.values()].filter((c) => c.status !== "closed" && c.ticket);
  }

  resetCounters() {
    this.counters.clear();
    for (const c of this.scope.counters) {
      this.counters.set(c.id, { id: c.id, name: c.name, status: "closed", ticket: null });
    }
  }

  applySnapshot(state, seq = state.seq) {
    this.seq = seq ?? null;
    this.resetCounters();
    for (const counter of state.counters || []) {
      if (!this.scope.counterIds.has(counter.id)) continue;
      this.counters.set(counter.id, {
        id: counter.id,
        name: counter.name,
        status: counter.status || "open",
        ticket: counter.ticket || null,
      });
    }
    this.recent = (state.recent_calls || [])
      .filter((t) => shown(t) && this.inScope(t, t.counter))
      .sort((a, b) => calledAt(b) - calledAt(a))
      .slice(0, RECENT_LIMIT);
    this.latest = this.recent.length ? { ticket: this.recent[0], counter: this.recent[0].counter } : null;
    this.waiting = { ...(state.waiting || {}) };
  }

  inScope(ticket, counter) {
    if (counter && counter.id) return this.scope.counterIds.has(counter.id);
    return Boolean(ticket) && this.scope.serviceIds.has(ticket.service);
  }

  applyEvent(event) {
    const change = {
      call: null,
      counters: new Set(),
      waiting: false,
      recent: false,
      latest: false,
      reload: null,
      announcement: null,
    };
    this.seq = event.seq ?? this.seq;
    if (event.waiting && typeof event.waiting === "object") {
      Object.assign(this.waiting, event.waiting);
      change.waiting = true;
    }
    const type = event.type || "";
    const ticket = event.ticket || null;
    const counter = event.counter || (ticket && ticket.counter) || null;
    if (type === "site.day_reset") change.reload = "state";
    else if (type === "site.config_changed") change.reload = "page";
    else if (type === "site.announcement") change.announcement = event.text ?? event.message ?? "";
    else if (type in COUNTER_STATUS) this.applyCounter(event, COUNTER_STATUS[type], change);
    else if (ticket && (type === "ticket.called" || type === "ticket.recalled")) {
      if (this.inScope(ticket, counter)) {
        const held = { ...ticket, counter: counter ? { id: counter.id, name: counter.name } : ticket.counter };
        this.hold(counter, held, change);
        this.recent = [held, ...this.recent.filter((t) => !sameTicket(t, held))].slice(0, RECENT_LIMIT);
        this.latest = { ticket: held, counter: held.counter };
        change.call = this.latest;
        change.recent = true;
      }
    } else if (ticket && type === "ticket.started") {
      if (this.inScope(ticket, counter)) this.hold(counter, ticket, change);
    } else if (ticket && type === "ticket.reverted") {
      // An officer's undo: the ticket is back where it was, said nothing about.
      if (ticket.status === "called" || ticket.status === "serving") {
        if (this.inScope(ticket, counter)) this.hold(counter, ticket, change);
      } else {
        this.release(ticket, counter, change);
        if (ticket.status === "waiting") this.forget(ticket, change);
      }
    } else if (ticket && RELEASES.has(type)) {
      this.release(ticket, event.counter || ticket.counter, change);
      // A transferred ticket waits again, for another service: no counter to go to.
      if (type === "ticket.transferred" || type === "ticket.cancelled") this.forget(ticket, change);
    }
    return change;
  }

  forget(ticket, change) {
    const kept = this.recent.filter((t) => !sameTicket(t, ticket));
    if (kept.length === this.recent.length) return;
    this.recent = kept;
    change.recent = true;
    if (this.latest && sameTicket(this.latest.ticket, ticket)) {
      this.latest = kept.length ? { ticket: kept[0], counter: kept[0].counter } : null;
      change.latest = true;
    }
  }

  hold(counter, ticket, change) {
    if (!counter || !this.counters.has(counter.id)) return;
    // A counter holds one ticket: the same ticket elsewhere (a stale view) lets go.
    for (const other of this.counters.values()) {
      if (other.id !== counter.id && other.ticket && other.ticket.number === ticket.number) {
        other.ticket = null;
        change.counters.add(other.id);
      }
    }
    this.counters.get(counter.id).ticket = ticket;
    change.counters.add(counter.id);
  }

  release(ticket, counter, change) {
    for (const held of this.counters.values()) {
      const same = held.ticket && held.ticket.number === ticket.number;
      if (same && (!counter || counter.id === held.id || ticket.status === "waiting")) {
        held.ticket = null;
        change.counters.add(held.id);
      }
    }
  }

  applyCounter(event, status, change) {
    const counter = event.counter;
    if (!counter || !this.counters.has(counter.id)) return;
    const held = this.counters.get(counter.id);
    held.status = counter.status || status;
    if (counter.name) held.name = counter.name;
    if ("ticket" in counter) held.ticket = counter.ticket || null;
    change.counters.add(counter.id);
  }

  // Waiting tickets to show: per agency, or per service when the TV shows one agency.
  // When services are all outside their opening hours now and one opens later today:
  // that time (minutes after local midnight), for "Buka pukul 08.00"; else null.
  opensToday(services, now = new Date()) {
    let soonest = null;
    for (const s of services) {
      const closed = closedNow(s.hours || null, this.site.holidays, this.site.timezone || "Asia/Jakarta", now);
      if (!closed) return null; // one of them is open
      const next = closed.next;
      if (next && next.days === 0 && (soonest === null || next.minutes < soonest)) soonest = next.minutes;
    }
    return soonest;
  }

  waitingRows(now = new Date()) {
    const count = (id) => Number(this.waiting[id] || 0);
    if (this.scope.agencies.length === 1) {
      return this.scope.services
        .map((s) => ({ key: s.id, label: s.name, prefix: s.prefix, count: count(s.id), opensAt: this.opensToday([s], now) }))
        .filter((row) => row.count > 0 || row.opensAt !== null);
    }
    const totals = new Map(this.scope.agencies.map((a) => [a.id, 0]));
    for (const s of this.scope.services) totals.set(s.agency, totals.get(s.agency) + count(s.id));
    return this.scope.agencies.map((a) => ({
      key: a.id,
      label: a.short_name || a.name,
      prefix: "",
      count: totals.get(a.id),
      opensAt: this.opensToday(
        this.scope.services.filter((s) => s.agency === a.id),
        now,
      ),
    }));
  }

  get perService() {
    return this.scope.agencies.length === 1;
  }
}
