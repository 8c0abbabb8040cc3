// The printed ticket: rendered into the on-screen ticket card, which the print
// stylesheet (print-58mm.css / print-80mm.css, chosen by the kiosk's paper) lays out
// alone on a thermal roll. Printing starts once the QR code has loaded.

import { clear, el } from "../ticket/dom.js";
import { formatDate, formatTime, formatWait, statusUrl } from "../ticket/format.js";

const QR_WAIT_MS = 2500;

// A booking's session "08:00" as the ticket reads it: "08.00" in Indonesian.
const clock = (text, lang) => (lang === "en" ? text : String(text || "").replace(":", "."));

export function renderTicket(article, { siteId, publicUrl, siteName, agency, service, booking, answer, lang, timezone, t }) {
  const { ticket, position } = answer;
  // the site's public_url when set (the address phones can open), else this kiosk's own
  const url = publicUrl
    ? `${publicUrl}/t/${encodeURIComponent(siteId)}/${encodeURIComponent(ticket.id)}`
    : statusUrl(siteId, ticket.id);
  const qr = `/qr/${encodeURIComponent(siteId)}/${encodeURIComponent(ticket.id)}.svg`;
  const ahead = position ? position - 1 : 0;
  const wait = formatWait(answer.estimated_wait_s, lang);
  const lines = [
    el("p", { class: "t-site" }, siteName),
    el("p", { class: "t-agency" }, agency ? agency.short_name || agency.name : ""),
    el("p", { class: "t-service" }, service ? service.name : ticket.service),
    el("p", { class: "t-label" }, t("ticket_number")),
    el("p", { class: "t-number", id: "ticket-number" }, ticket.number),
    ticket.priority ? el("p", { class: "t-priority" }, t("ticket_priority")) : null,
    booking && booking.start
      ? el("p", { class: "t-booking" }, t("ticket_booking", { code: booking.code, start: clock(booking.start, lang), end: clock(booking.end, lang) }))
      : null,
    el("p", { class: "t-ahead" }, ahead > 0 ? t("ahead", { n: ahead }) : t("ahead_none")),
    wait ? el("p", { class: "t-wait" }, t("estimate", { wait })) : null,
    el("p", { class: "t-scan" }, t("scan")),
    el("img", { class: "t-qr", src: qr, alt: url, width: 160, height: 160 }),
    // text, not a link: a tap on a kiosk must not leave the kiosk for a visitor's page
    el("p", { class: "t-link", id: "ticket-link" }, url),
    el(
      "p",
      { class: "t-time" },
      `${formatDate(ticket.issued_at, lang, timezone)} · ${formatTime(ticket.issued_at, lang, timezone)}`,
    ),
    el("p", { class: "t-keep" }, t("keep")),
  ];
  clear(article).append(...lines.filter(Boolean));
  article.dataset.ticket = ticket.id;
}

// Print once the QR code is in (or after a short wait: a ticket without QR beats none).
export function printTicket(article) {
  const image = article.querySelector("img.t-qr");
  const ready =
    !image || image.complete
      ? Promise.resolve()
      : new Promise((resolve) => {
          image.addEventListener("load", resolve, { once: true });
          image.addEventListener("error", resolve, { once: true });
          setTimeout(resolve, QR_WAIT_MS);
        });
  return ready.then(() => window.print());
}
