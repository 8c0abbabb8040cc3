// The phone alert of the status page: a short sound (the TV's chime, voice/chime.ogg)
// and vibration when the visitor's turn is near (the site's `notify_when_position`) and
// when the number is called (again on a recall).
//
// Browsers play sound and allow vibration only after the visitor has touched the page,
// so the alert is switched on by a tap on its toggle: that tap plays the chime once (the
// visitor hears that it works, and the browser unlocks the audio element). The choice is
// remembered per ticket; after a reload the audio is unlocked again by the first touch.
//
// `window.loket.alerts` counts the alerts given ({near, called}) and keeps the last
// ones in `log`: what the browser tests watch (they stub the sound).

const VIBRATE = {
  near: [300, 150, 300],
  called: [400, 150, 400, 150, 700],
};

export class PhoneAlert {
  // sound: URL of the chime; key: where the choice is remembered (localStorage)
  constructor({ sound, key }) {
    this.key = key;
    this.audio = new Audio(sound);
    this.audio.preload = "auto";
    this.unlocked = false;
    this.enabled = this.remembered();
    window.loket ??= {};
    window.loket.alerts = { near: 0, called: 0, log: [] };
    const unlock = () => this.unlock();
    window.addEventListener("pointerdown", unlock, { once: true, capture: true });
    window.addEventListener("keydown", unlock, { once: true, capture: true });
  }

  remembered() {
    try {
      return localStorage.getItem(this.key) === "on";
    } catch {
      return false;
    }
  }

  remember() {
    try {
      if (this.enabled) localStorage.setItem(this.key, "on");
      else localStorage.removeItem(this.key);
    } catch {
      // not remembered: still on for this page
    }
  }

  // Within a user gesture: let the browser allow this audio element from now on.
  unlock() {
    if (this.unlocked) return;
    this.unlocked = true;
    const audio = this.audio;
    audio.muted = true;
    const played = audio.play();
    const reset = () => {
      audio.pause();
      audio.currentTime = 0;
      audio.muted = false;
    };
    if (played && played.then) played.then(reset, () => { audio.muted = false; });
    else reset();
  }

  // The toggle's tap: on → a sample of the alert at once (sound and a short buzz).
  set(on) {
    this.enabled = Boolean(on);
    this.remember();
    if (this.enabled) {
      this.unlocked = true;
      this.sound();
      this.vibrate([200]);
    }
    return this.enabled;
  }

  sound() {
    try {
      this.audio.muted = false;
      this.audio.currentTime = 0;
      const played = this.audio.play();
      if (played && played.catch) played.catch(() => {});
    } catch {
      // no audio on this device: vibration and the screen remain
    }
  }

  vibrate(pattern) {
    try {
      if (navigator.vibrate) navigator.vibrate(pattern);
    } catch {
      // vibration not allowed: fine
    }
  }

  // kind: "near" | "called". Nothing when switched off (the screen still changes).
  fire(kind, detail = {}) {
    if (!this.enabled) return false;
    const alerts = window.loket.alerts;
    alerts[kind] = (alerts[kind] || 0) + 1;
    alerts.log.push({ kind, at: Date.now(), ...detail });
    if (alerts.log.length > 20) alerts.log.shift();
    this.sound();
    this.vibrate(VIBRATE[kind] || VIBRATE.called);
    return true;
  }
}
