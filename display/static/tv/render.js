// Draws the TV from TvState. Every name from configuration or events goes in through
// textContent, never as HTML. Elements are made once and reused (the call list has a fixed
// number of rows, tiles and waiting rows are keyed by id), so eight hours of calls never
// grow the DOM.
//
// Legibility: every text is at least 3 % of the screen's height (tv.css), so the panels
// hold fewer items than a site may have. The counters panel shows only active counters
// (holding a called or served ticket); it and the waiting counts page through what does
// not fit (pager.js) instead of shrinking the text.

import { clockText } from "../kiosk/hours.js";
import { Pager } from "./pager.js";
import { RECENT_LIMIT } from "./state.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Restarts a CSS animation class on a node (the "flash" of a new call).
function restart(node, className) {
  node.classList.remove(className);
  void node.offsetWidth; // reflow, so re-adding the class starts the animation again
  node.classList.add(className);
}

export class TvView {
  constructor(root, strings) {
    this.root = root;
    this.strings = strings;
    const $ = (id) => root.getElementById(id);
    this.now = $("now");
    this.callNumber = $("call-number");
    this.callCounter = $("call-counter");
    this.callService = $("call-service");
    this.recentList = $("recent-list");
    this.grid = $("counter-grid");
    this.counterEmpty = $("counter-empty");
    this.waitingList = $("waiting-list");
    this.waitingTitle = $("waiting-title");
    this.ticker = $("ticker");
    this.tickerText = $("ticker-text");
    this.announcement = $("announcement");
    this.announcementText = $("announcement-text");
    this.offline = $("offline");
    this.tiles = new Map(); // counter id → {tile, name, ticket}
    this.shownTiles = []; // ids of the tiles in the grid, in order
    this.waitingRows = new Map(); // key → {row, label, count}
    this.announcementTimer = null;
    this.recentFit = RECENT_LIMIT;
    this.counterPager = new Pager({ box: this.grid, mark: $("counter-page") });
    this.waitingPager = new Pager({ box: this.waitingList, mark: $("waiting-page") });

    this.recentRows = [];
    for (let i = 0; i < RECENT_LIMIT; i += 1) {
      const row = element("li", "recent-row");
      const number = element("span", "recent-number");
      const counter = element("span", "recent-counter");
      row.append(number, counter);
      this.recentList.append(row);
      this.recentRows.push({ row, number, counter });
    }
    this.now.addEventListener("animationend", (event) => {
      if (event.target === this.now) this.now.classList.remove("flash");
    });
    this.grid.addEventListener("animationend", (event) => {
      if (event.target.classList.contains("tile")) event.target.classList.remove("flash");
    });
    this.resizeObserver = new ResizeObserver(() => this.fit());
    for (const node of [this.grid, this.recentList, this.waitingList, this.ticker]) {
      this.resizeObserver.observe(node);
    }
  }

  renderAll(state) {
    this.renderCall(state, false);
    this.renderRecent(state);
    this.renderCounters(state);
    this.renderWaiting(state);
  }

  renderCall(state, flash) {
    const latest = state.latest;
    this.now.dataset.empty = latest ? "false" : "true";
    if (!latest) {
      this.callNumber.textContent = "—";
      this.callCounter.textContent = this.strings.t("none");
      this.callService.textContent = "";
      return;
    }
    this.callNumber.textContent = latest.ticket.number;
    this.callCounter.textContent = latest.counter?.name || "";
    this.callService.textContent = state.serviceLabel(latest.ticket.service);
    if (flash) {
      restart(this.now, "flash");
      const tile = latest.counter && this.tiles.get(latest.counter.id);
      if (tile && tile.tile.isConnected) restart(tile.tile, "flash");
    }
  }

  renderRecent(state) {
    this.lastState = state;
    this.fitRecent(); // the call above may have grown: never more rows than fit
    const calls = state.recent.filter((t) => t.counter?.name);
    this.recentRows.forEach((slot, i) => {
      const ticket = i < this.recentFit ? calls[i] : null;
      slot.row.hidden = !ticket;
      slot.number.textContent = ticket ? ticket.number : "";
      slot.counter.textContent = ticket ? ticket.counter.name : "";
    });
  }

