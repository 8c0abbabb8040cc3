// Clock and date in the site's time zone, e.g. "09.15" and "Sabtu, 28 November 2026".
// Formatters are made once per language; one timer, re-armed at each second's start.

export class Clock {
  constructor({ timeElement, dateElement, timeZone }) {
    this.timeElement = timeElement;
    this.dateElement = dateElement;
    this.timeZone = timeZone || "Asia/Jakarta";
    this.timer = null;
    this.setLocale("id-ID");
  }

  setLocale(locale) {
    const make = (options) => {
      try {
        return new Intl.DateTimeFormat(locale, { timeZone: this.timeZone, ...options });
      } catch {
        return new Intl.DateTimeFormat(locale, options); // unknown zone: the TV's own
      }
    };
    this.time = make({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    this.date = make({ weekday: "long", day: "numeric", month: "long", year: "numeric" });
    this.tick(false);
  }

  start() {
    this.tick(true);
    return this;
  }

  tick(schedule = true) {
    const now = new Date();
    this.timeElement.textContent = this.time.format(now);
    this.dateElement.textContent = this.date.format(now);
    if (!schedule) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(true), 1000 - (now.getTime() % 1000) + 5);
  }
}
