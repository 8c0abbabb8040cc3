// Getting a visitor's attention when the number is called: vibration and a short
// two-tone chime (Web Audio, no file). Browsers allow sound only after the visitor has
// touched the page once, so `arm()` unlocks audio on the first touch; before that the
// chime is silently skipped and the vibration and the full-screen view remain.

let context = null;

function audio() {
  if (context) return context;
  const Ctor = window.AudioContext || window.webkitAudioContext;
  if (!Ctor) return null;
  try {
    context = new Ctor();
  } catch {
    context = null;
  }
  return context;
}

export function arm() {
  const unlock = () => {
    const ctx = audio();
    if (ctx && ctx.state === "suspended") ctx.resume().catch(() => {});
  };
  window.addEventListener("pointerdown", unlock, { once: true, capture: true });
  window.addEventListener("keydown", unlock, { once: true, capture: true });
}

function tone(ctx, frequency, start, duration) {
  const oscillator = ctx.createOscillator();
  const gain = ctx.createGain();
  oscillator.type = "sine";
  oscillator.frequency.value = frequency;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + duration);
  oscillator.connect(gain).connect(ctx.destination);
  oscillator.start(start);
  oscillator.stop(start + duration + 0.05);
}

export function chime() {
  try {
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 700]);
  } catch {
    // vibration not allowed: fine
  }
  const ctx = context; // created on the first touch only, never here
  if (!ctx || ctx.state !== "running") return;
  const now = ctx.currentTime;
  tone(ctx, 880, now, 0.35);
  tone(ctx, 660, now + 0.4, 0.5);
}
