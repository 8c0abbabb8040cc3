// On-screen keys for a touch kiosk without a keyboard: the booking code's keypad and
// the letters of the service search. Each key calls onKey(char), "Backspace" or "Clear".

import { el } from "../ticket/dom.js";

export function keys(chars, t, onKey, { space = false } = {}) {
  const out = [...chars].map((char) =>
    el("button", { type: "button", class: "key", dataset: { key: char }, onclick: () => onKey(char) }, char),
  );
  if (space) {
    out.push(el("button", { type: "button", class: "key key-space", dataset: { key: " " }, onclick: () => onKey(" ") }, t("key_space")));
  }
  out.push(
    el(
      "button",
      { type: "button", class: "key key-wide", dataset: { key: "Backspace" }, "aria-label": t("key_delete"), onclick: () => onKey("Backspace") },
      "⌫",
    ),
    el("button", { type: "button", class: "key key-wide", dataset: { key: "Clear" }, onclick: () => onKey("Clear") }, t("key_clear")),
  );
  return out;
}
