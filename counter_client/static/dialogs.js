// Modal dialogs: a confirmation for destructive actions, the question "served or
// no-show?" for a ticket that was never started, and the service picker for transfers
// (searchable by service name, agency and number prefix).

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
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
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

// Resolves the chosen service, or null.
export function pickService({ site, exclude, number }) {
  const dialog = $("transfer-dialog");
  const input = $("transfer-filter");
  const list = $("transfer-list");
  const agencies = new Map(site.agencies.map((a) => [a.id, a]));
  let shown = [];
  let active = 0;
  let chosen = null;

  function draw() {
    const query = fold(input.value.trim());
    const terms = query.split(/\s+/).filter(Boolean);
    shown = site.services.filter((s) => s.id !== exclude && matches(s, agencies.get(s.agency), terms));
    // An exact prefix ("KT") first: officers often know the number's letters.
    if (terms.length === 1) {
      shown.sort((a, b) => (fold(b.prefix) === query) - (fold(a.prefix) === query));
    }
    active = Math.min(active, Math.max(0, shown.length - 1));
    list.replaceChildren();
    if (!shown.length) {
      const empty = document.createElement("li");
      empty.className = "service-empty";
      empty.textContent = t("transfer_none");
      list.append(empty);
      return;
    }
    shown.forEach((service, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "service-item";
      button.setAttribute("role", "option");
      button.setAttribute("aria-selected", index === active ? "true" : "false");
      button.disabled = service.open === false;
      const prefix = document.createElement("span");
      prefix.className = "service-prefix";
      prefix.textContent = service.prefix;
      const name = document.createElement("span");
      name.className = "service-name";
      name.textContent = service.name;
      const agency = document.createElement("span");
      agency.className = "service-agency";
      const a = agencies.get(service.agency);
      agency.textContent = a ? a.short_name || a.name : service.agency;
      button.append(prefix, name, agency);
      if (service.open === false) {
        const tag = document.createElement("span");
        tag.className = "badge muted";
        tag.textContent = t("service_closed_tag");
        button.append(tag);
      }
      button.addEventListener("click", () => choose(service));
      item.append(button);
      list.append(item);
    });
  }

  function choose(service) {
    if (!service || service.open === false) return;
    chosen = service;
    dialog.close("picked");
  }

  function move(step) {
    if (!shown.length) return;
    active = (active + step + shown.length) % shown.length;
    draw();
    const selected = list.querySelector('[aria-selected="true"]');
    if (selected) selected.scrollIntoView({ block: "nearest" });
  }

  function onKey(event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      move(1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      move(-1);
    } else if (event.key === "Escape") {
      event.preventDefault(); // a search field would only clear itself
      dialog.close("cancel");
    } else if (event.key === "Enter") {
      event.preventDefault(); // not the form's submit: pick the highlighted service
      choose(shown[active]);
    }
  }

  const onInput = () => {
    active = 0;
    draw();
  };

  $("transfer-text").textContent = t("transfer_text", { number });
  input.value = "";
  draw();
  input.addEventListener("input", onInput);
  input.addEventListener("keydown", onKey);
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        input.removeEventListener("input", onInput);
        input.removeEventListener("keydown", onKey);
        resolve(chosen);
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
}
