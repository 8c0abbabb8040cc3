// The counter's live feed: the site's event stream filtered by the counter's agency
// (so it sees every counter of that agency: other officers calling from the same
// services change our queue), applied to the store, with debounced resyncs over HTTP.

import { EventStream } from "/static/display/common/connection.js";
import { applyEvent, touchesQueue } from "./state.js";

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

// hooks: {refreshCounter, refreshQueue, refreshSite, changedElsewhere}
export function startLive({ store, siteId, config, hooks }) {
  const services = config.services;
  const queueSoon = debounce(hooks.refreshQueue, 250);
  const counterSoon = debounce(hooks.refreshCounter, 250);
  let wasOffline = false;

  const mergeWaiting = (waiting) => {
    if (!waiting) return;
    const merged = { ...store.get().waiting };
    for (const [service, n] of Object.entries(waiting)) if (services.includes(service)) merged[service] = n;
    store.set({ waiting: merged });
  };

  const stream = new EventStream({
    site: siteId,
    filters: { agency: config.agency },
    onSnapshot(state) {
      const own = (state.counters || []).find((c) => c.id === config.id);
      if (own && !store.get().busy) store.set({ counter: { ...(store.get().counter || {}), ...own } });
      mergeWaiting(state.waiting);
      queueSoon();
      counterSoon();
    },
    onEvent(event) {
      const current = store.get().counter;
      const next = applyEvent(current, event);
      if (next !== current) {
        store.set({ counter: next });
        if (current && next.status !== current.status && !store.get().busy) hooks.changedElsewhere();
        counterSoon();
      }
      mergeWaiting(event.waiting);
      if (event.type === "site.config_changed") hooks.refreshSite();
      if (event.type === "site.day_reset") counterSoon();
      if (touchesQueue(event, services)) queueSoon();
    },
    onStatus(status) {
      const online = status === "online";
      store.set({ streamOnline: online });
      if (!online) wasOffline = true;
      if (online && wasOffline) {
        wasOffline = false;
        counterSoon(); // resync what changed while we were away
        queueSoon();
      }
    },
  }).start();

  return {
    stop() {
      stream.stop();
      queueSoon.cancel();
      counterSoon.cancel();
    },
  };
}
