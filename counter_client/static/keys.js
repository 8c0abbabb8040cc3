// Keyboard shortcuts of the console: N or Space = Next, R = Recall, S = Start,
// D = Done, X = No-show, T = Transfer, P = Pause/Resume, U = Undo (while offered).
//
// They act only while the focus is on the page itself (nothing focused). While a
// button, field, list or dialog has the focus, keys do what that control does: Space on
// a focused "Mulai layani" presses that button, never Next. Esc on a focused control of
// the console gives the focus back to the page, so the shortcuts work again. Also ignored
// with modifier keys, and on key repeat (holding a key acts once).

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
  u: "undo",
};

// Whether the focus is on the page itself rather than on a control.
export function onPage(target) {
  if (!target || target === document.body || target === document.documentElement) return true;
  // A dialog that has just closed (or a button in it) keeps the focus a moment, until
  // the page gets it back.
  const dialog = target instanceof Element ? target.closest("dialog") : null;
  return Boolean(dialog) && !dialog.open;
}

// `enabled()` says whether the console is on screen; `act(action)` runs an action.
export function installShortcuts({ enabled, act }) {
  const handled = new Set();
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (anyDialogOpen() || !enabled()) return;
    if (!onPage(event.target)) {
      // Esc leaves a focused button (not a field: it may clear itself first).
      if (event.key === "Escape" && event.target instanceof HTMLButtonElement) event.target.blur();
      return;
    }
    const action = SHORTCUTS[event.key.length === 1 ? event.key.toLowerCase() : ""];
    if (!action) return;
    event.preventDefault(); // Space would scroll the page
    handled.add(event.code);
    if (event.repeat) return;
    act(action);
  });
  document.addEventListener("keyup", (event) => {
    if (handled.delete(event.code)) event.preventDefault();
  });
}
