// Modal dialogs: a confirmation for destructive actions, the question "served or
// no-show?" for a ticket that was never started, and the service picker for transfers
// (searchable by service name, agency and number prefix; nothing chosen beforehand).

import { t } from "./strings.js";
import { fold } from "./format.js";

const $ = (id) => document.getElementById(id);

export function anyDialogOpen() {
  return Boolean(document.querySelector("dialog[open]"));
}

// Resolves true when the officer confirms, false on cancel or Escape.
export function confirmDialog({ title, text, ok }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dialog.returnValue = "";
  const form = dialog.querySelector("form");
  return new Promise((resolve) => {
    // Answer on the button press itself, not on the (later) close event: the next key
    // press must already find the console free.
    const onSubmit = (event) => settle(Boolean(event.submitter) && event.submitter.value === "ok");
    const onClose = () => settle(dialog.returnValue === "ok");
    function settle(value) {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      resolve(value);
    }
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    $("confirm-ok").focus();
  });
}

// Next (or Call) while the current ticket was called but never started: was the visitor
// served? Resolves "served", "no-show", or null (Esc, Batal). Neither choice is a default:
// the dialog itself has the focus, so a second N, Space or Enter does nothing; the officer
// clicks a button, presses S (sudah dilayani) or T (tidak hadir), or tabs to a button
// and presses Enter/Space.
export const UNSTARTED_KEYS = { s: "served", t: "no-show" };

export function unstartedDialog({ number }) {
  const dialog = $("unstarted-dialog");
  $("unstarted-title").textContent = t("unstarted_title", { number });
  $("unstarted-text").textContent = t("unstarted_text", { number });
  $("unstarted-keys").textContent = t("unstarted_keys");
  dialog.returnValue = "";
  let settle = null;

  function onKey(event) {
    if (!dialog.open) return;
    // Captured here first: the console's shortcuts (S = Start, T = Transfer) never see it.
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const choice = event.key.length === 1 ? UNSTARTED_KEYS[event.key.toLowerCase()] : undefined;
    if (choice || event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      if (event.repeat) return;
      // Answer now, not on the dialog's (later) close event: the next key press must
      // already find the console free.
      settle(choice || null);
      dialog.close(choice || "cancel");
    } else if (event.key === "Enter" && event.target === dialog) {
      event.preventDefault(); // there is no default choice
    }
  }

  const onClose = () => {
    const value = dialog.returnValue;
    settle(value === "served" || value === "no-show" ? value : null);
  };

  return new Promise((resolve) => {
    settle = (value) => {
      document.removeEventListener("keydown", onKey, true);
      dialog.removeEventListener("close", onClose);
      resolve(value);
    };
    document.addEventListener("keydown", onKey, true);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    dialog.focus();
  });
}

function matches(service, agency, terms) {
  const haystack = fold(
    [service.name, service.id, service.prefix, agency && agency.name, agency && agency.short_name].join(" "),
  );
  return terms.every((term) => haystack.includes(term));
}

