// The kiosk page opened on a phone without pairing (docs/visitor.md, "Phone tickets"):
// only the services with `remote_ticket = true`, by agency; a tap takes a number through
// `POST .../phone-tickets` and the phone goes straight to the ticket's status page.
// The phone remembers today's number, so coming back here leads to it again.

import { ApiError, retrying } from "../common/api.js";
import { el } from "../ticket/dom.js";
import { serviceButtons } from "./catalogue.js";

const KEY = "loket.phoneTicket";

export function remoteServices(site) {
  const agencies = new Set(site.agencies.map((agency) => agency.id));
  return site.services.filter((service) => service.remote_ticket && agencies.has(service.agency));
}

// Headings per agency, then its services' buttons.
export function remoteList(site, options, t, onPick) {
  const services = remoteServices(site);
  if (!services.length) return [el("p", { class: "empty remote-none" }, t("remote_none"))];
  return site.agencies
    .map((agency) => {
      const own = services.filter((service) => service.agency === agency.id);
      if (!own.length) return null;
      return el(
        "section",
        { class: "remote-agency", dataset: { agency: agency.id } },
        el("h2", { class: "remote-agency-name" }, agency.short_name || agency.name),
        el("div", { class: "services" }, ...serviceButtons(own, options, t, onPick)),
      );
    })
    .filter(Boolean);
}

export async function takeRemote(sitePath, service) {
  return retrying("POST", `${sitePath}/phone-tickets`, { body: { service: service.id }, tries: 3 });
}

export function explainRemote(err, t, opensAt) {
  if (!(err instanceof ApiError)) return t("err_other", { message: String(err) });
  if (err.code === "service_closed_now" || err.code === "holiday") {
    const next = err.details && err.details.next_open;
    const base = t(err.code === "holiday" ? "err_holiday" : "err_closed_now");
    return next ? `${base} ${t("opens_at", { when: opensAt(next) })}` : base;
  }
  if (err.code === "quota_reached") return t("err_quota");
  if (err.code === "service_closed") return t("err_closed");
  if (err.code === "remote_ticket_not_allowed") return t("err_remote_not_allowed");
  if (err.status === 429) return t("err_rate_phone");
  if (err.status === 0 || err.status >= 502) return t("err_network");
  return t("err_other", { message: err.message });
}

export function remember(siteId, day, answer) {
  try {
    localStorage.setItem(`${KEY}.${siteId}`, JSON.stringify({ day, number: answer.ticket.number, url: answer.status_url }));
  } catch {
    // not remembered: the status page is open anyway
  }
}

// Today's number taken on this phone: {number, url}, or null.
export function remembered(siteId, day) {
  try {
    const saved = JSON.parse(localStorage.getItem(`${KEY}.${siteId}`) || "null");
    return saved && saved.day === day && typeof saved.url === "string" && saved.url.startsWith("/t/") ? saved : null;
  } catch {
    return null;
  }
}
