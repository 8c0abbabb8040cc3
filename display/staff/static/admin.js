// Administration, /admin?site=ID&tab=NAME: a site's configuration (site, agencies,
// services, counters, displays, holidays), accounts, device tokens, import/export and
// the audit log. Admins edit everything; a supervisor sees its own site's services and
// counters, opens and closes services, and manages its officers' accounts.
//
// Configuration edits go through admin/state.js: a copy of what the server answered,
// changed and PUT whole with If-Match (412: someone saved meanwhile, the banner offers
// a reload; 422: the server's message, naming entry and field, next to the form).

import { api, ApiError } from "/static/display/common/api.js";
import { EventStream } from "/static/display/common/connection.js";
import { accountsTab } from "./admin/accounts.js";
import { auditTab } from "./admin/audit.js";
import { configTabs } from "./admin/config.js";
import { $, el, field, input, select } from "./admin/dom.js";
import { ioTab } from "./admin/io.js";
import "./admin/strings.js";
import { load, onChange, save, state } from "./admin/state.js";
import { tokensTab } from "./admin/tokens.js";
import { startPage } from "./shell.js";
import { errorText, t, translatePage } from "./strings.js";

const ADMIN_TABS = ["site", "agencies", "services", "counters", "displays", "holidays", "accounts", "tokens", "io", "audit"];
const SUPERVISOR_TABS = ["services", "counters", "accounts", "audit"];

let me = null;
let tabs = [];
let current = null;
let panels = new Map(); // tab -> {panel, view}
let shell = null;
let stream = null;
let pending = Promise.resolve(); // the page's own save in flight, if any

const params = () => new URLSearchParams(window.location.search);

function remember() {
  const query = new URLSearchParams({ site: state.site || "", tab: current || "" });
  history.replaceState(null, "", `/admin?${query}`);
}

function say(text) {
  $("message").textContent = text;
  $("error").textContent = "";
}

function explain(err) {
  if (err instanceof ApiError && err.status === 412) return t("stale");
  if (err instanceof ApiError && (err.status === 400 || err.status === 422)) return t("rejected", { message: err.message });
  if (err instanceof ApiError && err.status === 401) shell.expired();
  return errorText(err);
}

const ui = {
  get me() {
    return me;
  },
  async save(change) {
    const saving = save(change);
    pending = saving.catch(() => {});
    try {
      await saving;
      $("stale").hidden = true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) $("stale").hidden = false;
      throw err;
    }
  },
  explain,
  say,
  fail(err) {
    $("error").textContent = explain(err);
  },
  reload() {
    const loading = reloadConfig();
    pending = loading.catch(() => {});
    return loading;
  },
  changed() {
    const audit = panels.get("audit");
    if (audit && audit.rendered) audit.view.render();
  },
};

async function reloadConfig() {
  await load(state.site);
  $("stale").hidden = true;
}

// -- tabs -----------------------------------------------------------------------------

function buildTabs() {
  const config = configTabs(ui);
  const makers = { ...config, accounts: accountsTab(ui), tokens: tokensTab(ui), io: ioTab(ui), audit: auditTab(ui) };
  const list = $("tabs");
  list.replaceChildren();
  $("panels").replaceChildren();
  panels = new Map();
  for (const name of tabs) {
    const tab = el("button", { type: "button", role: "tab", id: `tab-${name}`, "aria-controls": `panel-${name}`, "aria-selected": "false", tabindex: "-1", className: "tab", "data-tab": name }, t(`tab_${name}`));
    tab.addEventListener("click", () => show(name));
    list.append(tab);
    const panel = el("section", { role: "tabpanel", id: `panel-${name}`, "aria-labelledby": `tab-${name}`, className: "panel", hidden: true, tabindex: "0" });
    $("panels").append(panel);
    panels.set(name, { panel, view: makers[name](panel), rendered: false });
  }
}

$("tabs").addEventListener("keydown", (event) => {
  const i = tabs.indexOf(current);
  const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
  show(next);
  $(`tab-${next}`).focus();
});

function show(name) {
  current = tabs.includes(name) ? name : tabs[0];
  for (const [tab, entry] of panels) {
    const on = tab === current;
    entry.panel.hidden = !on;
    const button = $(`tab-${tab}`);
    button.setAttribute("aria-selected", String(on));
    button.tabIndex = on ? 0 : -1;
  }
  const entry = panels.get(current);
  entry.rendered = true;
  entry.view.render();
  remember();
}

onChange(() => {
  $("config-version").textContent = t("version", { n: state.version });
  const entry = panels.get(current);
  if (entry) entry.view.render();
  for (const [tab, other] of panels) if (tab !== current) other.rendered = false;
});

