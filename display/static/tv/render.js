// Draws the TV from TvState. Every name from configuration or events goes in through
// textContent, never as HTML. Elements are made once and reused (the call list has a fixed
// number of rows, tiles are keyed by id), so eight hours of calls never grow the DOM.

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

// The column count that gives the largest tiles of about `aspect` width:height.
export function bestGrid(count, width, height, gap, aspect = 1.5) {
  let best = { cols: 1, rows: Math.max(count, 1), size: 0 };
  for (let cols = 1; cols <= Math.max(count, 1); cols += 1) {
    const rows = Math.ceil(count / cols);
    const tileW = (width - gap * (cols - 1)) / cols;
    const tileH = (height - gap * (rows - 1)) / rows;
    const size = Math.min(tileW / aspect, tileH);
    if (size > best.size) best = { cols, rows, size };
  }
  return best;
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
    this.waitingList = $("waiting-list");
    this.waitingTitle = $("waiting-title");
    this.ticker = $("ticker");
    this.tickerText = $("ticker-text");
    this.announcement = $("announcement");
    this.announcementText = $("announcement-text");
    this.offline = $("offline");
    this.tiles = new Map(); // counter id → {tile, name, ticket, status}
    this.waitingRows = new Map(); // key → {row, label, count}
    this.announcementTimer = null;
    this.recentFit = RECENT_LIMIT;

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
    for (const node of [this.grid, this.recentList, this.ticker]) this.resizeObserver.observe(node);
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
    this.callService.textContent = state.serviceName(latest.ticket.service);
    if (flash) {
      restart(this.now, "flash");
      const tile = latest.counter && this.tiles.get(latest.counter.id);
      if (tile) restart(tile.tile, "flash");
    }
  }

  renderRecent(state) {
    this.lastState = state;
    this.recentRows.forEach((slot, i) => {
      const ticket = i < this.recentFit ? state.recent[i] : null;
      slot.row.hidden = !ticket;
      slot.number.textContent = ticket ? ticket.number : "";
      slot.counter.textContent = ticket ? ticket.counter?.name || "" : "";
    });
  }

  renderCounters(state) {
    const ids = [...state.counters.keys()];
    const same = ids.length === this.tiles.size && ids.every((id) => this.tiles.has(id));
    if (!same) {
      this.tiles.clear();
      const nodes = ids.map((id) => {
        const tile = element("div", "tile");
        tile.dataset.counter = id;
        const name = element("div", "tile-name");
        const ticket = element("div", "tile-ticket");
        const status = element("div", "tile-status");
        tile.append(name, ticket, status);
        this.tiles.set(id, { tile, name, ticket, status });
        return tile;
      });
      this.grid.replaceChildren(...nodes);
      this.fit();
    }
    for (const id of ids) this.renderCounter(state, id);
  }

  renderCounter(state, id) {
    const counter = state.counters.get(id);
    const slot = this.tiles.get(id);
    if (!counter || !slot) return;
    slot.tile.dataset.status = counter.status;
    slot.tile.dataset.ticket = counter.ticket ? counter.ticket.status : "none";
    slot.name.textContent = counter.name;
    slot.ticket.textContent = counter.ticket ? counter.ticket.number : "—";
    slot.status.textContent = this.strings.t(counter.status) || counter.status;
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
      slot.count.textContent = String(r.count);
      slot.row.dataset.zero = r.count ? "false" : "true";
    }
  }

  // Sizes what depends on the space the layout gives: tile grid, call rows, ticker speed.
  fit() {
    const count = this.tiles.size;
    if (count) {
      const gap = Number.parseFloat(getComputedStyle(this.grid).columnGap) || 0;
      const width = this.grid.clientWidth;
      const height = this.grid.clientHeight;
      const { cols, rows } = bestGrid(count, width, height, gap);
      // A site with few counters gets big tiles, not giant ones.
      const rem = Number.parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
      const tileH = Math.min((height - gap * (rows - 1)) / rows, 12 * rem);
      const tileW = Math.min((width - gap * (cols - 1)) / cols, 20 * rem);
      this.grid.style.setProperty("--cols", String(cols));
      this.grid.style.setProperty("--rows", String(rows));
      this.grid.style.setProperty("--tile-w", `${Math.max(Math.floor(tileW), 0)}px`);
      this.grid.style.setProperty("--tile-h", `${Math.max(Math.floor(tileH), 0)}px`);
    }
    const list = getComputedStyle(this.recentList);
    const rowH = Number.parseFloat(list.gridAutoRows) || 1;
    const gap = Number.parseFloat(list.rowGap) || 0;
    const cols = list.gridTemplateColumns.split(" ").filter(Boolean).length || 1;
    const room = Math.floor((this.recentList.clientHeight + gap) / (rowH + gap));
    const rows = Math.max(1, Math.min(room, Math.ceil(RECENT_LIMIT / cols)));
    this.recentList.style.setProperty("--recent-rows", String(rows));
    const fit = Math.min(RECENT_LIMIT, rows * cols);
    if (fit !== this.recentFit) {
      this.recentFit = fit;
      if (this.lastState) this.renderRecent(this.lastState);
    }
    this.fitTicker();
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
