// What the kiosk's modules share: the page's configuration (the data- attributes of
// #kiosk), the view state, the words, and the site's opening-hours context.

import { getLang, translator } from "../common/i18n.js";
import { opensAt } from "./messages.js";
import { STRINGS } from "./strings.js";

export const t = translator(STRINGS);
const root = document.getElementById("kiosk");
export const config = {
  site: root.dataset.site,
  siteName: root.dataset.siteName,
  timezone: root.dataset.timezone || "Asia/Jakarta",
  paired: root.dataset.paired === "true",
  setup: root.dataset.setup === "true",
};
export const $ = (id) => document.getElementById(id);
export const sitePath = `/api/v1/sites/${encodeURIComponent(config.site)}`;

export const view = {
  site: null, // the site document
  mode: "none", // kiosk | remote | none
  phone: null, // the phone page (remote.js), when this is one
  waiting: {},
  quotaLeft: {},
  screen: "agencies", // agencies | services | checkin | ticket
  agency: null,
  issued: null, // {answer, service, agency, booking} of the ticket on screen
  priority: false,
  staff: false, // a logged-in officer/supervisor/admin is at this browser
  reception: false,
  busy: false,
  code: "", // the booking code typed so far
  search: "",
  ticketEnds: 0,
  minute: -1,
};

export const hoursNow = () => ({ holidays: (view.site && view.site.holidays) || [], timeZone: config.timezone, now: new Date() });
export const hasBookings = () => Boolean(view.site && view.site.services.some((service) => service.bookings));

// An opening time in the visitor's words ("Buka pukul 08.00").
export const when = (iso) => opensAt(iso, t, getLang(), config.timezone);
