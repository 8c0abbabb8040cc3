// This month's satisfaction index (IKM, PermenPANRB 14/2017) in the TV's header, for a
// display with show_ikm = true or a URL with ?ikm=1. Read from the public
// GET /api/v1/sites/{site}/ikm -> {month, n, nrr, score, category, label}; refreshed every
// 5 minutes and shortly after ticket.rated events (many ratings: one request).

export const REFRESH_MS = 5 * 60 * 1000;
export const RATED_DELAY_MS = 3000;

// Categories in English (the API's label is Indonesian: "Sangat Baik", "Baik", ...).
const CATEGORY_EN = { A: "Very good", B: "Good", C: "Fair", D: "Poor" };
const CATEGORY_ID = { A: "Sangat Baik", B: "Baik", C: "Kurang Baik", D: "Tidak Baik" };

// "87,25 (B, Baik)" in Indonesian, "87.25 (B, Good)" in English; null without a score.
export function ikmText(data, lang = "id") {
  if (!data || data.score === null || data.score === undefined) return null;
  const score = Number(data.score);
  if (!Number.isFinite(score)) return null;
  const number = new Intl.NumberFormat(lang === "en" ? "en-GB" : "id-ID", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    useGrouping: false,
  }).format(score);
  const letter = data.category || "";
  const label = lang === "en" ? CATEGORY_EN[letter] : data.label || CATEGORY_ID[letter];
  const parts = [letter, label].filter(Boolean).join(", ");
  return parts ? `${number} (${parts})` : number;
}

export class IkmBadge {
  // fetchIkm() resolves the API's answer (or throws); strings: the TV's Strings.
  constructor({ element, value, strings, fetchIkm }) {
    this.element = element;
    this.value = value;
    this.strings = strings;
    this.fetchIkm = fetchIkm;
    this.data = null;
    this.loaded = false;
    this.timer = null;
    this.pending = null;
    this.inFlight = false;
  }

  start() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  // A rating came in: refresh soon, once for a burst of them.
  soon(delay = RATED_DELAY_MS) {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, delay);
  }

  async refresh() {
    if (this.inFlight) return this.soon();
    this.inFlight = true;
    try {
      this.data = await this.fetchIkm();
      this.loaded = true;
      this.render();
    } catch (err) {
      // Keep showing the last figure; the next tick tries again.
      console.warn("loket: IKM", err);
    } finally {
      this.inFlight = false;
    }
  }

  render() {
    if (!this.loaded) return;
    const text = ikmText(this.data, this.strings.lang);
    this.element.dataset.state = text ? "score" : "empty";
    this.element.dataset.category = (text && this.data.category) || "";
    this.value.textContent = text || this.strings.t("ikmNone");
    this.element.hidden = false;
  }
}
