// The audit log of the site on screen, newest first (GET /api/v1/audit?site=S):
// when, who, what, on what, and what changed. An admin may add the installation's own
// log (accounts of no site: admins, evaluators).

import { api } from "/static/display/common/api.js";
import { dateTime } from "../format.js";
import { t } from "../strings.js";
import { button, el, table } from "./dom.js";
import { state } from "./state.js";

const LIMIT = 200;

function detailText(detail) {
  if (!detail || typeof detail !== "object") return "";
  return Object.entries(detail)
    .map(([key, value]) => {
      if (Array.isArray(value)) return `${key}: ${value.join(", ")}`;
      if (value && typeof value === "object") return `${key}: ${detailText(value)}`;
      return `${key}: ${value}`;
    })
    .join("; ");
}

export function auditTab(ui) {
  return (panel) => {
    const list = el("div");
    const error = el("p", { className: "form-error", role: "alert" });
    const global = el("input", { type: "checkbox", id: "audit-global" });
    global.addEventListener("change", () => render());
    const head = el(
      "div",
      { className: "section-head" },
      el("h2", {}, t("tab_audit")),
      ui.me.role === "admin" ? el("label", { className: "check-item", for: "audit-global" }, global, ` ${t("audit_global")}`) : null,
      button("refresh", () => render(), "btn small", { "data-action": "refresh-audit" }),
    );
    panel.append(el("section", { className: "card" }, head, el("p", { className: "muted" }, t("audit_hint")), error, list));

    async function fetchLog(site) {
      const query = new URLSearchParams({ limit: String(LIMIT), ...(site ? { site } : {}) });
      return (await api("GET", `/api/v1/audit?${query}`)).entries;
    }

    async function render() {
      let entries = [];
      try {
        entries = await fetchLog(state.site);
        if (global.checked) entries = entries.concat(await fetchLog(null));
        error.textContent = "";
      } catch (err) {
        error.textContent = ui.explain(err);
      }
      entries.sort((a, b) => String(b.at).localeCompare(String(a.at)));
      const timeZone = state.config.site.timezone;
      const rows = entries.map((e) => ({
        attrs: { "data-action": e.action },
        cells: [el("time", { datetime: e.at }, dateTime(e.at, timeZone)), e.actor, el("td", { "data-col": "action" }, t(`action_${e.action}`) === `action_${e.action}` ? e.action : t(`action_${e.action}`)), el("td", { "data-col": "target" }, e.target), el("td", { className: "detail" }, detailText(e.detail))],
      }));
      list.replaceChildren(table(["col_when", "col_actor", "col_action", "col_target", "col_detail"], rows, { "data-section": "audit" }));
    }

    return { render };
  };
}
