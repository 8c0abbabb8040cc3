// The configuration tabs: site, agencies, services, counters, displays, holidays.
// Forms build entries in the TOML schema (docs/configuration.md); state.save PUTs them.

import { api } from "/static/display/common/api.js";
import { locale, t } from "../strings.js";
import { button, checkbox, confirm, el, field, input, select, table } from "./dom.js";
import { section, text, whole } from "./sections.js";
import { state } from "./state.js";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const TIMEZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"];

const value = (node) => node.value.trim();
const agencyOptions = (config) => config.agencies.map((a) => [a.id, a.short_name || a.name]);
const chip = (open) => el("span", { className: `chip ${open ? "chip-open" : "chip-closed"}`, "data-role": "open" }, t(open ? "status_open" : "status_closed"));

function idField(entry) {
  const node = input("id", entry ? entry.id : "", { required: true, pattern: "[a-z0-9][a-z0-9-]{0,47}", autocomplete: "off" });
  if (entry) node.readOnly = true;
  return { node, nodeField: field("field_id", node, entry ? "id_fixed" : "id_hint") };
}

function checks(name, options, chosen, legendKey) {
  const set = new Set(chosen || []);
  const boxes = options.map(([id, label]) => {
    const box = el("input", { type: "checkbox", name, value: id, id: `${name}-${id}` });
    box.checked = set.has(id);
    return el("label", { className: "check-item", for: box.id }, box, ` ${label}`);
  });
  const node = el("fieldset", { className: "checks" }, el("legend", {}, t(legendKey)), ...boxes);
  return { node, read: () => [...node.querySelectorAll("input:checked")].map((b) => b.value) };
}

// -- agencies ------------------------------------------------------------------------

const agencies = {
  key: "agencies",
  title: "tab_agencies",
  add: "add_agency",
  noun: "noun_agency",
  columns: [
    { key: "field_id", cell: (a) => el("code", {}, a.id) },
    { key: "field_name", cell: (a) => a.name },
    { key: "field_short_name", cell: (a) => text(a.short_name) },
  ],
  form(entry) {
    const id = idField(entry);
    const name = input("name", entry ? entry.name : "", { required: true });
    const short = input("short_name", entry ? entry.short_name : "");
    return {
      nodes: [id.nodeField, field("field_name", name), field("field_short_name", short)],
      read: () => ({ id: value(id.node), name: value(name), short_name: value(short) }),
    };
  },
};

// -- services --------------------------------------------------------------------------

function hoursText(hours) {
  if (!hours) return t("hours_always");
  const days = WEEKDAYS.filter((d) => hours[d]);
  if (!days.length) return t("hours_never");
  const first = hours[days[0]];
  if (days.every((d) => hours[d] === first)) return `${days.map((d) => t(`day_${d}`)).join(", ")} ${first}`;
  return days.map((d) => `${t(`day_${d}`)} ${hours[d]}`).join("; ");
}

// Seven weekday fields of ranges ("08:00-12:00,13:00-15:00"), an empty one for none,
// and "copy Monday to Tuesday-Friday". read(): {weekday: ranges} of the filled ones.
function weeklyGrid(prefix, table, fallback, placeholderKey) {
  const inputs = Object.fromEntries(
    WEEKDAYS.map((d) => [d, input(`${prefix}_${d}`, table ? table[d] || "" : fallback(d), { placeholder: t(placeholderKey), inputmode: "numeric" })]),
  );
  const grid = el("div", { className: "hours-grid" }, ...WEEKDAYS.map((d) => field(`day_${d}`, inputs[d])));
  const copy = button("hours_copy_monday", () => {
    for (const d of ["tue", "wed", "thu", "fri"]) inputs[d].value = inputs.mon.value;
  });
  return {
    node: el("div", { className: "hours-weekly" }, grid, copy),
    read() {
      const out = {};
      for (const d of WEEKDAYS) if (value(inputs[d])) out[d] = value(inputs[d]).replaceAll(".", ":");
      return out;
    },
  };
}

