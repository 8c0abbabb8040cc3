// Small DOM helpers of the admin page: elements, labelled fields, a confirm dialog,
// downloads. Every field has a <label>; every control is a native one (keyboard works).

import { t } from "../strings.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const button = (key, onclick, className = "btn small", attrs = {}) =>
  el("button", { type: "button", className, onclick, ...attrs }, t(key));

let uid = 0;

// <label>text <input></label> with an optional hint under it.
export function field(labelKey, control, hintKey = null) {
  if (!control.id) control.id = `f${(uid += 1)}`;
  const hint = hintKey ? el("small", { className: "muted", id: `${control.id}-hint` }, t(hintKey)) : null;
  if (hint) control.setAttribute("aria-describedby", hint.id);
  return el("div", { className: "field" }, el("label", { for: control.id }, t(labelKey)), control, hint);
}

export function input(name, value, attrs = {}) {
  return el("input", { name, value: value ?? "", ...attrs });
}

export function checkbox(name, checked, labelKey) {
  const box = el("input", { type: "checkbox", name, id: `f${(uid += 1)}` });
  box.checked = Boolean(checked);
  return el("div", { className: "field check" }, box, el("label", { for: box.id }, t(labelKey)));
}

export function select(name, options, value, attrs = {}) {
  const node = el("select", { name, ...attrs });
  for (const [optValue, text] of options) {
    const option = el("option", { value: optValue }, text);
    if (optValue === value) option.selected = true;
    node.append(option);
  }
  return node;
}

// A table with a header row and a body; `rows` are arrays of cells (nodes or text).
export function table(headKeys, rows, attrs = {}) {
  const head = el("tr", {}, ...headKeys.map((key) => el("th", { scope: "col" }, key ? t(key) : "")));
  const body = rows.length
    ? rows.map(({ cells, attrs: rowAttrs = {} }) => el("tr", rowAttrs, ...cells.map((c) => (c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c)))))
    : [el("tr", {}, el("td", { className: "empty", colspan: String(headKeys.length) }, t("none_yet")))];
  return el("div", { className: "table-wrap" }, el("table", attrs, el("thead", {}, head), el("tbody", {}, ...body)));
}

// Ask first; resolves true when the user confirms.
export function confirm(title, text, okKey) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = t(okKey);
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const clone = (value) => JSON.parse(JSON.stringify(value));
