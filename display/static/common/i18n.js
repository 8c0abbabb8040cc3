// The language of every page: Indonesian by default, English one click away. One choice
// per device, shared by every page of this machine (localStorage "loket.lang"); when the
// storage is blocked (private mode) the choice still holds for the page.
//
// Visitor pages (kiosk, ticket, survey, booking) and the TV use the functions below
// directly, with words from one or more tables:
//
//   const t = translator({ id: {...}, en: {...} });   t("key", { n: 3 })
//
// The officer console and the staff pages make one set of functions from their table:
//
//   const i18n = makeI18n(STRINGS, { statusKeys: { 403: "err_forbidden" } });
//   export const { lang, setLang, t, errorText, locale, translatePage } = i18n;
//
// A table is `{ id: {...}, en: {...} }`; Indonesian is the fallback of a missing word.

const KEY = "loket.lang";
export const LANGS = ["id", "en"];

let current = "id";
try {
  if (localStorage.getItem(KEY) === "en") current = "en";
} catch {
  /* storage blocked: Indonesian */
}

export function getLang() {
  return current;
}

// Chooses a language (an unknown one is Indonesian), remembers it where it can, marks
// the document; answers the language chosen.
export function setLang(lang) {
  current = LANGS.includes(lang) ? lang : "id";
  try {
    localStorage.setItem(KEY, current);
  } catch {
    /* not remembered, still applied */
  }
  document.documentElement.lang = current;
  return current;
}

// The word of `key` in the current language (else Indonesian, else the key itself), each
// {name} replaced by vars[name]; a {name} without a value is left out, or with `keep`
// stays as written (a staff page shows what it forgot to fill).
function word(table, key, vars, keep) {
  const text = (table[current] || {})[key] ?? table.id[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) =>
    vars[name] != null ? String(vars[name]) : keep && !(name in vars) ? match : "",
  );
}

// t = translator({id: {...}, en: {...}}); t("key", {n: 3}) fills {n}.
export function translator(table) {
  return (key, vars = {}) => word(table, key, vars, false);
}

// Fill every element under root carrying data-i18n="key" (text), data-i18n-placeholder
// or data-i18n-label (aria-label).
export function applyStatic(root, t) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of root.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  document.documentElement.lang = current;
}

// The language button: it names the other language, in that language (WCAG 3.1.2).
function labelSwitch(button) {
  button.textContent = current === "en" ? "Bahasa Indonesia" : "English";
  button.lang = current === "en" ? "id" : "en";
}

// A button that flips the language and calls onChange(lang); answers its relabelling.
export function bindSwitch(button, onChange) {
  const label = () => labelSwitch(button);
  label();
  button.addEventListener("click", () => {
    setLang(current === "id" ? "en" : "id");
    label();
    onChange(current);
  });
  return label;
}

export function makeI18n(strings, { statusKeys = {} } = {}) {
  // The words of an error without a code of ours: status 0 is the network; a page may
  // name more (the staff pages say 403 in their own words).
  const byStatus = { 0: "err_network_error", ...statusKeys };

  const t = (key, vars = {}) => word(strings, key, vars, true);

  function locale() {
    return current === "en" ? "en-GB" : "id-ID";
  }

  // The message for an ApiError: from its code when we know it, else from its status
  // when the page names one, else the server's words.
  function errorText(error) {
    const code = error && error.code;
    if (code && strings.id[`err_${code}`]) return t(`err_${code}`);
    const key = error && byStatus[error.status];
    if (key) return t(key);
    return t("err_other", { message: (error && error.message) || String(error) });
  }

  // Fill the static text of the page; the language button (#lang) offers the other one.
  function translatePage(root = document) {
    applyStatic(root, t);
    const toggle = document.getElementById("lang");
    if (toggle) labelSwitch(toggle);
  }

  return { lang: getLang, locale, setLang, t, errorText, translatePage };
}
