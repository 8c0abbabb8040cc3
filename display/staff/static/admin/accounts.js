// Accounts: list, create, change role/site/counters, reset a password, remove.
// An admin sees every account (this site's, and the installation-wide ones); a
// supervisor sees its own site's and manages only its officers (the API decides too).

import { api } from "/static/display/common/api.js";
import { t } from "../strings.js";
import { button, confirm, el, field, input, select, table } from "./dom.js";
import { state } from "./state.js";

const ROLES = ["officer", "supervisor", "admin", "evaluator"];
const GLOBAL = new Set(["admin", "evaluator"]);

export function accountsTab(ui) {
  return (panel) => {
    let users = [];
    let showAll = false;
    const list = el("div");
    const error = el("p", { className: "form-error", role: "alert" });
    const formCard = el("section", { className: "card editor", hidden: true });
    const all = el("input", { type: "checkbox", id: "users-all" });
    all.addEventListener("change", () => {
      showAll = all.checked;
      draw();
    });
    const head = el(
      "div",
      { className: "section-head" },
      el("h2", {}, t("tab_accounts")),
      ui.me.role === "admin" ? el("label", { className: "check-item", for: "users-all" }, all, ` ${t("users_all_sites")}`) : null,
      button("add_user", () => openForm(null), "btn primary", { "data-action": "add-user" }),
    );
    panel.append(el("section", { className: "card" }, head, error, list), formCard);

    const manageable = (u) => ui.me.role === "admin" || (u.role === "officer" && u.site === ui.me.site);
    const counterNames = () => new Map(state.config.counters.map((c) => [c.id, c.name]));

    function draw() {
      const names = counterNames();
      const shown = users
        .filter((u) => showAll || u.site === state.site || (!u.site && GLOBAL.has(u.role)))
        .sort((a, b) => (a.site || "").localeCompare(b.site || "") || a.name.localeCompare(b.name));
      const rows = shown.map((u) => ({
        attrs: { "data-user": u.name },
        cells: [
          el("strong", {}, u.name),
          t(`role_${u.role}`),
          u.site || t("all_sites"),
          u.counters.length ? u.counters.map((c) => names.get(c) || c).join(", ") : u.role === "officer" ? t("counters_none") : "–",
          el(
            "td",
            { className: "actions" },
            manageable(u)
              ? [
                  button("edit", () => openForm(u), "btn small", { "aria-label": `${t("edit")} ${u.name}` }),
                  button("reset_password", () => openPassword(u), "btn small", { "aria-label": `${t("reset_password")} ${u.name}` }),
                  button("remove", () => remove(u), "btn small danger", { "aria-label": `${t("remove")} ${u.name}` }),
                ]
              : el("span", { className: "muted" }, t("not_yours")),
          ),
        ],
      }));
      list.replaceChildren(table(["col_username", "col_role", "site", "col_counters_of_user", "col_actions"], rows, { "data-section": "users" }));
    }

    async function render() {
      try {
        users = (await api("GET", "/api/v1/users")).users;
        error.textContent = "";
      } catch (err) {
        error.textContent = ui.explain(err);
      }
      draw();
    }

    // The focus, if it was in the form, goes to "Tambah akun" rather than the page's top.
    function close() {
      const active = document.activeElement;
      const hadFocus = formCard.contains(active) || active === document.body || !active;
      formCard.hidden = true;
      formCard.replaceChildren();
      const add = panel.querySelector('[data-action="add-user"]');
      if (hadFocus && add) add.focus();
    }

    function show(form) {
      formCard.replaceChildren(form);
      formCard.hidden = false;
      form.addEventListener("keydown", (event) => event.key === "Escape" && close());
      const first = form.querySelector("input:not([readonly]), select");
      if (first) first.focus();
    }

    function counterChecks(chosen) {
      const set = new Set(chosen || []);
      const boxes = state.config.counters.map((c) => {
        const box = el("input", { type: "checkbox", name: "counters", value: c.id, id: `uc-${c.id}` });
        box.checked = set.has(c.id);
        return el("label", { className: "check-item", for: box.id }, box, ` ${c.name}`);
      });
      return el("fieldset", { className: "checks wide" }, el("legend", {}, t("user_counters")), el("small", { className: "muted" }, t("user_counters_hint")), ...boxes);
    }

    function openForm(user) {
      const roles = ui.me.role === "admin" ? ROLES : ["officer"];
      const name = input("name", user ? user.name : "", { required: true, autocomplete: "off", pattern: "[a-z0-9][a-z0-9-]{0,47}" });
      if (user) name.readOnly = true;
      const password = input("password", "", { type: "password", autocomplete: "new-password", minlength: "8", required: true });
      const role = select("role", roles.map((r) => [r, t(`role_${r}`)]), user ? user.role : "officer");
      const counters = counterChecks(user ? user.counters : []);
      const sync = () => (counters.hidden = role.value !== "officer");
      role.addEventListener("change", sync);
      sync();
      const formError = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
      const submit = el("button", { type: "submit", className: "btn primary" }, t("save"));
      const form = el(
        "form",
        { className: "entry-form", "data-form": "user", novalidate: true },
        el("h2", {}, user ? t("edit_user", { name: user.name }) : t("add_user")),
        el("div", { className: "fields" }, field("col_username", name, user ? null : "username_hint"), user ? null : field("password", password, "password_hint"), field("col_role", role, "role_hint"), el("p", { className: "muted wide" }, t("user_site_is", { site: state.site })), counters),
        formError,
        el("div", { className: "form-buttons" }, submit, button("cancel", close, "btn")),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        formError.textContent = "";
        submit.disabled = true;
        const global = GLOBAL.has(role.value);
        const body = {
          role: role.value,
          site: global ? null : state.site,
          counters: role.value === "officer" ? [...counters.querySelectorAll("input:checked")].map((b) => b.value) : [],
        };
        try {
          if (user) await api("PATCH", `/api/v1/users/${encodeURIComponent(user.name)}`, { body });
          else await api("POST", "/api/v1/users", { body: { ...body, name: name.value.trim(), password: password.value } });
          close();
          ui.say(t(user ? "user_changed" : "user_created", { name: user ? user.name : name.value.trim() }));
          await render();
          ui.changed();
        } catch (err) {
          formError.textContent = ui.explain(err);
        } finally {
          submit.disabled = false;
        }
      });
      show(form);
    }

    function openPassword(user) {
      const password = input("password", "", { type: "password", autocomplete: "new-password", minlength: "8", required: true });
      const formError = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
      const form = el(
        "form",
        { className: "entry-form", "data-form": "password", novalidate: true },
        el("h2", {}, t("reset_password_of", { name: user.name })),
        el("div", { className: "fields" }, field("new_password", password, "password_hint")),
        formError,
        el("div", { className: "form-buttons" }, el("button", { type: "submit", className: "btn primary" }, t("reset_password")), button("cancel", close, "btn")),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api("POST", `/api/v1/users/${encodeURIComponent(user.name)}/password`, { body: { password: password.value } });
          close();
          ui.say(t("password_reset", { name: user.name }));
          ui.changed();
        } catch (err) {
          formError.textContent = ui.explain(err);
        }
      });
      show(form);
    }

    async function remove(user) {
      if (!(await confirm(t("confirm_remove_user_title", { name: user.name }), t("confirm_remove_user_text"), "remove"))) return;
      try {
        await api("DELETE", `/api/v1/users/${encodeURIComponent(user.name)}`);
        ui.say(t("user_removed", { name: user.name }));
        await render();
        ui.changed();
      } catch (err) {
        error.textContent = ui.explain(err);
      }
    }

    return { render };
  };
}
