// The TV's words in Indonesian (default) and English; the choice is the device's
// (common/i18n.js), unless the URL asks for one (?lang=en, not remembered).
// Announcements are always Indonesian: they follow the site's template.

import { applyStatic, getLang, setLang } from "../common/i18n.js";

export const STRINGS = {
  id: {
    now: "Panggilan",
    to: "silakan menuju",
    none: "Belum ada panggilan",
    recent: "Panggilan terakhir",
    counters: "Sedang dilayani",
    noCounter: "Belum ada loket yang melayani",
    waiting: "Menunggu",
    waitingService: "Menunggu per layanan",
    nobodyWaiting: "Tidak ada antrean",
    opensAt: "Buka pukul {time}",
    people: "orang",
    open: "Buka",
    paused: "Jeda",
    closed: "Tutup",
    offline: "Terputus — mencoba menyambung kembali…",
    sound: "Aktifkan suara",
    announcement: "Pengumuman",
    ikm: "IKM bulan ini:",
    ikmNone: "belum ada data",
    language: "English",
    languageShort: "EN",
    locale: "id-ID",
  },
  en: {
    now: "Now calling",
    to: "please go to",
    none: "No calls yet",
    recent: "Recent calls",
    counters: "Now serving",
    noCounter: "No counter is serving yet",
    waiting: "Waiting",
    waitingService: "Waiting per service",
    nobodyWaiting: "Nobody waiting",
    opensAt: "Opens at {time}",
    people: "people",
    open: "Open",
    paused: "Paused",
    closed: "Closed",
    offline: "Disconnected — trying to reconnect…",
    sound: "Enable sound",
    announcement: "Announcement",
    ikm: "IKM this month:",
    ikmNone: "no data yet",
    language: "Bahasa Indonesia",
    languageShort: "ID",
    locale: "en-GB",
  },
};

export class Strings {
  constructor() {
    const asked = new URLSearchParams(location.search).get("lang");
    this.lang = STRINGS[asked] ? asked : getLang();
  }

  t(key) {
    return STRINGS[this.lang][key] ?? STRINGS.id[key] ?? key;
  }

  toggle() {
    this.lang = setLang(this.lang === "id" ? "en" : "id");
    return this.lang;
  }

  // Fills every [data-i18n] element under root with its text.
  apply(root) {
    applyStatic(root, (key) => this.t(key));
    document.documentElement.lang = this.lang;
  }
}