function hoursEditor(hours) {
  const mode = select("hours_mode", [["always", t("hours_always")], ["weekly", t("hours_weekly")]], hours ? "weekly" : "always");
  const weekly = weeklyGrid("hours", hours, (d) => (d === "sat" || d === "sun" ? "" : "08:00-15:00"), "hours_closed_placeholder");
  const sync = () => (weekly.node.hidden = mode.value !== "weekly");
  mode.addEventListener("change", sync);
  sync();
  const node = el("fieldset", { className: "hours wide" }, el("legend", {}, t("field_hours")), field("hours_mode", mode, "hours_hint"), weekly.node);
  return { node, read: () => (mode.value === "weekly" ? weekly.read() : undefined) };
}

function services(ui) {
  return {
    key: "services",
    title: "tab_services",
    add: "add_service",
    noun: "noun_service",
    columns: [
      { key: "field_id", cell: (s) => el("code", {}, s.id) },
      { key: "field_name", cell: (s) => s.name },
      { key: "field_agency", cell: (s) => s.agency },
      { key: "field_prefix", cell: (s) => el("td", { "data-col": "prefix" }, s.prefix) },
      { key: "field_quota", cell: (s) => el("td", { className: "num", "data-col": "quota" }, text(s.daily_quota)) },
      { key: "field_targets", cell: (s) => `${text(s.target_wait_min)} / ${text(s.target_service_min)}` },
      { key: "field_hours", cell: (s) => el("td", { className: "hours-cell" }, hoursText(s.hours)) },
      { key: "field_open", cell: (s) => el("td", {}, chip(s.open !== false)) },
    ],
    actions: (s) => {
      const open = s.open !== false;
      return [button(open ? "close_today" : "open_again", () => setOpen(ui, s, !open), `btn small ${open ? "" : "primary"}`, { "data-action": open ? "close" : "open", "aria-label": `${t(open ? "close_today" : "open_again")} ${s.id}` })];
    },
    form(entry, config) {
      const id = idField(entry);
      const name = input("name", entry ? entry.name : "", { required: true });
      const agency = select("agency", agencyOptions(config), entry ? entry.agency : undefined);
      const prefix = input("prefix", entry ? entry.prefix : "", { required: true, maxlength: "2", pattern: "[A-Z]{1,2}", className: "short" });
      const quota = input("daily_quota", entry ? entry.daily_quota : "", { type: "number", min: "0", step: "1", className: "short" });
      const wait = input("target_wait_min", entry ? entry.target_wait_min : "", { type: "number", min: "0", step: "1", className: "short" });
      const serve = input("target_service_min", entry ? entry.target_service_min : "", { type: "number", min: "0", step: "1", className: "short" });
      const open = checkbox("open", entry ? entry.open !== false : true, "field_open_long");
      const hours = hoursEditor(entry ? entry.hours : null);
      return {
        nodes: [
          id.nodeField,
          field("field_name", name),
          field("field_agency", agency),
          field("field_prefix", prefix, "prefix_hint"),
          field("field_quota", quota, "quota_hint"),
          field("field_target_wait", wait, "minutes_hint"),
          field("field_target_service", serve, "minutes_hint"),
          open,
          hours.node,
        ],
        read: () => ({
          id: value(id.node),
          name: value(name),
          agency: agency.value,
          prefix: value(prefix).toUpperCase(),
          daily_quota: whole(quota, "field_quota"),
          target_wait_min: whole(wait, "field_target_wait"),
          target_service_min: whole(serve, "field_target_service"),
          open: open.querySelector("input").checked,
          hours: hours.read(),
        }),
      };
    },
  };
}

async function setOpen(ui, service, open) {
  if (!open) {
    const ok = await confirm(t("confirm_close_service_title", { name: service.name }), t("confirm_close_service_text"), "close_today");
    if (!ok) return;
  }
  try {
    await api("PATCH", `/api/v1/sites/${encodeURIComponent(state.site)}/services/${encodeURIComponent(service.id)}`, { body: { open } });
    await ui.reload();
    ui.say(t(open ? "service_opened" : "service_closed", { name: service.name }));
  } catch (err) {
    ui.fail(err);
  }
}

