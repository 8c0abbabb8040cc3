// Lobby TV page: wires the site document, the event stream, the view and the announcer.
// Data comes from <body data-*> (the page handler fills it); see docs/display.md.

import { api } from "../common/api.js";
import { EventStream } from "../common/connection.js";
import { Announcer } from "./announcer.js";
import { Clock } from "./clock.js";
import { IkmBadge } from "./ikm.js";
import { MediaZone } from "./media.js";
import { DEFAULT_TEMPLATE, fillTemplate } from "./phrase.js";
import { Speech } from "./speech.js";
import { TvState } from "./state.js";
import { Strings } from "./strings.js";
import { TvView } from "./render.js";
import { VoiceBank } from "./voice.js";

const body = document.body;
const siteId = body.dataset.site;
const filters = { agency: body.dataset.agency, counter: body.dataset.counter, zone: body.dataset.zone };
const token = new URLSearchParams(location.search).get("token");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const strings = new Strings();
const view = new TvView(document, strings);
const clock = new Clock({
  timeElement: document.getElementById("clock-time"),
  dateElement: document.getElementById("clock-date"),
  timeZone: body.dataset.timezone,
});
const soundButton = document.getElementById("sound-button");
const speech = new Speech();
const voice = new VoiceBank({
  onStateChange: (state) => {
    soundButton.hidden = state !== "suspended";
    body.dataset.audio = state;
  },
});
// The media zone, when the display has a playlist (data-media: file names).
const mediaSection = document.getElementById("media");
const media =
  mediaSection && body.dataset.media
    ? new MediaZone({
        section: mediaSection,
        stage: document.getElementById("media-stage"),
        site: siteId,
        files: body.dataset.media.split(","),
        seconds: Number(body.dataset.mediaSeconds),
        volume: Number(body.dataset.mediaVolume),
      })
    : null;
const announcer = new Announcer({
  voice,
  speech,
  onChange: () => {
    body.dataset.announceQueue = String(announcer.items.length);
    // Something is being (or about to be) announced: videos go silent until it is done.
    if (media) media.setAnnouncing(announcer.items.length > 0);
  },
});
// This month's IKM in the header, when the display publishes it (data-ikm="1").
const ikmElement = document.getElementById("ikm");
const ikm =
  body.dataset.ikm === "1" && ikmElement
    ? new IkmBadge({
        element: ikmElement,
        value: document.getElementById("ikm-value"),
        strings,
        fetchIkm: () => api("GET", `/api/v1/sites/${encodeURIComponent(siteId)}/ikm`, { token }),
      })
    : null;
window.loket = { announcer, state: null, stream: null, voice, view, ikm, media };

function applyLayout() {
  const fixed = body.dataset.layout;
  const portrait = fixed === "portrait" || (fixed === "auto" && innerHeight > innerWidth);
  document.documentElement.classList.toggle("portrait", portrait);
  document.documentElement.classList.toggle("landscape", !portrait);
}

function applyStrings() {
  strings.apply(document);
  clock.setLocale(strings.t("locale"));
  const toggle = document.getElementById("lang-toggle");
  toggle.textContent = strings.t("languageShort");
  // the name starts with the visible "EN"/"ID" (WCAG 2.5.3, label in name)
  toggle.setAttribute("aria-label", `${strings.t("languageShort")}, ${strings.t("language")}`);
  toggle.lang = strings.t("languageShort").toLowerCase(); // its own language (WCAG 3.1.2)
  if (window.loket.state) view.renderAll(window.loket.state);
  if (ikm) ikm.render();
}

// The offline banner shows while the stream is down or a needed GET keeps failing.
let fetchFailing = false;
function showConnection() {
  view.setOnline(body.dataset.connection !== "offline" && !fetchFailing);
}

// GET with patience: a TV that boots before the network keeps trying.
async function fetchJson(path) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const data = await api("GET", path, { token });
      fetchFailing = false;
      showConnection();
      return data;
    } catch (err) {
      if (err.status && err.status < 500 && err.status !== 429) throw err;
      fetchFailing = true;
      showConnection();
      await sleep(Math.min(15000, 1000 * 2 ** attempt));
    }
  }
}

