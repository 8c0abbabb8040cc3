// Thin fetch wrapper for Loket's HTTP API, shared by every page.
// - sends JSON, the CSRF header for cookie sessions and an Idempotency-Key on writes;
// - turns the spec's error shape into an ApiError with status, code and message;
// - `retrying` repeats a write with the same key after a network failure, so a retry
//   acts at most once on the server.

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status; // 0 when the network failed
    this.code = code;
    this.details = details; // the error object's other fields, e.g. next_open
  }
}

export function cookie(name) {
  const hit = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function api(method, path, { body, key, token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (method !== "GET") {
    const csrf = cookie("loket_csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
    headers["Idempotency-Key"] = key || newKey();
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal,
    });
  } catch (err) {
    throw new ApiError(0, "network_error", String(err && err.message ? err.message : err));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText, error);
  }
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A write that survives a dropped connection: the same Idempotency-Key on every try,
// so the server acts once. `onRetry(attempt, error)` lets the page say "reconnecting".
export async function retrying(method, path, { body, token, tries = 6, onRetry } = {}) {
  const key = newKey();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await api(method, path, { body, key, token });
    } catch (err) {
      const transient = err instanceof ApiError && (err.status === 0 || err.status === 503 || err.status === 502);
      if (!transient || attempt >= tries) throw err;
      if (onRetry) onRetry(attempt, err);
      await sleep(Math.min(8000, 300 * 2 ** attempt));
    }
  }
}
