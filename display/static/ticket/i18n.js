// Language of the visitor pages: Indonesian by default, English one click away.
// The choice is kept in localStorage (shared by every visitor page on the device).

const KEY = "loket.lang";
export const LANGS = ["id", "en"];

export function getLang() {
  try {
    return localStorage.getItem(KEY) === "en" ? "en" : "id";
  } catch {
    return "id"; // storage blocked (private mode): Indonesian
  }
}

export function setLang(lang) {
  const value = LANGS.includes(lang) ? lang : "id";
  try {
    localStorage.setItem(KEY, value);
  } catch {
    // not remembered, still applied
  }
  document.documentElement.lang = value;
  return value;
}

// t = translator({id: {...}, en: {...}}); t("key", {n: 3}) fills {n}.
export function translator(table) {
  return (key, vars = {}) => {
    const text = (table[getLang()] || {})[key] ?? table.id[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? "").toString());
  };
}

// Fill every element carrying data-i18n="key" (text) or data-i18n-label (aria-label).
export function applyStatic(root, t) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  document.documentElement.lang = getLang();
}

// A button that flips the language and calls onChange(lang).
export function bindSwitch(button, onChange) {
  const label = () => {
    button.textContent = getLang() === "id" ? "English" : "Bahasa Indonesia";
    button.lang = getLang() === "id" ? "en" : "id";
  };
  label();
  button.addEventListener("click", () => {
    setLang(getLang() === "id" ? "en" : "id");
    label();
    onChange(getLang());
  });
  return label;
}
