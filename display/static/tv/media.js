// The media zone: a display's playlist (its `media` files, served at /media/{site}/{file})
// played in turn and looped: each image for `seconds`, each video to its end. Videos
// play at `volume` percent (0: without sound), and are muted while the announcer speaks
// (setAnnouncing), so a call is never talked over. One <img> and one <video> are reused
// for eight hours of playlist; a file that fails to load is skipped.

const RETRY_MS = 5000; // a playlist whose every file fails tries again this often

export class MediaZone {
  constructor({ section, stage, site, files, seconds = 10, volume = 0 }) {
    this.section = section;
    this.files = files.filter(Boolean);
    this.urls = this.files.map((f) => `/media/${encodeURIComponent(site)}/${encodeURIComponent(f)}`);
    this.seconds = Math.max(1, Number(seconds) || 10);
    this.volume = Math.min(100, Math.max(0, Number(volume) || 0)) / 100;
    this.announcing = false;
    this.index = -1;
    this.failures = 0;
    this.timer = null;
    this.image = document.createElement("img");
    this.image.className = "media-item";
    this.image.alt = "";
    this.image.hidden = true;
    this.video = document.createElement("video");
    this.video.className = "media-item";
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.preload = "auto";
    this.video.hidden = true;
    stage.append(this.image, this.video);
    this.image.addEventListener("load", () => this.shown());
    this.image.addEventListener("error", () => this.failed());
    this.video.addEventListener("ended", () => this.next());
    this.video.addEventListener("error", () => this.failed());
    this.video.addEventListener("playing", () => this.shown());
  }

  get current() {
    return this.index >= 0 ? this.files[this.index] : null;
  }

  get muted() {
    return this.video.muted;
  }

  start() {
    if (this.files.length) this.next();
    return this;
  }

  isVideo(name) {
    return /\.(mp4|webm)$/i.test(name);
  }

  next() {
    clearTimeout(this.timer);
    this.index = (this.index + 1) % this.files.length;
    const name = this.files[this.index];
    const url = this.urls[this.index];
    this.section.dataset.current = name;
    if (this.isVideo(name)) {
      this.section.dataset.kind = "video";
      this.image.hidden = true;
      this.image.removeAttribute("src");
      this.video.hidden = false;
      if (this.video.getAttribute("src") === url) this.video.currentTime = 0;
      else this.video.src = url;
      this.applySound();
      this.play();
    } else {
      this.section.dataset.kind = "image";
      this.video.pause();
      this.video.hidden = true;
      this.video.removeAttribute("src");
      this.video.load(); // lets go of the previous video's decoder
      this.image.hidden = false;
      this.image.src = url;
      this.timer = setTimeout(() => this.next(), this.seconds * 1000);
    }
  }

  play() {
    this.video.play().catch((err) => {
      if (err && err.name === "NotAllowedError" && !this.video.muted) {
        // Sound needs a gesture on this browser: play silently rather than not at all.
        this.video.muted = true;
        this.video.play().catch(() => {});
      }
    });
  }

  shown() {
    this.failures = 0;
  }

  failed() {
    this.failures += 1;
    clearTimeout(this.timer);
    const wait = this.failures >= this.files.length ? RETRY_MS : 0;
    this.timer = setTimeout(() => this.next(), wait);
  }

  applySound() {
    this.video.volume = this.volume || 0;
    this.video.muted = this.volume === 0 || this.announcing;
    this.section.dataset.muted = String(this.video.muted);
  }

  // The announcer speaks (or has calls waiting): duck the videos to silence.
  setAnnouncing(announcing) {
    if (announcing === this.announcing) return;
    this.announcing = announcing;
    this.applySound();
  }
}
