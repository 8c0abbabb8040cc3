// What every staff page shares: language, sign-in, the role check, the views.
//
// Signing in reuses the officer console's session module (a session cookie from
// POST /api/v1/auth/login, CSRF header from api.js). `allowed(me)` says whether the
// user may see the page; the API enforces the same rule, this only puts it in words.

import { submitLogin } from "/static/display/common/login.js";
import { login, logout, whoAmI } from "/static/counter/session.js";
import { errorText, lang, setLang, t, translatePage } from "./strings.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["loading", "login", "denied", "page"];

export const body = document.body.dataset;

function show(name) {
  for (const view of VIEWS) $(`view-${view}`).hidden = view !== name;
  document.body.dataset.view = name;
}

export function startPage({ allowed, onReady, onLanguage = () => {}, onSignOut = () => {} }) {
  let started = false;
  let who = null;
  const deniedKey = body.page === "monthly" ? "denied_reports" : `denied_${body.page}`;

  function showLogin(message = "") {
    onSignOut();
    who = null;
    $("user-name").hidden = true;
    $("logout").hidden = true;
    show("login");
    $("login-error").textContent = message;
    $("login-password").value = "";
    $("login-username").focus();
  }

  function label() {
    if (!who) return;
    $("user-name").textContent = `${who.name || ""} · ${t(`role_${who.role}`)}`;
    $("denied-text").textContent = t(deniedKey, { role: t(`role_${who.role}`) });
  }

  async function enter(me) {
    who = me;
    label();
    $("user-name").hidden = false;
    $("logout").hidden = false;
    if (!allowed(me)) {
      show("denied");
      return;
    }
    show("page");
    started = true;
    await onReady(me);
  }

  submitLogin({
    login,
    t,
    errorText,
    sayError: (words) => {
      $("login-error").textContent = words();
    },
    signedIn: enter,
  });

  const signOut = async () => {
    await logout();
    started = false;
    showLogin();
  };
  $("logout").addEventListener("click", signOut);
  $("denied-logout").addEventListener("click", signOut);

  $("lang").addEventListener("click", () => {
    setLang(lang() === "en" ? "id" : "en");
    translatePage();
    label();
    if (started) onLanguage();
  });

  translatePage();
  (async () => {
    let me = null;
    try {
      me = await whoAmI();
    } catch (err) {
      showLogin(errorText(err));
      return;
    }
    if (me) await enter(me);
    else showLogin();
  })();

  // A page calls this when the API answers 401 (the session expired or was revoked).
  return { expired: () => showLogin(t("err_unauthorized")) };
}

// The rules of spec section 2, as the pages need them.
export const may = {
  reports: (me, site) =>
    me.role === "admin" || me.role === "evaluator" || (me.role === "supervisor" && me.site === site),
  monitor: (me, site) => me.role === "admin" || (me.role === "supervisor" && me.site === site),
  evaluation: (me) => me.role === "admin" || me.role === "evaluator",
};
