// The browser's own speech synthesis, when it has a voice: used for the whole
// announcement if an Indonesian voice is installed locally, and for text that has no
// clip (a counter named "Loket Prioritas": "Prioritas"). Never waits forever: Chromium's
// `end` event is unreliable, so every utterance also has a deadline.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Speech {
  constructor() {
    this.synth = window.speechSynthesis || null;
    this.voices = [];
    if (this.synth) {
      this.refresh();
      this.synth.addEventListener?.("voiceschanged", () => this.refresh());
    }
  }

  refresh() {
    try {
      this.voices = this.synth.getVoices() || [];
    } catch {
      this.voices = [];
    }
  }

  // A local Indonesian voice: good enough to say the whole announcement.
  get indonesian() {
    return (
      this.voices.find((v) => /^(id|in)([-_]|$)/i.test(v.lang) && v.localService) || null
    );
  }

  // Any voice at all, preferring Indonesian: for words without a clip.
  get any() {
    return this.voices.find((v) => /^(id|in)([-_]|$)/i.test(v.lang)) || this.voices[0] || null;
  }

  // Speaks text; resolves when done, on error, or at a deadline fitted to its length.
  async speak(text, voice = this.any) {
    if (!this.synth || !voice || !text) return false;
    const deadline = 2000 + text.length * 120;
    const done = new Promise((resolve) => {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      utterance.rate = 0.95;
      utterance.onend = () => resolve(true);
      utterance.onerror = () => resolve(false);
      this.synth.speak(utterance);
    });
    const result = await Promise.race([done, sleep(deadline).then(() => null)]);
    if (result === null) this.synth.cancel();
    return Boolean(result);
  }

  // A silent utterance inside a click handler unlocks speech where a gesture is required.
  unlock() {
    if (!this.synth) return;
    try {
      const utterance = new SpeechSynthesisUtterance(" ");
      utterance.volume = 0;
      this.synth.speak(utterance);
    } catch {
      /* nothing to unlock */
    }
  }
}