// -- counters ---------------------------------------------------------------------------

// The services of a counter, in call order: up, down, remove, and add one of the agency's.
function callOrder(entry, config, agencySelect) {
  let order = entry ? [...entry.services] : [];
  const list = el("ol", { className: "call-order", "aria-label": t("field_call_order") });
  const adder = el("select", { name: "add_service", id: "add-service" });
  const names = new Map(config.services.map((s) => [s.id, `${s.name} (${s.prefix})`]));

  function move(i, step) {
    const j = i + step;
    [order[i], order[j]] = [order[j], order[i]];
    render(j, step < 0 ? "up" : "down");
  }

  function render(focusIndex = null, focusWhich = null) {
    list.replaceChildren(
      ...order.map((id, i) =>
        el(
          "li",
          { "data-service": id },
          el("span", { className: "order-name" }, names.get(id) || id),
          button("move_up", () => move(i, -1), "btn small", { "aria-label": t("move_up_of", { name: names.get(id) || id }), "data-move": "up", disabled: i === 0 }),
          button("move_down", () => move(i, 1), "btn small", { "aria-label": t("move_down_of", { name: names.get(id) || id }), "data-move": "down", disabled: i === order.length - 1 }),
          button("remove", () => {
            order.splice(i, 1);
            render();
          }, "btn small danger", { "aria-label": `${t("remove")} ${names.get(id) || id}` }),
        ),
      ),
    );
    if (focusIndex !== null) {
      const target = list.children[focusIndex].querySelector(`[data-move="${focusWhich}"]`);
      (target && !target.disabled ? target : list.children[focusIndex].querySelector("button:not([disabled])")).focus();
    }
    const candidates = config.services.filter((s) => s.agency === agencySelect.value && !order.includes(s.id));
    adder.replaceChildren(...candidates.map((s) => el("option", { value: s.id }, names.get(s.id))));
    adder.disabled = add.disabled = candidates.length === 0;
  }

  const add = button("add_to_order", () => {
    if (!adder.value) return;
    order.push(adder.value);
    render();
    adder.focus();
  });
  agencySelect.addEventListener("change", () => {
    order = order.filter((id) => (config.services.find((s) => s.id === id) || {}).agency === agencySelect.value);
    render();
  });
  render();
  const node = el("fieldset", { className: "wide" }, el("legend", {}, t("field_call_order")), el("small", { className: "muted" }, t("call_order_hint")), list, el("div", { className: "inline" }, el("label", { for: "add-service" }, t("add_service_to_counter")), adder, add));
  return { node, read: () => [...order] };
}

const counters = {
  key: "counters",
  title: "tab_counters",
  add: "add_counter",
  noun: "noun_counter",
  columns: [
    { key: "field_id", cell: (c) => el("code", {}, c.id) },
    { key: "field_name", cell: (c) => c.name },
    { key: "field_agency", cell: (c) => c.agency },
    { key: "field_call_order", cell: (c) => el("td", { "data-col": "services" }, c.services.join(" → ")) },
    { key: "field_zone", cell: (c) => text(c.zone) },
    { key: "field_floor", cell: (c) => text(c.floor) },
    { key: "field_breaks", cell: (c) => el("td", { className: "hours-cell" }, c.breaks ? hoursText(c.breaks) : "—") },
  ],
  form(entry, config) {
    const id = idField(entry);
    const name = input("name", entry ? entry.name : "", { required: true });
    const agency = select("agency", agencyOptions(config), entry ? entry.agency : undefined);
    const order = callOrder(entry, config, agency);
    const zone = input("zone", entry ? entry.zone : "", { className: "short" });
    const floor = input("floor", entry ? entry.floor : "", { className: "short" });
    const breaks = weeklyGrid("breaks", entry ? entry.breaks : null, () => "", "breaks_none_placeholder");
    const breaksNode = el("fieldset", { className: "hours wide" }, el("legend", {}, t("field_breaks")), el("small", { className: "muted" }, t("breaks_hint")), breaks.node);
    return {
      nodes: [id.nodeField, field("field_name", name), field("field_agency", agency), field("field_zone", zone, "zone_hint"), field("field_floor", floor), order.node, breaksNode],
      read() {
        const entryOut = { id: value(id.node), name: value(name), agency: agency.value, services: order.read(), zone: value(zone) || null, floor: value(floor) || null };
        const table = breaks.read();
        if (Object.keys(table).length) entryOut.breaks = table;
        return entryOut;
      },
    };
  },
};

