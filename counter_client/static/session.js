// Who is logged in, and which counter this machine works at.

import { api, ApiError } from "/static/display/common/api.js";

export async function whoAmI() {
  try {
    return await api("GET", "/api/v1/auth/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function login(username, password) {
  await api("POST", "/api/v1/auth/login", { body: { username, password } });
  return whoAmI();
}

export async function logout() {
  try {
    await api("POST", "/api/v1/auth/logout");
  } catch {
    /* the session is gone either way */
  }
}

// Supervisors and admins may work at any counter of the site; officers at theirs.
export function isStaff(me) {
  return me && (me.role === "admin" || me.role === "supervisor");
}

export function belongsToSite(me, siteId) {
  return me.role === "admin" || !me.site || me.site === siteId;
}

export function usableCounters(me, site) {
  if (!me || !belongsToSite(me, site.id)) return [];
  if (isStaff(me)) return site.counters;
  const mine = new Set(me.counters || []);
  return site.counters.filter((counter) => mine.has(counter.id));
}

export function mayUse(me, site, counterId) {
  return usableCounters(me, site).some((counter) => counter.id === counterId);
}

const storeKey = (siteId) => `loket.counter.${siteId}`;

export function rememberedCounter(siteId) {
  try {
    return localStorage.getItem(storeKey(siteId));
  } catch {
    return null;
  }
}

export function rememberCounter(siteId, counterId) {
  try {
    if (counterId) localStorage.setItem(storeKey(siteId), counterId);
    else localStorage.removeItem(storeKey(siteId));
  } catch {
    /* storage blocked: the officer picks again next time */
  }
}
