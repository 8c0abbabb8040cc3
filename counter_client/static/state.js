// The console's state (one store, plain data) and the rules of which action is allowed
// when (pure functions, spec section 1: statuses and transitions).

export const TICKET_ACTIONS = ["next", "recall", "start", "finish", "no-show", "transfer", "call"];
export const COUNTER_ACTIONS = ["pause", "resume", "close", "open"];

// Which actions the officer may take now.
// Open counter: next and call always; recall/start/no-show on a called ticket,
// finish/transfer on a held one; pause and close.
// Paused or closed: only resume/open, and the finishing actions on a held ticket.
// Close only when no ticket is held (the server answers counter_busy otherwise).
export function allowedActions(counterStatus, ticket) {
  const allowed = new Set();
  const held = ticket && (ticket.status === "called" || ticket.status === "serving") ? ticket.status : null;
  if (held) {
    allowed.add("finish");
    allowed.add("transfer");
    if (held === "called") allowed.add("no-show");
  }
  if (counterStatus === "open") {
    allowed.add("next");
    allowed.add("call");
    allowed.add("pause");
    if (!held) allowed.add("close"); // the server refuses to close a counter holding a ticket
    if (held === "called") {
      allowed.add("recall");
      allowed.add("start");
    }
  } else if (counterStatus === "paused") {
    allowed.add("resume");
  } else if (counterStatus === "closed") {
    allowed.add("open");
  }
  return allowed;
}

// Destructive actions ask first.
export const CONFIRM = new Set(["no-show", "close"]);

export function createStore(initial) {
  let state = { ...initial };
  const listeners = new Set();
  return {
    get: () => state,
    set(patch) {
      state = { ...state, ...patch };
      for (const listener of listeners) listener(state);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function initialState(site) {
  return {
    site, // the site document (services, counters, agencies)
    me: null, // {role, site, counters, name}
    counterId: null,
    counter: null, // {id, name, status, ticket}
    today: null, // {served, no_show, avg_service_s}
    waiting: {}, // service id -> n
    queue: [], // waiting tickets of this counter, call order
    forbidden: false, // the server said we may not act here
    busy: null, // the action in flight, or null
    undo: null, // the offer to undo the last next, no-show or transfer: {id, action, number, called}
    online: true,
  };
}

// Apply one event of the site stream to the counter's own state. Returns the new
// counter (or the same object when the event does not touch it).
export function applyEvent(counter, event) {
  if (!counter) return counter;
  const ticket = event.ticket;
  const eventCounter = event.counter && event.counter.id;
  const ticketCounter = ticket && ticket.counter && ticket.counter.id;
  const mine = eventCounter === counter.id || ticketCounter === counter.id;
  if (!mine) return counter;
  switch (event.type) {
    case "counter.paused":
    case "counter.resumed":
    case "counter.opened":
    case "counter.closed": {
      const fallback = { "counter.paused": "paused", "counter.closed": "closed" }[event.type] || "open";
      return { ...counter, status: (event.counter && event.counter.status) || fallback };
    }
    case "ticket.called":
    case "ticket.recalled":
    case "ticket.started":
      return { ...counter, ticket };
    case "ticket.finished":
    case "ticket.no_show":
    case "ticket.transferred":
      if (counter.ticket && counter.ticket.number === ticket.number) return { ...counter, ticket: null };
      return counter;
    case "ticket.reverted": // an undo: the ticket as it was, held here again or waiting
      if (ticket.status === "called" || ticket.status === "serving") return { ...counter, ticket };
      if (counter.ticket && counter.ticket.number === ticket.number) return { ...counter, ticket: null };
      return counter;
    default:
      return counter;
  }
}

// Does an event change the waiting list of a counter serving `services`?
export function touchesQueue(event, services) {
  if (event.type === "site.day_reset" || event.type === "site.config_changed") return true;
  const ticket = event.ticket;
  if (!ticket) return false;
  if (services.includes(ticket.service)) return true;
  if (event.waiting) return Object.keys(event.waiting).some((service) => services.includes(service));
  return false;
}