// -- sites --------------------------------------------------------------------------------

async function sites() {
  const all = (await api("GET", "/api/v1/sites")).sites;
  return me.role === "admin" ? all : all.filter((s) => s.id === me.site);
}

async function openSite(site, tab) {
  $("error").textContent = "";
  $("message").textContent = "";
  state.editable = me.role === "admin";
  try {
    await load(site);
  } catch (err) {
    $("error").textContent = explain(err);
    return;
  }
  $("open-monitor").href = `/monitor/${encodeURIComponent(site)}`;
  follow(site);
  tabs = me.role === "admin" ? ADMIN_TABS : SUPERVISOR_TABS;
  buildTabs();
  show(tab);
}

// A change saved elsewhere (another browser, the API, `loket config load`) is announced
// on the site's event stream with its version: say so before anyone types over it.
function follow(site) {
  if (stream) stream.stop();
  stream = new EventStream({
    site,
    onEvent: async (event) => {
      if (event.type !== "site.config_changed") return;
      await pending; // our own save's event carries the version it answers
      if (state.site === site && Number(event.version) > Number(state.version)) $("stale").hidden = false;
    },
  }).start();
}

function fillPicker(list, chosen) {
  const picker = $("site-select");
  picker.replaceChildren(...list.map((s) => el("option", { value: s.id }, s.name === s.id ? s.id : `${s.name} (${s.id})`)));
  picker.value = chosen;
  picker.disabled = list.length < 2;
}

$("site-select").addEventListener("change", () => openSite($("site-select").value, current));
$("stale-reload").addEventListener("click", async () => {
  try {
    await reloadConfig();
    say(t("reloaded"));
  } catch (err) {
    ui.fail(err);
  }
});

// A new site starts with one agency, service and counter (the schema needs one of
// each); the admin renames and adds from there.
function newSiteForm() {
  const id = input("id", "", { required: true, pattern: "[a-z0-9][a-z0-9-]{0,47}", autocomplete: "off" });
  const name = input("name", "", { required: true });
  const zone = select("timezone", [["Asia/Jakarta", "Asia/Jakarta (WIB)"], ["Asia/Makassar", "Asia/Makassar (WITA)"], ["Asia/Jayapura", "Asia/Jayapura (WIT)"]], "Asia/Jakarta");
  const error = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
  const card = el("section", { className: "card editor" });
  const close = () => card.remove();
  const form = el("form", { className: "entry-form", "data-form": "new-site", novalidate: true },
    el("h2", {}, t("new_site")),
    el("p", { className: "muted" }, t("new_site_hint")),
    el("div", { className: "fields" }, field("field_id", id, "id_hint"), field("field_site_name", name), field("field_timezone", zone)),
    error,
    el("div", { className: "form-buttons" }, el("button", { type: "submit", className: "btn primary" }, t("create_site")), el("button", { type: "button", className: "btn", onclick: close }, t("cancel"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const doc = {
      site: { id: id.value.trim(), name: name.value.trim(), timezone: zone.value },
      agencies: [{ id: "instansi-1", name: t("starter_agency"), short_name: t("starter_agency") }],
      services: [{ id: "layanan-1", agency: "instansi-1", name: t("starter_service"), prefix: "A" }],
      counters: [{ id: "loket-1", name: "Loket 1", agency: "instansi-1", services: ["layanan-1"] }],
      displays: [],
    };
    try {
      await api("POST", "/api/v1/sites", { body: doc });
      close();
      fillPicker(await sites(), doc.site.id);
      await openSite(doc.site.id, "agencies");
      say(t("site_created", { name: doc.site.name }));
    } catch (err) {
      error.textContent = explain(err);
    }
  });
  $("panels").before(card);
  id.focus();
}
$("new-site").addEventListener("click", newSiteForm);

shell = startPage({
  allowed: (who) => who.role === "admin" || (who.role === "supervisor" && Boolean(who.site)),
  async onReady(who) {
    me = who;
    $("new-site").hidden = me.role !== "admin";
    let list = [];
    try {
      list = await sites();
    } catch (err) {
      $("error").textContent = explain(err);
      return;
    }
    if (!list.length) {
      $("error").textContent = t("no_sites");
      return;
    }
    const wanted = params().get("site");
    const site = list.some((s) => s.id === wanted) ? wanted : list[0].id;
    fillPicker(list, site);
    await openSite(site, params().get("tab"));
  },
  onSignOut() {
    if (stream) stream.stop();
    stream = null;
  },
  onLanguage() {
    translatePage();
    if (state.site) {
      const keep = current;
      buildTabs();
      show(keep);
      $("config-version").textContent = t("version", { n: state.version });
    }
  },
});