// The transfer's target. Nothing is chosen at first: a click, or the arrow keys, choose
// a service (Enter does nothing until then); "Alihkan" or Enter in the search field
// confirms the choice. The ticket's own agency comes first; every other agency's
// services are grouped under its name. Resolves the chosen service, or null.
export function pickService({ site, exclude, agency: own, number }) {
  const dialog = $("transfer-dialog");
  const input = $("transfer-filter");
  const list = $("transfer-list");
  const ok = $("transfer-ok");
  const agencies = new Map(site.agencies.map((a) => [a.id, a]));
  let shown = []; // the services listed, in order
  let chosen = null;

  function groups(services) {
    const order = [own, ...site.agencies.map((a) => a.id).filter((id) => id !== own)];
    return order
      .map((id) => ({ id, services: services.filter((s) => s.agency === id) }))
      .filter((group) => group.services.length);
  }

  function option(service) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "service-item";
    button.id = `transfer-option-${service.id}`;
    button.dataset.service = service.id;
    button.setAttribute("role", "option");
    button.setAttribute("aria-selected", "false");
    button.disabled = service.open === false;
    const prefix = document.createElement("span");
    prefix.className = "service-prefix";
    prefix.textContent = service.prefix;
    const name = document.createElement("span");
    name.className = "service-name";
    name.textContent = service.name;
    button.append(prefix, name);
    if (service.open === false) {
      const tag = document.createElement("span");
      tag.className = "badge muted";
      tag.textContent = t("service_closed_tag");
      button.append(tag);
    }
    button.addEventListener("click", () => choose(service));
    const item = document.createElement("li");
    item.setAttribute("role", "none");
    item.append(button);
    return item;
  }

  function draw() {
    const query = fold(input.value.trim());
    const terms = query.split(/\s+/).filter(Boolean);
    const found = site.services.filter((s) => s.id !== exclude && matches(s, agencies.get(s.agency), terms));
    // An exact prefix ("KT") first within its group: officers often know the letters.
    if (terms.length === 1) found.sort((a, b) => (fold(b.prefix) === query) - (fold(a.prefix) === query));
    list.replaceChildren();
    shown = [];
    if (!found.length) {
      const empty = document.createElement("li");
      empty.className = "service-empty";
      empty.textContent = t("transfer_none");
      list.append(empty);
    }
    for (const group of groups(found)) {
      const a = agencies.get(group.id);
      const item = document.createElement("li");
      item.className = "service-group";
      item.setAttribute("role", "group");
      const heading = document.createElement("div");
      heading.className = "service-group-name";
      heading.id = `transfer-group-${group.id}`;
      const label = a ? a.name : group.id;
      heading.textContent = group.id === own ? t("transfer_own_agency", { agency: label }) : label;
      if (group.id !== own) heading.dataset.other = "yes";
      item.setAttribute("aria-labelledby", heading.id);
      const inner = document.createElement("ul");
      inner.setAttribute("role", "none");
      for (const service of group.services) {
        inner.append(option(service));
        shown.push(service);
      }
      item.append(heading, inner);
      list.append(item);
    }
    if (chosen && !shown.includes(chosen)) chosen = null;
    mark();
  }

  // Show the choice: the selected option, the line under the list, the OK button.
  function mark() {
    for (const button of list.querySelectorAll("[role=option]")) {
      button.setAttribute("aria-selected", chosen && button.dataset.service === chosen.id ? "true" : "false");
    }
    const line = $("transfer-choice");
    if (chosen) {
      const a = agencies.get(chosen.agency);
      const other = own && chosen.agency !== own;
      line.textContent = t(other ? "transfer_chosen_other" : "transfer_chosen", {
        service: chosen.name,
        agency: a ? a.name : chosen.agency,
      });
      line.dataset.other = other ? "yes" : "no";
    } else {
      line.textContent = t("transfer_choose");
      line.dataset.other = "no";
    }
    ok.disabled = !chosen;
    if (chosen) input.setAttribute("aria-activedescendant", `transfer-option-${chosen.id}`);
    else input.removeAttribute("aria-activedescendant");
  }

  function choose(service) {
    if (!service || service.open === false) return;
    chosen = service;
    mark();
  }

  function move(step) {
    const open = shown.filter((s) => s.open !== false);
    if (!open.length) return;
    const at = chosen ? open.indexOf(chosen) : -1;
    const next = at < 0 ? (step > 0 ? 0 : open.length - 1) : (at + step + open.length) % open.length;
    choose(open[next]);
    const selected = list.querySelector('[aria-selected="true"]');
    if (selected) selected.scrollIntoView({ block: "nearest" });
  }

  function onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Escape") {
      event.preventDefault(); // a search field would only clear itself
      dialog.close("cancel");
    } else if (event.key === "Enter" && event.target === input) {
      event.preventDefault(); // not the form's own submit: only a chosen service goes
      if (chosen) dialog.close("picked");
    }
  }

  const onInput = () => draw();

  $("transfer-text").textContent = t("transfer_text", { number });
  input.value = "";
  chosen = null;
  draw();
  input.addEventListener("input", onInput);
  dialog.addEventListener("keydown", onKey);
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        input.removeEventListener("input", onInput);
        dialog.removeEventListener("keydown", onKey);
        resolve(dialog.returnValue === "picked" ? chosen : null);
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
}
