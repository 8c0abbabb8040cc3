// The site document and its queues, kept as they are: the document loaded (patiently)
// at the start and again on a configuration change; the waiting counts and quotas from
// the site's state and its event stream.

import { api } from "../common/api.js";
import { notice, redraw, render } from "./screens.js";
import { sitePath, t, view } from "./state.js";

let stateTimer = null;

export async function loadSite() {
  for (let attempt = 0; ; attempt += 1) {
    try {
      view.site = await api("GET", sitePath);
      return;
    } catch (err) {
      if (attempt === 0) notice(t("err_network"));
      await new Promise((resolve) => setTimeout(resolve, Math.min(15000, 1000 * 2 ** attempt)));
    }
  }
}

export function applyState(state) {
  view.waiting = state.waiting || {};
  view.quotaLeft = state.quota_left || {};
  redraw("services");
}

export async function refreshState() {
  try {
    applyState(await api("GET", `${sitePath}/state`));
  } catch {
    // the stream will bring it
  }
}

function refreshStateSoon() {
  if (stateTimer) return;
  stateTimer = setTimeout(() => {
    stateTimer = null;
    refreshState();
  }, 2000);
}

export async function onEvent(event) {
  if (event.waiting) Object.assign(view.waiting, event.waiting);
  if (event.type === "site.config_changed") {
    await loadSite();
    if (view.agency) view.agency = view.site.agencies.find((a) => a.id === view.agency.id) || null;
    if (view.screen === "services" && !view.agency) view.screen = "agencies";
    refreshState();
    if (view.screen !== "ticket") render();
    return;
  }
  if (["ticket.issued", "ticket.cancelled", "site.day_reset"].includes(event.type)) refreshStateSoon();
  redraw("services");
}
