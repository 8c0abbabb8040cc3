// The call announcer: a chime, then the announcement, one item at a time, in order.
//
// - `announce({key, text, template, values})` queues one announcement; a key (the
//   event's seq) that was already queued is ignored, so nothing is said twice. Without a
//   template, `text` is free text (a supervisor's announcement): chime, then speech if the
//   browser has a voice.
// - Items never overlap or cut each other off: one loop plays them in turn.
// - Spoken part: a local Indonesian speech voice if the browser has one, else the
//   voice clips (voice.js); words without a clip go to any speech voice, else are skipped.
// - Without audible sound (context suspended, no Web Audio) items still pass through
//   the queue at the pace their clips would take (divided by `silentRate`), so the
//   queue drains and tests can watch `queue` and `spoken`.

import { spokenSegments, speechText } from "./phrase.js";

const SPOKEN_LIMIT = 50;
const PENDING_LIMIT = 8; // a burst (or a long replay) must not queue minutes of speech
const SEEN_LIMIT = 500;
const AFTER_ITEM_MS = 500;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Announcer {
  constructor({ voice, speech, onChange }) {
    this.voice = voice;
    this.speech = speech;
    this.onChange = onChange || (() => {});
    this.items = [];
    this.done = [];
    this.seen = new Set();
    this.seenOrder = [];
    this.busy = false;
    this.silentRate = 1;
  }

  // Texts waiting to be announced (the one playing first).
  get queue() {
    return this.items.map((item) => item.text);
  }

  // Texts already announced, oldest first, the last 50.
  get spoken() {
    return this.done.slice();
  }

  get idle() {
    return !this.busy && this.items.length === 0;
  }

  remember(key) {
    this.seen.add(key);
    this.seenOrder.push(key);
    if (this.seenOrder.length > SEEN_LIMIT) this.seen.delete(this.seenOrder.shift());
  }

  announce({ key = null, text, template = null, values = null }) {
    if (key !== null) {
      if (this.seen.has(key)) return false;
      this.remember(key);
    }
    // The same words already waiting (a recall right after the call): say them once.
    if (this.items.slice(1).some((item) => item.text === text)) return false;
    this.items.push({ text, template, values });
    while (this.items.length > PENDING_LIMIT) this.items.splice(1, 1); // drop the stalest
    this.onChange();
    this.pump();
    return true;
  }

  async pump() {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.items.length) {
        const item = this.items[0];
        try {
          await this.play(item);
        } catch (err) {
          console.warn("loket: announcement failed", err);
        }
        this.items.shift();
        this.done.push(item.text);
        if (this.done.length > SPOKEN_LIMIT) this.done.shift();
        this.onChange();
        if (this.items.length) await sleep(AFTER_ITEM_MS / this.pace());
      }
    } finally {
      this.busy = false;
    }
  }

  pace() {
    return this.voice.running ? 1 : Math.max(this.silentRate, 0.001);
  }

  async play(item) {
    await this.voice.ready;
    await this.voice.play([{ chime: true }], { rate: this.pace() });
    if (item.template === null) {
      // Free text (a supervisor's announcement): only a speech voice can read it.
      if (this.voice.running) await this.speech.speak(item.text, this.speech.indonesian || this.speech.any);
      return;
    }
    const segments = spokenSegments(item.template, item.values || {}, this.voice.known);
    if (!this.voice.running) {
      await this.voice.play(segments.filter((s) => !("speech" in s)), { rate: this.pace() });
      return;
    }
    const local = this.speech.indonesian;
    if (local && (await this.speech.speak(speechText(segments), local))) return;
    // Clips, with speech (or nothing) for the words that have none.
    let run = [];
    for (const segment of segments) {
      if (!("speech" in segment)) {
        run.push(segment);
        continue;
      }
      if (run.length) await this.voice.play(run);
      run = [];
      await this.speech.speak(segment.speech);
    }
    if (run.length) await this.voice.play(run);
  }
}
