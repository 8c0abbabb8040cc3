// One list-and-form editor per section of the configuration (agencies, services,
// counters, displays). A section is a table of its entries (with a search box) and one
// form, for a new entry or the one being changed; "Simpan" PUTs the whole configuration
// with the change (state.save), and an error the server names is shown under the form.

import { ApiError } from "/static/display/common/api.js";
import { t } from "../strings.js";
import { button, confirm, el, table } from "./dom.js";
import { locate, state } from "./state.js";

// What a section hands to `section()`:
//  key: "services"; title, add, noun: string keys; columns: [{key, cell(entry, config)}]
//  form(entry|null, config) -> {nodes: [...], read(config) -> entry} (read may throw Error)
//  actions(entry) -> extra buttons of a row (e.g. open/close a service)
export function section(panel, spec, ui) {
  let editing = null; // id of the entry in the form, "" for a new one, null: no form
  let filter = "";
  const list = el("div");
  const formCard = el("section", { className: "card editor", hidden: true });
  const search = el("input", { type: "search", className: "search", "aria-label": t("search"), placeholder: t("search") });
  search.addEventListener("input", () => {
    filter = search.value.trim().toLowerCase();
    render();
  });
  const addButton = button(spec.add, () => openForm(null), "btn primary", { "data-action": `add-${spec.key}` });
  const head = el("div", { className: "section-head" }, el("h2", {}, t(spec.title)), search, state.editable ? addButton : null);
  const error = el("p", { className: "form-error", role: "alert" });
  panel.append(el("section", { className: "card" }, head, error, list), formCard);

  function rows(config) {
    return config[spec.key]
      .filter((entry) => !filter || JSON.stringify(entry).toLowerCase().includes(filter))
      .map((entry) => {
        const actions = [...(spec.actions ? spec.actions(entry, config) : [])];
        if (state.editable) {
          actions.push(
            button("edit", () => openForm(entry.id), "btn small", { "aria-label": `${t("edit")} ${entry.id}`, "data-edit": entry.id }),
            button("remove", () => remove(entry), "btn small danger", { "aria-label": `${t("remove")} ${entry.id}` }),
          );
        }
        const cells = spec.columns.map((column) => column.cell(entry, config));
        return { cells: [...cells, el("td", { className: "actions" }, ...actions)], attrs: { "data-id": entry.id } };
      });
  }

  function render() {
    const config = state.config;
    list.replaceChildren(table([...spec.columns.map((c) => c.key), "col_actions"], rows(config), { "data-section": spec.key }));
  }

  function openForm(id) {
    editing = id === null ? "" : id;
    const config = state.config;
    const entry = id === null ? null : config[spec.key].find((e) => e.id === id);
    const built = spec.form(entry, config);
    // The entry as the form shows it now: a save applies only the fields changed since,
    // on top of the entry as the server has it then (someone else's change to another
    // field of it, saved meanwhile and reloaded after a 412, is kept).
    let shown = null;
    try {
      shown = entry ? built.read(config) : null;
    } catch {
      shown = null; // an entry the form cannot read back: save every field, as typed
    }
    const formError = el("p", { className: "form-error", role: "alert", "data-role": "form-error" });
    const submit = el("button", { type: "submit", className: "btn primary" }, t("save"));
    const form = el(
      "form",
      { className: "entry-form", "data-form": spec.key, novalidate: true },
      el("h2", {}, entry ? t("edit_what", { what: t(spec.noun), id: entry.id }) : t(spec.add)),
      el("div", { className: "fields" }, ...built.nodes),
      formError,
      el("div", { className: "form-buttons" }, submit, button("cancel", () => closeForm(), "btn")),
    );
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeForm();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      formError.textContent = "";
      submit.disabled = true;
      try {
        const fresh = built.read(state.config);
        const original = editing;
        await ui.save((copy) => {
          const entries = copy[spec.key];
          if (original) {
            const at = entries.findIndex((e) => e.id === original);
            if (at < 0) throw new ApiError(409, "gone", t("entry_gone", { id: original }));
            entries[at] = tidy({ ...entries[at], ...changedFields(fresh, shown) });
            if (spec.renamed) spec.renamed(copy, original, fresh.id);
          } else {
            entries.push(tidy(fresh));
          }
        });
        closeForm(fresh.id);
        ui.say(t("saved_what", { what: t(spec.noun), id: fresh.id }));
      } catch (err) {
        formError.textContent = err instanceof ApiError || !(err instanceof Error) ? ui.explain(err) : err.message;
        focusNamed(form, err);
      } finally {
        submit.disabled = false;
      }
    });
    formCard.replaceChildren(form);
    formCard.hidden = false;
    const first = form.querySelector("input:not([readonly]), select, textarea");
    if (first) first.focus();
    formCard.scrollIntoView({ block: "nearest" });
  }

  function focusNamed(form, err) {
    const where = err instanceof ApiError ? locate(err.message) : null;
    const named = where && where.field ? form.querySelector(`[name="${where.field}"]`) : null;
    if (named) {
      named.setAttribute("aria-invalid", "true");
      named.focus();
    }
  }

  // The focus goes back where the form was opened (the row's "Ubah", else "Tambah"),
  // not to the top of the page: a keyboard user carries on from there.
  function closeForm(id = editing) {
    const active = document.activeElement;
    const hadFocus = formCard.contains(active) || active === document.body || !active;
    editing = null;
    formCard.hidden = true;
    formCard.replaceChildren();
    if (!hadFocus) return;
    const edit = id ? [...list.querySelectorAll("button[data-edit]")].find((b) => b.dataset.edit === id) : null;
    (edit || addButton).focus();
  }

  async function remove(entry) {
    const ok = await confirm(t("confirm_remove_title", { what: t(spec.noun), id: entry.id }), t(`confirm_remove_${spec.key}`), "remove");
    if (!ok) return;
    error.textContent = "";
    try {
      await ui.save((copy) => {
        copy[spec.key] = copy[spec.key].filter((e) => e.id !== entry.id);
      });
      ui.say(t("removed_what", { what: t(spec.noun), id: entry.id }));
    } catch (err) {
      error.textContent = ui.explain(err);
    }
  }

  return { render, error, openForm };
}

export const text = (value) => (value === null || value === undefined || value === "" ? "–" : String(value));

// The fields of `fresh` that differ from `shown` (all of them without `shown`).
function changedFields(fresh, shown) {
  if (!shown) return fresh;
  return Object.fromEntries(Object.entries(fresh).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(shown[key])));
}

// Optional fields left empty are left out (the schema has no null).
function tidy(entry) {
  for (const [key, value] of Object.entries(entry)) if (value === null || value === undefined) delete entry[key];
  return entry;
}

// A whole number from an <input>, or null when empty.
export function whole(input, labelKey) {
  const raw = input.value.trim();
  if (raw === "") return null;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    throw new Error(t("must_be_whole", { field: t(labelKey) }));
  }
  return value;
}
