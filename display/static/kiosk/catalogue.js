// Rendering the kiosk's choices: agency tiles, then the chosen agency's services.
// Pure DOM builders: they take data and callbacks, and keep no state.

import { el } from "../ticket/dom.js";

// A logo stand-in for an agency: its acronym ("BPJS Kesehatan" → "BPJS",
// "Bank BJB" → "BJB"; at most 5 letters) or the initials of its short name
// ("Tirta Pakuan" → "TP"), or the first letters of one word ("Disdukcapil" → "DIS").
export function badge(agency) {
  const name = agency.short_name || agency.name || agency.id;
  const words = name.split(/[\s/-]+/).filter((word) => /^[\p{L}\p{N}]/u.test(word));
  const acronym = words.find((word) => word.length >= 2 && word.length <= 5 && word === word.toUpperCase() && /\p{L}/u.test(word));
  if (acronym) return acronym;
  const capitals = words.filter((word) => /^\p{Lu}/u.test(word));
  if (capitals.length >= 2) return capitals.slice(0, 3).map((word) => word[0]).join("");
  return (words[0] || "?").slice(0, 3).toUpperCase();
}

// A stable hue per agency, so a tile keeps its colour across days and kiosks.
export function hue(id) {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

// "open", "closed" (service switched off) or "quota" (today's quota used up).
export function availability(service, quotaLeft) {
  if (service.open === false) return "closed";
  if (quotaLeft && quotaLeft[service.id] === 0) return "quota";
  return "open";
}

export function agencyTiles(site, t, onPick) {
  const counts = {};
  for (const service of site.services) counts[service.agency] = (counts[service.agency] || 0) + 1;
  return site.agencies
    .filter((agency) => counts[agency.id])
    .map((agency) =>
      el(
        "button",
        {
          type: "button",
          class: "tile",
          dataset: { agency: agency.id },
          style: `--hue: ${hue(agency.id)}`,
          onclick: () => onPick(agency),
        },
        el("span", { class: "badge", "aria-hidden": "true" }, badge(agency)),
        el("span", { class: "tile-name" }, agency.short_name || agency.name),
        agency.short_name && agency.short_name !== agency.name ? el("span", { class: "tile-full" }, agency.name) : null,
      ),
    );
}

export function serviceButtons(services, { waiting = {}, quotaLeft = {} }, t, onPick) {
  if (!services.length) return [el("p", { class: "empty" }, t("no_services"))];
  return services.map((service) => {
    const state = availability(service, quotaLeft);
    const facts = [];
    if (state === "open") {
      facts.push(t("waiting_n", { n: waiting[service.id] || 0 }));
      if (quotaLeft[service.id] !== undefined) facts.push(t("quota_left", { n: quotaLeft[service.id] }));
    }
    return el(
      "button",
      {
        type: "button",
        class: `service service-${state}`,
        dataset: { service: service.id, state },
        disabled: state !== "open",
        "aria-disabled": String(state !== "open"),
        onclick: () => onPick(service),
      },
      el("span", { class: "prefix", "aria-hidden": "true" }, service.prefix),
      el("span", { class: "service-name" }, service.name),
      state === "open"
        ? el("span", { class: "service-facts" }, facts.join(" · "))
        : el("span", { class: "service-state" }, t(state === "closed" ? "closed" : "quota_out")),
    );
  });
}
