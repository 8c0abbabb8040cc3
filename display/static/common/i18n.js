// The language mechanics of the officer console and the staff pages; each keeps its
// own words (its strings.js) and makes its functions here:
//
//   const i18n = makeI18n(STRINGS, { statusKeys: { 403: "err_forbidden" } });
//   export const { lang, setLang, t, errorText, locale, translatePage } = i18n;
//
// STRINGS is `{ id: {...}, en: {...} }`, Indonesian the default and the fallback of a
// missing word. The choice is shared by every such page of this machine
// (localStorage "loket.lang").

const KEY = "loket.lang";

export function makeI18n(strings, { statusKeys = {} } = {}) {
  // The words of an error without a code of ours: status 0 is the network; a page may
  // name more (the staff pages say 403 in their own words).
  const byStatus = { 0: "err_network_error", ...statusKeys };
  let current = "id";
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && strings[saved]) current = saved;
  } catch {
    /* storage blocked: stay Indonesian */
  }

  function lang() {
    return current;
  }

  function locale() {
    return current === "en" ? "en-GB" : "id-ID";
  }

  function setLang(value) {
    if (!strings[value]) return;
    current = value;
    try {
      localStorage.setItem(KEY, value);
    } catch {
      /* ignore */
    }
  }

  // The word of `key` in the current language (else Indonesian, else the key itself),
  // each {name} replaced by vars[name]; an unknown {name} stays as written.
  function t(key, vars = {}) {
    const text = strings[current][key] ?? strings.id[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
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

  // Fill the static text of the page: data-i18n (text), data-i18n-placeholder,
  // data-i18n-label (aria-label); the language button (#lang) offers the other one.
  function translatePage(root = document) {
    document.documentElement.lang = current;
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    }
    for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    const toggle = document.getElementById("lang");
    if (toggle) {
      toggle.textContent = current === "en" ? "Bahasa Indonesia" : "English";
      toggle.lang = current === "en" ? "id" : "en";
    }
  }

  return { lang, locale, setLang, t, errorText, translatePage };
}