// -- displays -----------------------------------------------------------------------------

function filters(display, config) {
  const names = (ids, list, pick) => ids.map((id) => pick(list.find((e) => e.id === id)) || id).join(", ");
  const parts = [
    names(display.agencies, config.agencies, (a) => a && (a.short_name || a.name)),
    names(display.counters, config.counters, (c) => c && c.name),
    display.zone ? `${t("field_zone")} ${display.zone}` : "",
  ];
  return parts.filter(Boolean).join(" · ") || t("filter_all");
}

const displays = {
  key: "displays",
  title: "tab_displays",
  add: "add_display",
  noun: "noun_display",
  columns: [
    { key: "field_id", cell: (d) => el("code", {}, d.id) },
    { key: "field_name", cell: (d) => d.name },
    { key: "field_kind", cell: (d) => t(`kind_${d.kind}`) },
    { key: "field_layout", cell: (d) => (d.kind === "tv" ? t(`layout_${d.layout}`) : d.paper) },
    { key: "field_filters", cell: (d, config) => filters(d, config) },
    { key: "field_show_ikm", cell: (d) => (d.show_ikm ? t("yes") : t("no")) },
    { key: "field_open_page", cell: (d) => el("a", { href: d.kind === "tv" ? `/display/${state.site}?display=${d.id}` : `/kiosk/${state.site}`, target: "_blank", rel: "noopener" }, t("open_page")) },
  ],
  form(entry, config) {
    const id = idField(entry);
    const name = input("name", entry ? entry.name : "", { required: true });
    const kind = select("kind", [["tv", t("kind_tv")], ["kiosk", t("kind_kiosk")]], entry ? entry.kind : "tv");
    const layout = select("layout", [["landscape", t("layout_landscape")], ["portrait", t("layout_portrait")]], entry ? entry.layout : "landscape");
    const paper = select("paper", [["80mm", "80 mm"], ["58mm", "58 mm"]], entry ? entry.paper : "80mm");
    const ikm = checkbox("show_ikm", entry ? entry.show_ikm : false, "field_show_ikm_long");
    const zone = input("zone", entry ? entry.zone : "", { className: "short" });
    const ags = checks("agencies", agencyOptions(config), entry ? entry.agencies : [], "filter_agencies");
    const cts = checks("counters", config.counters.map((c) => [c.id, c.name]), entry ? entry.counters : [], "filter_counters");
    return {
      nodes: [id.nodeField, field("field_name", name), field("field_kind", kind), field("field_layout", layout), field("field_paper", paper), ikm, field("field_zone", zone, "zone_filter_hint"), ags.node, cts.node],
      read: () => ({ id: value(id.node), name: value(name), kind: kind.value, layout: layout.value, paper: paper.value, show_ikm: ikm.querySelector("input").checked, zone: value(zone), agencies: ags.read(), counters: cts.read() }),
    };
  },
};

// -- the site's own fields, running text, holidays -----------------------------------

function siteForm(panel, ui, fields, titleKey, formName) {
  const card = el("section", { className: "card" });
  const render = () => {
    const site = state.config.site;
    const built = fields(site);
    const error = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
    const submit = el("button", { type: "submit", className: "btn primary" }, t("save"));
    const form = el("form", { className: "entry-form", "data-form": formName, novalidate: true }, el("h2", {}, t(titleKey)), el("div", { className: "fields" }, ...built.nodes), error, state.editable ? el("div", { className: "form-buttons" }, submit) : null);
    if (!state.editable) for (const control of form.querySelectorAll("input, select, textarea")) control.disabled = true;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      try {
        const changed = built.read();
        await ui.save((copy) => Object.assign(copy.site, changed));
        ui.say(t("saved_site"));
      } catch (err) {
        error.textContent = ui.explain(err);
      } finally {
        submit.disabled = false;
      }
    });
    card.replaceChildren(form);
  };
  panel.append(card);
  return { render };
}

