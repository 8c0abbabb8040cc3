// What this browser is: a paired kiosk (its device cookie, set by the page handler), a
// kiosk run by a logged-in officer (reception mode, on that session), a phone (the
// phone tickets of remote.js), or not ready yet ("Kiosk belum siap"; at ?setup=1 the
// staff instructions). A kiosk whose token is revoked goes back to not ready.

import { api } from "../common/api.js";
import { EventStream } from "../common/connection.js";
import { show } from "../ticket/dom.js";
import { camera } from "./booking.js";
import { cameraSupported } from "./checkin.js";
import { applyState, loadSite, onEvent } from "./live.js";
import { PhonePage } from "./remote.js";
import { busy, notice, render } from "./screens.js";
import { $, config, hoursNow, sitePath, t, view, when } from "./state.js";

const PHONE_SCREEN = "(max-width: 899px)"; // phones and small tablets, not kiosks
const STAFF_ROLES = ["officer", "supervisor", "admin"];

let stream = null; // the site's event stream, once launched

async function whoAmI() {
  try {
    const me = await api("GET", "/api/v1/auth/me");
    return STAFF_ROLES.includes(me.role) && (me.site === config.site || me.role === "admin") ? me : null;
  } catch {
    return null;
  }
}

async function launch() {
  view.mode = "kiosk";
  show($("app"), true);
  await loadSite();
  render();
  show($("camera-open"), await cameraSupported());
  stream = new EventStream({
    site: config.site,
    onSnapshot: (state) => applyState(state),
    onEvent,
    onStatus: (status, reason) => {
      if (status === "offline" && String(reason || "").includes("revoked")) unpaired();
    },
  }).start();
}

// The kiosk's token was revoked (the server closed its stream, or refused a ticket):
// back to the neutral "Kiosk belum siap" the page shows unpaired, until staff pair it
// again. A kiosk run by a logged-in officer (reception) keeps going on that session.
export function unpaired() {
  if (view.mode !== "kiosk" || view.staff) return;
  view.mode = "none";
  if (stream) stream.stop();
  camera.stop();
  show($("app"), false);
  show($("more"), false);
  show($("pairing"), true);
}

// Opens the page as what this browser is.
export async function openKiosk() {
  const staff = await whoAmI();
  view.staff = Boolean(staff);
  if (config.paired || staff) {
    show($("pairing"), false);
    await launch();
  } else if (!config.setup && window.matchMedia(PHONE_SCREEN).matches) {
    view.phone = new PhonePage({
      site: config.site,
      sitePath,
      timeZone: config.timezone,
      t,
      ui: { busy, notice, hours: hoursNow, when },
    });
    if (await view.phone.start()) view.mode = "remote";
  } else {
    show($("pairing"), true); // "Kiosk belum siap" (or, at ?setup=1, the instructions)
    render();
  }
}

// Reception mode: the logged-in officer at this kiosk may give priority tickets.
export function bindReception() {
  $("reception").addEventListener("click", () => {
    view.reception = !view.reception;
    if (!view.reception) view.priority = false;
    render();
  });
}
