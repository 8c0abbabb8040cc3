// The kiosk page opened on a phone without pairing (docs/visitor.md, "Phone tickets"):
// only the services with `remote_ticket = true`, by agency; a tap takes a number through
// `POST .../phone-tickets` and the phone goes straight to the ticket's status page.
// The phone remembers today's number, so coming back here leads to it again.

import { api, retrying } from "../common/api.js";
import { clear, el, show } from "../ticket/dom.js";
import { getLang } from "../common/i18n.js";
import { availability, serviceButtons } from "./catalogue.js";
import { localNow } from "./hours.js";
import { explainRemote } from "./messages.js";

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

const $ = (id) => document.getElementById(id);

// The page on a phone. `ui`: the kiosk's busy(on, text), notice(text), hours() (the
// opening-hours context: holidays, zone, now) and when(iso) (an opening time in words).
export class PhonePage {
  constructor({ site, sitePath, timeZone, t, ui }) {
    Object.assign(this, { siteId: site, sitePath, timeZone, t, ui });
    this.site = null;
    this.waiting = {};
    this.busy = false;
  }

  today() {
    return localNow(new Date(), this.timeZone).date;
  }

  // false when the site could not be read (then the page says so).
  async start() {
    show($("remote"), true);
    document.body.classList.add("phone");
    try {
      this.site = await api("GET", this.sitePath);
    } catch {
      clear($("remote-services")).append(el("p", { class: "empty" }, this.t("err_site")));
      return false;
    }
    this.render();
    try {
      this.waiting = (await api("GET", `${this.sitePath}/state`)).waiting || {};
      this.render();
    } catch {
      // the counts are a nicety
    }
    return true;
  }

  render() {
    if (!this.site || this.busy) return;
    const options = { waiting: this.waiting, quotaLeft: {}, when: this.ui.hours(), lang: getLang() };
    clear($("remote-services")).append(...remoteList(this.site, options, this.t, (service) => this.take(service)));
    const mine = remembered(this.siteId, this.today());
    show($("remote-mine"), Boolean(mine));
    if (mine) {
      $("remote-mine-text").textContent = this.t("remote_mine", { number: mine.number });
      $("remote-mine-link").href = mine.url;
    }
  }

  async take(service) {
    if (this.busy || availability(service, {}, this.ui.hours()) !== "open") return;
    this.busy = true;
    this.ui.busy(true, this.t("taking_remote"));
    try {
      const answer = await retrying("POST", `${this.sitePath}/phone-tickets`, { body: { service: service.id }, tries: 3 });
      remember(this.siteId, this.today(), answer);
      window.location.assign(answer.status_url);
    } catch (err) {
      this.busy = false;
      this.ui.busy(false);
      this.ui.notice(explainRemote(err, this.t, this.ui.when));
    }
  }
}