function siteFields(site) {
  const name = input("name", site.name, { required: true });
  const timezone = select("timezone", [...new Set([site.timezone, ...TIMEZONES])].map((z) => [z, z]), site.timezone);
  const announcement = input("announcement", site.announcement, { className: "long" });
  const publicUrl = input("public_url", site.public_url || "", { type: "url", className: "long", placeholder: "https://mpp.example.go.id" });
  const priority = checkbox("kiosk_priority", site.kiosk_priority, "field_kiosk_priority");
  const needsToken = checkbox("require_display_token", site.require_display_token, "field_require_display_token");
  return {
    nodes: [field("field_site_name", name), field("field_timezone", timezone), field("field_announcement", announcement, "announcement_hint"), field("field_public_url", publicUrl, "public_url_hint"), priority, needsToken],
    read: () => ({
      name: value(name),
      timezone: timezone.value,
      announcement: value(announcement),
      public_url: value(publicUrl),
      kiosk_priority: priority.querySelector("input").checked,
      require_display_token: needsToken.querySelector("input").checked,
    }),
  };
}

function runningTextFields(site) {
  const running = el("textarea", { name: "running_text", rows: "3", maxlength: "2000", className: "long" });
  running.value = site.running_text || "";
  return { nodes: [field("field_running_text", running, "running_text_hint")], read: () => ({ running_text: value(running) }) };
}

function holidaysPanel(panel, ui) {
  const card = el("section", { className: "card" });
  panel.append(card);
  const render = () => {
    const days = [...(state.config.site.holidays || [])].sort();
    const error = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
    const day = el("input", { type: "date", name: "holiday", id: "holiday-date", required: true });
    const change = async (next, said) => {
      error.textContent = "";
      try {
        await ui.save((copy) => {
          copy.site.holidays = next;
        });
        ui.say(said);
      } catch (err) {
        error.textContent = ui.explain(err);
      }
    };
    const rows = days.map((d) => ({
      cells: [el("time", { datetime: d }, formatDay(d)), el("td", { className: "actions" }, state.editable ? button("remove", () => change(days.filter((x) => x !== d), t("holiday_removed", { day: formatDay(d) })), "btn small danger", { "aria-label": `${t("remove")} ${d}` }) : null)],
      attrs: { "data-day": d },
    }));
    const form = el("form", { className: "inline-form", "data-form": "holidays" }, field("holiday_add_label", day), el("button", { type: "submit", className: "btn primary" }, t("add_holiday")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!day.value) return day.focus();
      if (days.includes(day.value)) return;
      change([...days, day.value].sort(), t("holiday_added", { day: formatDay(day.value) }));
    });
    card.replaceChildren(el("h2", {}, t("tab_holidays")), el("p", { className: "muted" }, t("holidays_hint")), state.editable ? form : null, error, table(["col_day", "col_actions"], rows, { "data-section": "holidays" }));
  };
  return { render };
}

function formatDay(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(locale(), { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

// Every configuration tab: {name: (panel) -> {render}}; `ui` is the page (save, say...).
export function configTabs(ui) {
  return {
    site: (panel) => siteForm(panel, ui, siteFields, "tab_site", "site"),
    agencies: (panel) => section(panel, agencies, ui),
    services: (panel) => section(panel, services(ui), ui),
    counters: (panel) => section(panel, counters, ui),
    displays: (panel) => {
      const running = siteForm(panel, ui, runningTextFields, "running_text_title", "running-text");
      const list = section(panel, displays, ui);
      return { render: () => (running.render(), list.render()) };
    },
    holidays: (panel) => holidaysPanel(panel, ui),
  };
}
