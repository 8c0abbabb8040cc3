// The sign-in form of the officer console and the staff pages (the `login_form` macro of
// display/templates/common/forms.html: #login-form, #login-username, #login-password,
// #login-submit, #login-error). Each page brings what is its own:
//
//   submitLogin({ login, t, errorText, sayError, signedIn });
//
// `login(username, password)` signs in and answers who it is (null: not signed in);
// `t` and `errorText` are the page's words; `sayError(words)` shows the form's error,
// `words` a function that answers it in the current language (a page that redraws it on
// a language switch keeps the function); `signedIn(me)` opens the page for the user.

import { ApiError } from "./api.js";

const $ = (id) => document.getElementById(id);

export function submitLogin({ login, t, errorText, sayError, signedIn }) {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = $("login-submit");
    if (submit.disabled) return;
    submit.disabled = true;
    submit.textContent = t("logging_in");
    sayError(() => "");
    try {
      const me = await login($("login-username").value.trim(), $("login-password").value);
      if (!me) throw new ApiError(401, "unauthorized", "");
      await signedIn(me);
    } catch (err) {
      const wrong = err instanceof ApiError && [400, 401, 422].includes(err.status);
      sayError(() => (wrong ? t("login_failed") : errorText(err)));
      $("login-password").select();
    } finally {
      submit.disabled = false;
      submit.textContent = t("login");
    }
  });
}