function announceCall(event, site, state) {
  const ticket = event.ticket;
  const counterName = (event.counter || ticket.counter || {}).name || "";
  const values = { number: ticket.number, counter: counterName, service: state.serviceName(ticket.service) };
  const template = site.announcement || DEFAULT_TEMPLATE;
  // The seq makes it once; number and recall count keep a wiped store's reused seqs apart.
  const key = `${event.seq}:${ticket.number}:${ticket.recalls ?? 0}`;
  announcer.announce({ key, text: fillTemplate(template, values), template, values });
}

// Reloads the page for a new configuration once the announcer has finished (at most 30 s).
let reloading = false;
async function reloadWhenQuiet() {
  if (reloading) return;
  reloading = true;
  await sleep(500); // a burst of configuration changes (one save is one event): reload once
  for (let waited = 0; waited < 30000 && !announcer.idle; waited += 500) await sleep(500);
  location.reload();
}

async function refreshState(state) {
  // Events keep arriving while we ask: retry until the answer is not older than them.
  for (let tries = 0; tries < 3; tries += 1) {
    const fresh = await fetchJson(`/api/v1/sites/${encodeURIComponent(siteId)}/state`);
    if (state.seq === null || fresh.seq >= state.seq) {
      state.applySnapshot(fresh, state.seq === null ? fresh.seq : Math.max(fresh.seq, state.seq));
      view.renderAll(state);
      return;
    }
  }
}

async function main() {
  applyLayout();
  addEventListener("resize", applyLayout);
  applyStrings();
  clock.start();
  document.getElementById("lang-toggle").addEventListener("click", () => {
    strings.toggle();
    applyStrings();
  });
  // A click, a tap or any key of a remote is the gesture that lets sound start.
  const enableSound = () => {
    if (voice.running) return;
    speech.unlock();
    voice.resume().catch((err) => console.warn("loket: audio resume", err));
  };
  soundButton.addEventListener("click", enableSound);
  addEventListener("keydown", enableSound);

  if (ikm) ikm.start();
  if (media) media.start();
  const site = await fetchJson(`/api/v1/sites/${encodeURIComponent(siteId)}`);
  view.setTicker(site.running_text || "");
  const state = new TvState(site, filters);
  window.loket.state = state;
  view.renderAll(state);

  const stream = new EventStream({
    site: siteId,
    filters,
    token,
    onSnapshot: (snapshot, seq) => {
      state.applySnapshot(snapshot, seq);
      view.renderAll(state);
      body.dataset.seq = String(seq);
    },
    onEvent: (event) => {
      const change = state.applyEvent(event);
      body.dataset.seq = String(event.seq);
      if (change.call) {
        view.renderCounters(state); // the tile first, so it flashes with the call
        view.renderCall(state, true);
        view.renderRecent(state);
        announceCall(event, site, state);
      } else {
        if (change.latest) view.renderCall(state, false);
        if (change.recent) view.renderRecent(state);
      }
      if (change.counters.size) view.renderCounters(state);
      if (change.waiting) view.renderWaiting(state);
      if (change.announcement) {
        view.showAnnouncement(change.announcement);
        announcer.announce({ key: `${event.seq}:announcement`, text: change.announcement });
      }
      if (change.reload === "state") refreshState(state).catch((err) => console.warn("loket: state", err));
      if (change.reload === "page") reloadWhenQuiet();
      if (ikm && event.type === "ticket.rated") ikm.soon();
    },
    onStatus: (status) => {
      body.dataset.connection = status;
      showConnection();
    },
  });
  window.loket.stream = stream;
  stream.start();
}

main().catch((err) => {
  console.error("loket: TV failed to start", err);
  body.dataset.connection = "offline";
  showConnection();
  setTimeout(() => location.reload(), 30000);
});
