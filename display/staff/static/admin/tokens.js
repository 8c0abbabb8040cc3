// Device and script tokens (admin): create one and show it once, with the pairing
// address and its QR code (a kiosk or TV opens it from its own screen or a phone),
// list them with their last use, revoke one.

import { api } from "/static/display/common/api.js";
import { dateTime } from "../format.js";
import { t } from "../strings.js";
import { button, confirm, el, field, input, select, table } from "./dom.js";
import { qrSvg } from "/static/display/common/qr.js";
import { state } from "./state.js";

const ROLES = ["kiosk", "display", "officer", "supervisor", "evaluator"];

// Where a new device goes to pair: the site's public address, else this one.
export function pairingUrl(role, site, token, display) {
  const base = (state.config.site.public_url || window.location.origin).replace(/\/$/, "");
  const query = new URLSearchParams(display ? { display, token } : { token });
  if (role === "kiosk") return `${base}/kiosk/${encodeURIComponent(site)}?${query}`;
  if (role === "display") return `${base}/display/${encodeURIComponent(site)}?${query}`;
  return null;
}

export function tokensTab(ui) {
  return (panel) => {
    const list = el("div");
    const error = el("p", { className: "form-error", role: "alert" });
    const created = el("section", { className: "card created-token", id: "created-token", hidden: true, "aria-live": "polite" });
    const role = select("role", ROLES.map((r) => [r, t(`role_${r}`)]), "kiosk");
    const name = input("name", "", { required: true, maxlength: "60", placeholder: t("token_name_placeholder") });
    const display = select("display", [], "");
    const displayField = field("token_display", display, "token_display_hint");
    const formError = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
    const submit = el("button", { type: "submit", className: "btn primary" }, t("create_token"));
    const form = el(
      "form",
      { className: "entry-form", "data-form": "token", novalidate: true },
      el("h2", {}, t("create_token")),
      el("p", { className: "muted" }, t("token_intro")),
      el("div", { className: "fields" }, field("col_role", role, "token_role_hint"), field("token_name", name, "token_name_hint"), displayField),
      formError,
      el("div", { className: "form-buttons" }, submit),
    );
    panel.append(el("section", { className: "card" }, form), created, el("section", { className: "card" }, el("h2", {}, t("tokens_title")), error, list));

    const sync = () => (displayField.hidden = role.value !== "display");
    role.addEventListener("change", sync);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      formError.textContent = "";
      if (!name.value.trim()) {
        formError.textContent = t("token_name_needed");
        name.focus();
        return;
      }
      submit.disabled = true;
      try {
        const site = role.value === "evaluator" ? null : state.site;
        const answer = await api("POST", "/api/v1/tokens", { body: { role: role.value, site, name: name.value.trim() } });
        showOnce(answer, role.value === "display" ? display.value : "");
        name.value = "";
        ui.say(t("token_created", { name: answer.name }));
        await render();
        ui.changed();
      } catch (err) {
        formError.textContent = ui.explain(err);
      } finally {
        submit.disabled = false;
      }
    });

    // The token itself is never shown again: the page keeps it only in this card.
    function showOnce(answer, displayId) {
      const url = pairingUrl(answer.role, answer.site, answer.token, displayId);
      const code = el("code", { className: "secret", id: "new-token" }, answer.token);
      const copy = (text) => async () => {
        try {
          await navigator.clipboard.writeText(text);
          ui.say(t("copied"));
        } catch {
          ui.say(t("copy_failed"));
        }
      };
      const done = button("token_done", () => {
        created.hidden = true;
        created.replaceChildren();
        name.focus();
      }, "btn primary");
      created.replaceChildren(
        el("h2", {}, t("token_once_title", { name: answer.name })),
        el("p", { className: "banner banner-warn" }, t("token_once_warning")),
        el(
          "div",
          { className: "token-pair" },
          url ? el("figure", { className: "qr-box" }, qrSvg(url, t("qr_label", { name: answer.name })), el("figcaption", {}, t(answer.role === "kiosk" ? "qr_kiosk_hint" : "qr_display_hint"))) : null,
          el(
            "div",
            { className: "token-text" },
            field("token_value", code),
            button("copy_token", copy(answer.token), "btn small"),
            url ? el("p", {}, t("pairing_url"), el("br"), el("a", { href: url, id: "pairing-url", target: "_blank", rel: "noopener" }, url)) : el("p", { className: "muted" }, t("token_bearer_hint")),
            url ? button("copy_url", copy(url), "btn small") : null,
          ),
        ),
        done,
      );
      created.hidden = false;
      done.focus();
    }

    async function revoke(token) {
      if (!(await confirm(t("confirm_revoke_title", { name: token.name }), t("confirm_revoke_text"), "revoke"))) return;
      try {
        await api("DELETE", `/api/v1/tokens/${encodeURIComponent(token.id)}`);
        ui.say(t("token_revoked", { name: token.name }));
        await render();
        ui.changed();
      } catch (err) {
        error.textContent = ui.explain(err);
      }
    }

    async function render() {
      const tvs = state.config.displays.filter((d) => d.kind === "tv");
      display.replaceChildren(el("option", { value: "" }, t("token_display_any")), ...tvs.map((d) => el("option", { value: d.id }, d.name)));
      sync();
      let tokens = [];
      try {
        tokens = (await api("GET", `/api/v1/tokens?site=${encodeURIComponent(state.site)}`)).tokens;
        error.textContent = "";
      } catch (err) {
        error.textContent = ui.explain(err);
      }
      tokens.sort((a, b) => String(b.created_at || "").localeCompare(String(a.created_at || "")));
      const rows = tokens.map((tk) => ({
        attrs: { "data-token": tk.id },
        cells: [el("strong", {}, tk.name), t(`role_${tk.role}`), el("code", {}, tk.id), dateTime(tk.created_at), tk.last_used_at ? dateTime(tk.last_used_at) : t("never_used"), el("td", { className: "actions" }, button("revoke", () => revoke(tk), "btn small danger", { "aria-label": `${t("revoke")} ${tk.name}` }))],
      }));
      list.replaceChildren(table(["token_name", "col_role", "token_id", "created_at", "last_used_at", "col_actions"], rows, { "data-section": "tokens" }));
    }

    return { render };
  };
}
