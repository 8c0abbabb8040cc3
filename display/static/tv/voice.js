// Offline voice: the clips of /static/display/voice/ (made once with espeak-ng, see
// make_clips.sh), decoded once into AudioBuffers and scheduled back to back on one
// AudioContext. Works with no speech-synthesis voice and no network.
//
// Until the browser lets audio start (autoplay policy: a user gesture, or Chromium's
// --autoplay-policy=no-user-gesture-required), the context stays "suspended": `running`
// is false and onStateChange tells the page to offer its "Aktifkan suara" button.

const VOICE_URL = "/static/display/voice/";
const GAP_S = 0.04; // between words
const FALLBACK_S = 0.35; // a word whose clip is missing or not decoded

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class VoiceBank {
  constructor({ base = VOICE_URL, onStateChange } = {}) {
    this.base = base;
    this.onStateChange = onStateChange || (() => {});
    this.context = null;
    this.words = new Map(); // word → AudioBuffer
    this.letters = new Map(); // "A" → AudioBuffer
    this.chime = null;
    this.known = { words: new Set(), letters: new Set() };
    this.ready = this.load();
  }

  get state() {
    return this.context ? this.context.state : "unavailable";
  }

  get running() {
    return this.state === "running";
  }

  async load() {
    try {
      const AudioContextClass = window.AudioContext || window.webkitAudioContext;
      this.context = AudioContextClass ? new AudioContextClass({ latencyHint: "playback" }) : null;
    } catch (err) {
      console.warn("loket: no Web Audio", err);
      this.context = null;
    }
    if (this.context) this.context.onstatechange = () => this.onStateChange(this.state);
    this.onStateChange(this.state);
    let manifest;
    try {
      const response = await fetch(this.base + "manifest.json", { cache: "no-cache" });
      if (!response.ok) throw new Error(`manifest: HTTP ${response.status}`);
      manifest = await response.json();
    } catch (err) {
      console.warn("loket: voice clips unavailable", err);
      return;
    }
    this.known = {
      words: new Set(Object.keys(manifest.words || {})),
      letters: new Set(Object.keys(manifest.letters || {})),
    };
    const jobs = [this.decode(manifest.chime).then((buffer) => (this.chime = buffer))];
    for (const [word, file] of Object.entries(manifest.words || {})) {
      jobs.push(this.decode(file).then((buffer) => buffer && this.words.set(word, buffer)));
    }
    for (const [letter, file] of Object.entries(manifest.letters || {})) {
      jobs.push(this.decode(file).then((buffer) => buffer && this.letters.set(letter, buffer)));
    }
    await Promise.all(jobs);
  }

  async decode(file) {
    if (!file || !this.context) return null;
    try {
      const response = await fetch(this.base + file);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return await this.context.decodeAudioData(await response.arrayBuffer());
    } catch (err) {
      console.warn(`loket: clip ${file}`, err);
      return null;
    }
  }

  async resume() {
    if (this.context && this.context.state !== "running") await this.context.resume();
  }

  buffer(segment) {
    if (segment.chime) return this.chime;
    if (segment.word !== undefined) return this.words.get(segment.word) || null;
    if (segment.letter !== undefined) return this.letters.get(segment.letter) || null;
    return null;
  }

  // Seconds a run of segments takes, whether or not it can be heard.
  duration(segments) {
    let total = 0;
    for (const segment of segments) {
      if ("pause" in segment) total += segment.pause / 1000;
      else total += (this.buffer(segment)?.duration ?? FALLBACK_S) + GAP_S;
    }
    return total;
  }

  // Plays clip segments ({chime}, {word}, {letter}, {pause}) back to back. Resolves when
  // they are over, by the clock, so a context suspended midway never stalls the caller.
  // `rate` > 1 shortens the wait when nothing can be heard (tests).
  async play(segments, { rate = 1 } = {}) {
    const total = this.duration(segments);
    if (this.running) {
      let at = this.context.currentTime + 0.05;
      for (const segment of segments) {
        if ("pause" in segment) {
          at += segment.pause / 1000;
          continue;
        }
        const buffer = this.buffer(segment);
        if (buffer) {
          const source = this.context.createBufferSource();
          source.buffer = buffer;
          source.connect(this.context.destination);
          source.start(at);
          at += buffer.duration + GAP_S;
        } else {
          at += FALLBACK_S + GAP_S;
        }
      }
      await sleep((at - this.context.currentTime) * 1000 + 20);
      return;
    }
    await sleep((total * 1000) / Math.max(rate, 0.001));
  }
}