  tile(state, id) {
    let slot = this.tiles.get(id);
    if (!slot) {
      const tile = element("div", "tile");
      tile.dataset.counter = id;
      const name = element("div", "tile-name");
      const ticket = element("div", "tile-ticket");
      tile.append(name, ticket);
      slot = { tile, name, ticket };
      this.tiles.set(id, slot);
    }
    return slot;
  }

  // The active counters' tiles (state.activeCounters()), in configuration order.
  renderCounters(state) {
    const active = state.activeCounters();
    const ids = active.map((c) => c.id);
    const same = ids.length === this.shownTiles.length && ids.every((id, i) => id === this.shownTiles[i]);
    for (const counter of active) {
      const slot = this.tile(state, counter.id);
      slot.tile.dataset.status = counter.status;
      slot.tile.dataset.ticket = counter.ticket.status || "called";
      slot.name.textContent = counter.name;
      slot.ticket.textContent = counter.ticket.number;
    }
    this.counterEmpty.hidden = ids.length > 0;
    if (!same) {
      this.shownTiles = ids;
      this.grid.replaceChildren(...ids.map((id) => this.tiles.get(id).tile));
      this.counterPager.layout();
    }
  }

  renderCounter(state) {
    this.renderCounters(state);
  }

  renderWaiting(state) {
    this.waitingTitle.textContent = this.strings.t(state.perService ? "waitingService" : "waiting");
    const rows = state.waitingRows();
    const keys = rows.map((r) => r.key);
    const same = keys.length === this.waitingRows.size && keys.every((k) => this.waitingRows.has(k));
    if (!same) {
      this.waitingRows.clear();
      const nodes = rows.map((r) => {
        const row = element("div", "waiting-row");
        const label = element("span", "waiting-label");
        const count = element("span", "waiting-count");
        row.append(label, count);
        this.waitingRows.set(r.key, { row, label, count });
        return row;
      });
      if (!nodes.length) nodes.push(element("div", "waiting-empty", this.strings.t("nobodyWaiting")));
      this.waitingList.replaceChildren(...nodes);
    }
    for (const r of rows) {
      const slot = this.waitingRows.get(r.key);
      slot.label.textContent = r.prefix ? `${r.prefix} · ${r.label}` : r.label;
      // Nobody waits at a service that opens later today: say when ("Buka pukul 08.00").
      const opens = !r.count && r.opensAt !== null && r.opensAt !== undefined;
      slot.count.textContent = opens
        ? this.strings.t("opensAt").replace("{time}", clockText(r.opensAt, this.strings.lang))
        : String(r.count);
      slot.row.dataset.zero = r.count ? "false" : "true";
      slot.row.dataset.opens = opens ? "true" : "false";
    }
    if (!same) this.waitingPager.layout();
  }

  // Sizes what depends on the space the layout gives: pages, call rows, ticker speed.
  fit() {
    this.counterPager.layout();
    this.waitingPager.layout();
    if (this.fitRecent() && this.lastState) this.renderRecent(this.lastState);
    this.fitTicker();
  }

  // How many last calls fit the list's height (one column); true when that changed.
  fitRecent() {
    const list = getComputedStyle(this.recentList);
    const rowH = Number.parseFloat(list.gridAutoRows) || 1;
    const gap = Number.parseFloat(list.rowGap) || 0;
    const room = Math.floor((this.recentList.clientHeight + gap) / (rowH + gap));
    const fit = Math.max(1, Math.min(room, RECENT_LIMIT));
    this.recentList.style.setProperty("--recent-rows", String(fit));
    if (fit === this.recentFit) return false;
    this.recentFit = fit;
    return true;
  }

  setTicker(text) {
    this.tickerText.textContent = text || "";
    this.ticker.hidden = !text;
    this.fitTicker();
  }

  // Scroll speed independent of text length: about 12 rem per second.
  fitTicker() {
    if (this.ticker.hidden) return;
    const rem = Number.parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    const distance = this.ticker.clientWidth + this.tickerText.scrollWidth;
    this.ticker.style.setProperty("--ticker-s", `${Math.max(10, distance / (rem * 12)).toFixed(1)}s`);
  }

  showAnnouncement(text, seconds = 60) {
    clearTimeout(this.announcementTimer);
    this.announcementText.textContent = text;
    this.announcement.hidden = !text;
    if (text) this.announcementTimer = setTimeout(() => (this.announcement.hidden = true), seconds * 1000);
  }

  setOnline(online) {
    this.offline.hidden = online;
  }
}
