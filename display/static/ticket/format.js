// Formatting shared by the kiosk, the status page and the rating tablet.

// Estimated wait in words: "± 15 menit" / "about 15 min"; null when unknown.
export function formatWait(seconds, lang) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  if (seconds < 60) return lang === "en" ? "less than a minute" : "kurang dari 1 menit";
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return lang === "en" ? `about ${minutes} min` : `± ${minutes} menit`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (lang === "en") return `about ${hours} h${rest ? ` ${rest} min` : ""}`;
  return `± ${hours} jam${rest ? ` ${rest} menit` : ""}`;
}

function formatter(lang, timeZone, options) {
  const locale = lang === "en" ? "en-GB" : "id-ID";
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(locale, options); // unknown zone: the device's
  }
}

// "Sabtu, 28 November 2026" and "09.15" in the site's timezone.
export function formatDate(iso, lang, timeZone) {
  const date = iso ? new Date(iso) : new Date();
  return formatter(lang, timeZone, { weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(date);
}

export function formatTime(iso, lang, timeZone, seconds = false) {
  const date = iso ? new Date(iso) : new Date();
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (seconds) options.second = "2-digit";
  return formatter(lang, timeZone, options).format(date);
}

// The visitor's status page of a ticket, absolute (it goes on paper and into QR codes).
export function statusUrl(site, ticketId) {
  return `${location.origin}/t/${encodeURIComponent(site)}/${encodeURIComponent(ticketId)}`;
}
