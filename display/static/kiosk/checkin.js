// Check-in of a booking at the kiosk (docs/bookings.md): its code comes from the
// on-screen keypad, a USB scanner (which types the QR code's text and Enter) or the
// camera (the browser's BarcodeDetector, where it exists). This module only reads codes;
// kiosk.js sends them.

import { el } from "../ticket/dom.js";

// As server/booking_store.py: 8 characters without look-alikes (no 0/O, 1/I).
export const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const CODE_LENGTH = 8;
const CODE = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);
const SCANNER_GAP_MS = 1500; // a scanner types in milliseconds; a pause starts afresh
const SCAN_EVERY_MS = 250;
const CAMERA_MAX_MS = 60_000;

// What was typed or scanned, as the server reads a code: no spaces or dashes, upper case.
export function normalize(raw) {
  return raw.replace(/[\s-]/g, "").toUpperCase();
}

// The booking code in a scan: the text itself ("ABCD2345", "abcd-2345"), or a link
// that carries it (`?code=ABCD2345`, or its last path segment). null when none.
export function extractCode(raw) {
  const text = String(raw || "").trim();
  if (CODE.test(normalize(text))) return normalize(text);
  try {
    const param = new URL(text).searchParams.get("code");
    if (param && CODE.test(normalize(param))) return normalize(param);
  } catch {
    // not a URL
  }
  const tokens = text.split(/[^A-Za-z0-9-]+/).reverse();
  const hit = tokens.find((token) => CODE.test(normalize(token)));
  return hit ? normalize(hit) : null;
}

// One character typed on the code field: kept when it can be part of a code.
export function acceptChar(code, char) {
  const c = char.toUpperCase();
  return code.length < CODE_LENGTH && CODE_ALPHABET.includes(c) ? code + c : code;
}

// Keys of a USB scanner (or a keyboard): fed every keydown, answers the code read when
// Enter ends a burst that holds one.
export class ScanBuffer {
  constructor() {
    this.text = "";
    this.last = 0;
  }

  feed(event) {
    const now = event.timeStamp || performance.now();
    if (now - this.last > SCANNER_GAP_MS) this.text = "";
    this.last = now;
    if (event.key === "Enter") {
      const code = extractCode(this.text);
      this.text = "";
      return code;
    }
    if (event.key.length === 1) this.text += event.key;
    return null;
  }

  clear() {
    this.text = "";
  }
}

// The code so far, one box per character.
export function codeBoxes(code) {
  return Array.from({ length: CODE_LENGTH }, (_, i) =>
    el("span", { class: i < code.length ? "code-char filled" : "code-char" }, code[i] || ""),
  );
}

export async function cameraSupported() {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return false;
  try {
    return (await window.BarcodeDetector.getSupportedFormats()).includes("qr_code");
  } catch {
    return false;
  }
}

// The camera, looking for a QR code that holds a booking code; stops by itself after a
// minute, and at once when it found one (`onCode(code)`).
export class Camera {
  constructor(video, onCode, onStop) {
    this.video = video;
    this.onCode = onCode;
    this.onStop = onStop;
    this.stream = null;
    this.timer = null;
    this.deadline = 0;
  }

  get running() {
    return Boolean(this.stream);
  }

  async start() {
    if (this.stream) return;
    this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    this.detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    this.deadline = performance.now() + CAMERA_MAX_MS;
    this.schedule();
  }

  schedule() {
    this.timer = setTimeout(() => this.look(), SCAN_EVERY_MS);
  }

  async look() {
    if (!this.stream) return;
    if (performance.now() > this.deadline) {
      this.stop();
      return;
    }
    try {
      for (const found of await this.detector.detect(this.video)) {
        const code = extractCode(found.rawValue);
        if (code) {
          this.stop();
          this.onCode(code);
          return;
        }
      }
    } catch {
      // a frame that is not ready yet: look again
    }
    if (this.stream) this.schedule();
  }

  stop() {
    clearTimeout(this.timer);
    if (!this.stream) return;
    for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    if (this.onStop) this.onStop();
  }
}
