// Export and import of a site's configuration.
// Export: TOML (made here from the API's JSON; `loket config load` reads it) or JSON.
// Import: a JSON file in the same schema (this page's JSON export, or the body of
// GET /api/v1/sites/{site}/config); shown first, then it replaces the configuration
// with the version on screen (If-Match), like any other save. TOML files are loaded on
// the server with `loket config load FILE` (no TOML parser in the browser).

import { t } from "../strings.js";
import { button, confirm, download, el, field } from "./dom.js";
import { replace, state } from "./state.js";
import { toToml } from "./toml.js";

const SECTIONS = ["agencies", "services", "counters", "displays"];

export function ioTab(ui) {
  return (panel) => {
    const stamp = () => new Date().toISOString().slice(0, 10);
    const exportCard = el(
      "section",
      { className: "card" },
      el("h2", {}, t("export_title")),
      el("p", { className: "muted" }, t("export_hint")),
      el("div", { className: "form-buttons" },
        button("export_toml", () => download(`${state.site}-${stamp()}.toml`, toToml(state.config), "application/toml"), "btn primary", { "data-action": "export-toml" }),
        button("export_json", () => download(`${state.site}-${stamp()}.json`, `${JSON.stringify({ ...state.config, version: state.version }, null, 2)}\n`, "application/json"), "btn", { "data-action": "export-json" }),
      ),
    );
    const file = el("input", { type: "file", accept: ".json,application/json", name: "import" });
    const summary = el("p", { className: "muted", "data-role": "import-summary" });
    const error = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
    const apply = el("button", { type: "submit", className: "btn danger", disabled: true }, t("import_apply"));
    let pending = null;
    const form = el("form", { className: "entry-form", "data-form": "import" },
      el("h2", {}, t("import_title")),
      el("p", { className: "muted" }, t("import_hint")),
      field("import_file", file),
      summary, error,
      el("div", { className: "form-buttons" }, apply),
    );
    if (state.editable) panel.append(exportCard, el("section", { className: "card" }, form));
    else panel.append(exportCard);

    file.addEventListener("change", async () => {
      pending = null;
      apply.disabled = true;
      summary.textContent = error.textContent = "";
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      try {
        const doc = JSON.parse(await chosen.text());
        if (!doc || typeof doc !== "object" || !doc.site || !SECTIONS.every((s) => Array.isArray(doc[s]))) throw new Error(t("import_not_config"));
        pending = doc;
        summary.textContent = t("import_summary", {
          name: doc.site.name || "?",
          agencies: doc.agencies.length,
          services: doc.services.length,
          counters: doc.counters.length,
          displays: doc.displays.length,
        });
        apply.disabled = false;
      } catch (err) {
        error.textContent = err instanceof SyntaxError ? t("import_bad_json") : err.message;
      }
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!pending) return;
      if (!(await confirm(t("import_confirm_title", { site: state.site }), t("import_confirm_text"), "import_apply"))) return;
      error.textContent = "";
      try {
        await replace(pending);
        ui.say(t("imported"));
        pending = null;
        file.value = "";
        summary.textContent = "";
        apply.disabled = true;
      } catch (err) {
        error.textContent = ui.explain(err);
      }
    });

    return { render: () => {} };
  };
}
