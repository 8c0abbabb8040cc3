// Keyboard shortcuts of the console: N or Space = Next, R = Recall, S = Start,
// D = Done, X = No-show, T = Transfer, P = Pause/Resume. Ignored while typing, while a
// dialog is open, with modifier keys, and on key repeat (holding a key acts once).

import { anyDialogOpen } from "./dialogs.js";

export const SHORTCUTS = {
  n: "next",
  " ": "next",
  r: "recall",
  s: "start",
  d: "finish",
  x: "no-show",
  t: "transfer",
  p: "pause-toggle",
};

function typing(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  return Boolean(target.closest("input, textarea, select"));
}

// `enabled()` says whether the console is on screen; `act(action)` runs an action.
export function installShortcuts({ enabled, act }) {
  const handled = new Set();
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || anyDialogOpen() || !enabled()) return;
    const action = SHORTCUTS[event.key.length === 1 ? event.key.toLowerCase() : ""];
    if (!action) return;
    // Also stops Space from "clicking" whichever button has the focus.
    event.preventDefault();
    handled.add(event.code);
    if (event.repeat) return;
    act(action);
  });
  document.addEventListener("keyup", (event) => {
    if (handled.delete(event.code)) event.preventDefault();
  });
}
