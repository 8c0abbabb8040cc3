// Officer console, /counter/{site}: sign in, pick a counter, work it.

import { api, ApiError } from "/static/display/common/api.js";
import { submitLogin } from "/static/display/common/login.js";
import { createStore, initialState } from "./state.js";
import { errorText, lang, setLang, t, translatePage } from "./strings.js";
import { fold } from "./format.js";
import { renderConsole, renderHeader, renderBanner, renderTimer, counterConfig } from "./render.js";
import { createConsole } from "./console.js";
import { installShortcuts } from "./keys.js";
import {
  belongsToSite,
  isStaff,
  login,
  logout,
  mayUse,
  rememberCounter,
  rememberedCounter,
  usableCounters,
  whoAmI,
} from "./session.js";

const $ = (id) => document.getElementById(id);
const siteId = document.body.dataset.site;
const VIEWS = ["loading", "login", "pick", "console"];
let view = "loading";

function show(name) {
  view = name;
  for (const other of VIEWS) $(`view-${other}`).hidden = other !== name;
  document.body.dataset.view = name;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Keep trying while the server is unreachable: the console must come back by itself.
async function patiently(fn) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 0 && err.status < 500)) throw err;
      $("banner").hidden = false;
      $("banner").textContent = t("offline");
      await sleep(Math.min(10000, 500 * 2 ** attempt));
    }
  }
}

async function loadSite() {
  return patiently(() => api("GET", `/api/v1/sites/${encodeURIComponent(siteId)}`));
}

const store = createStore({ ...initialState(null), streamOnline: true, retryingAction: false, message: null });

const counter = createConsole({
  store,
  siteId,
  hooks: {
    signedOut: (message) => signedOut(message),
    counterGone: (counterId) => {
      rememberCounter(siteId, null);
      counter.close();
      store.set({ counterId: null, counter: null });
      showPicker(t("pick_gone", { counter: counterId }));
    },
    // The configuration changed (from /admin): new services, names, maybe no counter.
    siteChanged: async () => {
      let site;
      try {
        site = await api("GET", `/api/v1/sites/${encodeURIComponent(siteId)}`);
      } catch {
        return; // keep the old document; the next change or reload brings the new one
      }
      const { counterId, busy } = store.get();
      store.set({ site });
      if (view !== "console" || !counterId) return;
      if (!counterConfig(site, counterId)) {
        rememberCounter(siteId, null);
        return showPicker(t("pick_gone", { counter: counterId }));
      }
      if (!busy) counter.open(counterId); // restart the feed with the new services
    },
  },
});

const onCall = (ticket) => counter.act("call", { ticket });

store.subscribe((state) => {
  if (view === "console") renderConsole(state, { onCall });
  else {
    renderHeader(state);
    renderBanner(state);
  }
});

// ------------------------------------------------------------------ login

// The login form's error, as a function of the language (drawn again on a switch).
let loginError = () => "";
function sayLoginError(text) {
  loginError = typeof text === "function" ? text : () => text;
  $("login-error").textContent = loginError();
}

function showLogin(message = "") {
  counter.close();
  store.set({ me: null, counterId: null, counter: null });
  show("login");
  sayLoginError(message);
  $("login-password").value = "";
  $("login-username").focus();
}

async function signedOut(message) {
  showLogin(message);
}

submitLogin({ login, t, errorText, sayError: sayLoginError, signedIn: afterLogin });

$("logout").addEventListener("click", async () => {
  counter.close();
  await logout();
  showLogin();
});

// ------------------------------------------------------------------ counter choice

function counterSubtitle(site, config) {
  const agency = site.agencies.find((a) => a.id === config.agency);
  return agency ? agency.short_name || agency.name : config.agency;
}

