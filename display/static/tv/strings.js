// The TV's words in Indonesian (default) and English; the choice is kept in localStorage.
// Announcements are always Indonesian: they follow the site's template.

const STORAGE_KEY = "loket.lang";

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
    let stored = null;
    try {
      stored = localStorage.getItem(STORAGE_KEY);
    } catch {
      stored = null;
    }
    const asked = new URLSearchParams(location.search).get("lang");
    this.lang = STRINGS[asked] ? asked : STRINGS[stored] ? stored : "id";
  }

  t(key) {
    return STRINGS[this.lang][key] ?? STRINGS.id[key] ?? key;
  }

  toggle() {
    this.lang = this.lang === "id" ? "en" : "id";
    try {
      localStorage.setItem(STORAGE_KEY, this.lang);
    } catch {
      /* private mode: the choice lasts this page */
    }
    return this.lang;
  }

  // Fills every [data-i18n] element under root with its text.
  apply(root) {
    document.documentElement.lang = this.lang;
    for (const element of root.querySelectorAll("[data-i18n]")) {
      element.textContent = this.t(element.dataset.i18n);
    }
  }
}
