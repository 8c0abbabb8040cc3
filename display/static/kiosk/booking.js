// A booking's check-in at the kiosk (docs/bookings.md): the check-in screen and its
// keypad, a USB scanner typing anywhere on the start and check-in screens, the camera;
// the code goes to the server and the booking's ticket comes out (checkin.js reads the
// codes, this sends them).

import { ApiError, retrying } from "../common/api.js";
import { clear, show } from "../ticket/dom.js";
import { Camera, CODE_ALPHABET, CODE_LENGTH, ScanBuffer, acceptChar, codeBoxes } from "./checkin.js";
import { issued } from "./issued.js";
import { keys } from "./keyboard.js";
import { explainCheckIn } from "./messages.js";
import { addScreen, busy, go, notice } from "./screens.js";
import { $, sitePath, t, view, when } from "./state.js";

const scan = new ScanBuffer();
export const camera = new Camera($("camera-video"), (code) => checkIn(code), () => show($("camera"), false));

function renderCode() {
  clear($("code")).append(...codeBoxes(view.code));
  $("code").setAttribute("aria-label", view.code ? view.code.split("").join(" ") : t("checkin_help"));
  $("checkin-go").disabled = view.code.length !== CODE_LENGTH;
}

async function checkIn(code) {
  if (view.busy || view.mode !== "kiosk") return;
  camera.stop();
  show($("notice"), false);
  busy(true, t("checking"));
  try {
    const answer = await retrying("POST", `${sitePath}/bookings/${encodeURIComponent(code)}/check-in`, { tries: 3 });
    const service = view.site.services.find((s) => s.id === answer.ticket.service) || null;
    const agency = (service && view.site.agencies.find((a) => a.id === service.agency)) || null;
    view.code = "";
    issued(answer, service, agency, answer.booking || { code });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) view.code = "";
    else view.code = code; // a typo: let the visitor correct it
    if (view.screen === "checkin") renderCode();
    notice(explainCheckIn(err, code, t, when));
  } finally {
    busy(false);
  }
}

function codeKey(key) {
  if (key === "Backspace") view.code = view.code.slice(0, -1);
  else if (key === "Clear") view.code = "";
  else view.code = acceptChar(view.code, key);
  renderCode();
}

// A USB scanner types the code (or a link holding it) and Enter, anywhere on the start
// and check-in screens; on the check-in screen a keyboard also types into the code.
function onKey(event) {
  if (view.mode !== "kiosk" || view.busy || !view.site || !["agencies", "checkin"].includes(view.screen)) return;
  if (event.target instanceof HTMLInputElement) return;
  const code = scan.feed(event);
  if (view.screen === "checkin") {
    if (event.key === "Backspace") codeKey("Backspace");
    else if (event.key.length === 1 && CODE_ALPHABET.includes(event.key.toUpperCase())) codeKey(event.key);
  }
  if (event.key === "Enter") {
    event.preventDefault(); // not a click on the focused button
    const typed = view.screen === "checkin" && view.code.length === CODE_LENGTH ? view.code : null;
    if (code || typed) checkIn(code || typed);
  }
}

async function openCamera() {
  show($("camera"), true);
  try {
    await camera.start();
  } catch {
    show($("camera"), false);
    notice(t("camera_failed"));
  }
}

export function bindCheckIn() {
  addScreen("checkin", {
    draw: renderCode,
    move: (to) => {
      if (to !== "checkin") camera.stop();
      scan.clear(); // a scan does not carry over from one screen to the next
    },
  });
  document.addEventListener("keydown", onKey);
  $("checkin-back").addEventListener("click", () => go("agencies"));
  $("checkin-entry").addEventListener("click", () => go("checkin"));
  $("checkin-go").addEventListener("click", () => view.code.length === CODE_LENGTH && checkIn(view.code));
  $("code-keys").append(...keys(CODE_ALPHABET, t, codeKey));
  $("camera-open").addEventListener("click", openCamera);
  $("camera-stop").addEventListener("click", () => camera.stop());
}
