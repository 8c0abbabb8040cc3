// The configuration being edited: the copy last read from the server (with its
// version) and the one way to change it, `save(change)`: apply `change` to a copy, PUT
// the whole document with If-Match: VERSION, keep the server's answer.
//
// 412 (someone saved meanwhile) and 422 (the server's message naming entry and field)
// are thrown as ApiError for the form that asked; the page shows the 412 banner.

import { api, ApiError, cookie, newKey } from "/static/display/common/api.js";
import { clone } from "./dom.js";

const listeners = new Set();

export const state = {
  site: null, // id of the site on screen
  config: null, // {site, agencies, services, counters, displays} as the server answered
  version: null,
  editable: false, // admins replace the configuration; supervisors read it
};

export const configUrl = (site) => `/api/v1/sites/${encodeURIComponent(site)}/config`;

export function onChange(listener) {
  listeners.add(listener);
}

function keep(doc) {
  state.version = doc.version;
  const { version, ...config } = doc;
  state.config = config;
  for (const listener of listeners) listener(state);
}

export async function load(site) {
  state.site = site;
  keep(await api("GET", configUrl(site)));
}

// api.js sends no If-Match; this one request needs it.
async function put(path, body, version) {
  const headers = {
    Accept: "application/json",
    "Content-Type": "application/json",
    "If-Match": String(version),
    "Idempotency-Key": newKey(),
  };
  const csrf = cookie("loket_csrf");
  if (csrf) headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(path, { method: "PUT", headers, body: JSON.stringify(body), credentials: "same-origin" });
  } catch (err) {
    throw new ApiError(0, "network_error", String(err && err.message ? err.message : err));
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText);
  }
  return data;
}

// `change(copy)` edits a copy of the configuration in place (it may throw to refuse).
export async function save(change) {
  const copy = clone(state.config);
  change(copy);
  keep(await put(configUrl(state.site), copy, state.version));
}

// A whole document (import): replaces everything, still at the version on screen.
export async function replace(doc) {
  const { version, ...config } = clone(doc);
  config.site = { ...config.site, id: state.site };
  keep(await put(configUrl(state.site), config, state.version));
}

// After PATCH of a service's open flag: the server answers the new version.
export async function reload() {
  await load(state.site);
}

// "services[3] (id "kk"): prefix: must be ..." -> {section: "services", index: 3, field: "prefix"}
export function locate(message) {
  const m = /(agencies|services|counters|displays|site)(?:\[(\d+)\])?(?: \(id "([^"]*)"\))?: (\w+)?/.exec(message || "");
  if (!m) return null;
  return { section: m[1], index: m[2] === undefined ? null : Number(m[2]), id: m[3] || null, field: m[4] || null };
}