function drawPicker() {
  const { site, me } = store.get();
  const list = $("pick-list");
  const counters = usableCounters(me, site);
  const filter = $("pick-filter");
  filter.hidden = counters.length <= 8;
  const terms = fold(filter.value.trim()).split(/\s+/).filter(Boolean);
  const services = new Map(site.services.map((s) => [s.id, s.name]));
  const shown = counters.filter((c) => {
    const text = fold([c.name, c.id, counterSubtitle(site, c), c.zone, ...c.services.map((s) => services.get(s))].join(" "));
    return terms.every((term) => text.includes(term));
  });
  list.replaceChildren();
  for (const config of shown) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pick-item";
    button.dataset.counter = config.id;
    const name = document.createElement("strong");
    name.textContent = config.name;
    const agency = document.createElement("span");
    agency.className = "pick-agency";
    agency.textContent = counterSubtitle(site, config);
    const what = document.createElement("span");
    what.className = "pick-services";
    what.textContent = config.services.map((s) => services.get(s) || s).join(" · ");
    button.append(name, agency, what);
    button.addEventListener("click", () => chooseCounter(config.id));
    list.append(button);
  }
  if (counters.length && !shown.length) {
    const empty = document.createElement("p");
    empty.className = "muted";
    empty.textContent = t("pick_no_match");
    list.append(empty);
  }
}

function showPicker(note = "") {
  const { site, me } = store.get();
  counter.close();
  store.set({ counterId: null, counter: null });
  show("pick");
  let text = note;
  if (!belongsToSite(me, site.id)) text = t("pick_other_site");
  else if (!usableCounters(me, site).length) text = t("pick_none");
  $("pick-note").hidden = !text;
  $("pick-note").textContent = text;
  drawPicker();
  const first = $("pick-list").querySelector("button");
  if (!$("pick-filter").hidden) $("pick-filter").focus();
  else if (first) first.focus();
}

$("pick-filter").addEventListener("input", drawPicker);
$("pick-filter").addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const first = $("pick-list").querySelector("button");
  if (first) first.click();
});

function chooseCounter(counterId) {
  rememberCounter(siteId, counterId);
  openConsole(counterId);
}

function openConsole(counterId) {
  show("console");
  counter.open(counterId);
  const { me, site } = store.get();
  // We know already; the server has the last word (its 403 sets the same flag).
  if (!mayUse(me, site, counterId)) store.set({ forbidden: true });
  if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
}

$("change-counter").addEventListener("click", () => {
  rememberCounter(siteId, null);
  showPicker();
});

async function afterLogin(me) {
  store.set({ me });
  const { site } = store.get();
  if (!belongsToSite(me, site.id)) return showPicker();
  const asked = new URLSearchParams(location.search).get("counter");
  if (asked && counterConfig(site, asked)) return openConsole(asked);
  const remembered = rememberedCounter(siteId);
  if (remembered && counterConfig(site, remembered) && (isStaff(me) || mayUse(me, site, remembered))) {
    return openConsole(remembered);
  }
  // An officer of exactly one counter has nothing to choose.
  const mine = usableCounters(me, site);
  if (!isStaff(me) && mine.length === 1) return chooseCounter(mine[0].id);
  return showPicker();
}

// ------------------------------------------------------------------ buttons, keys, language

for (const button of document.querySelectorAll("#actions [data-action]")) {
  button.addEventListener("click", (event) => {
    // A mouse click leaves the focus on the page, so that Space means Next again; a
    // keyboard press (detail 0) keeps it where the officer put it.
    if (event.detail > 0) button.blur();
    counter.act(button.dataset.action);
  });
}

$("undo-button").addEventListener("click", (event) => {
  if (event.detail > 0) $("undo-button").blur();
  counter.act("undo");
});

installShortcuts({ enabled: () => view === "console", act: (action) => counter.act(action) });

function drawLanguage() {
  translatePage();
  $("login-error").textContent = loginError();
  if (view === "pick") drawPicker();
  if (view === "console") renderConsole(store.get(), { onCall });
}

$("lang").addEventListener("click", (event) => {
  if (event.detail > 0) $("lang").blur();
  setLang(lang() === "id" ? "en" : "id");
  drawLanguage();
});

setInterval(() => {
  if (view === "console") renderTimer(store.get());
}, 1000);

// ------------------------------------------------------------------ start

async function boot() {
  drawLanguage();
  const site = await loadSite();
  store.set({ site });
  $("banner").hidden = true;
  const me = await patiently(whoAmI);
  if (!me) return showLogin();
  return afterLogin(me);
}

boot();
