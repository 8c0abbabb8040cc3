// Rendering the kiosk's choices: agency tiles, then the chosen agency's services.
// Pure DOM builders: they take data and callbacks, and keep no state.

import { el } from "../ticket/dom.js";
import { clockText, closedNow } from "./hours.js";

// Words that stand for two ("Ketenagakerjaan" is "tenaga kerja": BPJS-TK).
const COMPOUNDS = { ketenagakerjaan: "TK" };

const wordsOf = (name) => name.split(/[\s/-]+/).filter((word) => /^[\p{L}\p{N}]/u.test(word));

// A logo stand-in for an agency: its acronym ("BPJS Kesehatan" → "BPJS",
// "Bank BJB" → "BJB"; at most 5 letters) or the initials of its short name
// ("Tirta Pakuan" → "TP"), or the first letters of one word ("Disdukcapil" → "DIS").
export function badge(agency) {
  const words = wordsOf(agency.short_name || agency.name || agency.id);
  const acronym = words.find((word) => word.length >= 2 && word.length <= 5 && word === word.toUpperCase() && /\p{L}/u.test(word));
  if (acronym) return acronym;
  const capitals = words.filter((word) => /^\p{Lu}/u.test(word));
  if (capitals.length >= 2) return capitals.slice(0, 3).map((word) => word[0]).join("");
  return (words[0] || "?").slice(0, 3).toUpperCase();
}

const initials = (words) => words.map((word) => COMPOUNDS[word.toLowerCase()] || word[0].toUpperCase()).join("");

// Badges for all agencies, distinct: agencies sharing one ("BPJS Kesehatan", "BPJS
// Ketenagakerjaan") get a suffix from the words where their names differ ("BPJS-K",
// "BPJS-TK"); failing that, more letters of the first differing word, then a number.
// Map of agency id → {main, sub}; sub is "" when the plain badge is unique.
export function badges(agencies) {
  const groups = new Map();
  for (const agency of agencies) {
    const main = badge(agency);
    groups.set(main, [...(groups.get(main) || []), agency]);
  }
  const out = new Map();
  for (const [main, group] of groups) {
    if (group.length === 1) {
      out.set(group[0].id, { main, sub: "" });
      continue;
    }
    const names = group.map((agency) => wordsOf(agency.short_name || agency.name || agency.id));
    let common = 0;
    while (names.every((words) => words[common] !== undefined && words[common] === names[0][common])) common += 1;
    const tails = names.map((words) => words.slice(common));
    let subs = tails.map((tail) => (tail.length ? initials(tail) : ""));
    for (let letters = 2; new Set(subs).size < subs.length && letters <= 4; letters += 1) {
      subs = tails.map((tail) => (tail.length ? tail[0].slice(0, letters).toUpperCase() : ""));
    }
    if (new Set(subs).size < subs.length) subs = subs.map((_, i) => String(i + 1));
    group.forEach((agency, i) => out.set(agency.id, { main, sub: subs[i] }));
  }
  return out;
}

// A stable hue per agency, so a tile keeps its colour across days and kiosks.
export function hue(id) {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.codePointAt(0)) % 360;
  return hash;
}

// "open"; "closed" (service switched off); "quota" (today's quota used up); "later"
// (outside its opening hours, or a holiday). `when` = {holidays, timeZone, now}.
export function availability(service, quotaLeft, when) {
  if (service.open === false) return "closed";
  if (quotaLeft && quotaLeft[service.id] === 0) return "quota";
  if (when && closedNow(service.hours || null, when.holidays, when.timeZone, when.now)) return "later";
  return "open";
}

// "Buka pukul 08.00", "Buka besok pukul 08.00", "Buka Senin pukul 08.00", or "Libur".
export function opensLabel(service, when, t, lang) {
  const closed = closedNow(service.hours || null, when.holidays, when.timeZone, when.now);
  if (!closed || !closed.next) return t(closed && closed.holiday ? "holiday_closed" : "closed");
  const time = clockText(closed.next.minutes, lang);
  if (closed.next.days === 0) return t("opens_today", { time });
  if (closed.next.days === 1) return t("opens_tomorrow", { time });
  return t("opens_day", { day: t(`day_${closed.next.weekday}`), time });
}

export function agencyTiles(site, t, onPick) {
  const counts = {};
  for (const service of site.services) counts[service.agency] = (counts[service.agency] || 0) + 1;
  const marks = badges(site.agencies);
  return site.agencies
    .filter((agency) => counts[agency.id])
    .map((agency) => {
      const mark = marks.get(agency.id);
      const tile = el(
        "button",
        { type: "button", class: "tile", dataset: { agency: agency.id }, onclick: () => onPick(agency) },
        el(
          "span",
          { class: "badge", "aria-hidden": "true", dataset: { badge: mark.sub ? `${mark.main}-${mark.sub}` : mark.main } },
          el("span", { class: "badge-main" }, mark.main),
          mark.sub ? el("span", { class: "badge-sub" }, mark.sub) : null,
        ),
        el(
          "span",
          { class: "tile-text" },
          el("span", { class: "tile-name" }, agency.short_name || agency.name),
          agency.short_name && agency.short_name !== agency.name ? el("span", { class: "tile-full" }, agency.name) : null,
        ),
      );
      tile.style.setProperty("--hue", String(hue(agency.id))); // CSSOM: the CSP forbids style attributes
      return tile;
    });
}

// Lower case, no accents, words separated by one space: for matching a search.
export function fold(text) {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

// Does the service's name hold every word of the query (anywhere, in any order)?
export function matches(service, query) {
  const words = fold(query).split(" ").filter(Boolean);
  const name = fold(`${service.name} ${service.prefix}`);
  return words.every((word) => name.includes(word));
}

export function serviceButtons(services, { waiting = {}, quotaLeft = {}, when, lang }, t, onPick) {
  if (!services.length) return [el("p", { class: "empty" }, t("no_services"))];
  return services.map((service) => {
    const state = availability(service, quotaLeft, when);
    const facts = [];
    if (state === "open") {
      facts.push(t("waiting_n", { n: waiting[service.id] || 0 }));
      if (quotaLeft[service.id] !== undefined) facts.push(t("quota_left", { n: quotaLeft[service.id] }));
    }
    const stateText = { closed: t("closed"), quota: t("quota_out"), later: when ? opensLabel(service, when, t, lang) : "" }[state];
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
        : el("span", { class: "service-state" }, stateText),
    );
  });
}
