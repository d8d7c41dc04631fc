// Signing in. The access token lives in this module's memory only: never in localStorage,
// sessionStorage, IndexedDB or a cookie. A reload signs the user out; sign-out wipes the device.
import { CONFIG } from "./config.js";

let session = null; // { token, expiresAt, refreshToken, user: {sub, org, role, name}, mode }
let renewTimer = null;
const listeners = new Set();
const PKCE_KEY = "putokaz.oidc-pending"; // the one-use PKCE verifier and state, during the redirect only

export const currentToken = () => session?.token ?? null;
export const currentUser = () => session?.user ?? null;
export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
const notify = () => listeners.forEach((l) => l(session?.user ?? null));

function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
}

function start(token, expiresIn, mode, extra = {}) {
  const claims = claimsOf(token);
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  session = {
    token,
    mode,
    expiresAt: Date.now() + expiresIn * 1000,
    refreshToken: extra.refreshToken ?? null,
    demoUser: extra.demoUser ?? null,
    user: { sub: claims.sub, org: claims.org, role: roles[0] ?? null, roles, name: extra.name ?? claims.name ?? claims.sub },
  };
  clearTimeout(renewTimer);
  // Renew at 80% of the lifetime, so a call never goes out with a token about to run out.
  renewTimer = setTimeout(renew, Math.max(5, expiresIn * 0.8) * 1000);
  notify();
}

async function renew() {
  if (!session) return;
  try {
    if (session.mode === "dev") await signInDev(session.demoUser, true);
    else if (session.refreshToken) await refreshOidc();
  } catch {
    // Offline or refused: keep the current token until it runs out, try again in 30 s.
    renewTimer = setTimeout(renew, 30_000);
  }
}

// --- dev sign-in (PUTOKAZ_ENVIRONMENT=dev only) ---------------------------------------------
export async function demoUsers() {
  const response = await fetch("/dev/users", { cache: "no-store" });
  if (!response.ok) return [];
  return response.json();
}

export async function signInDev(userId) {
  const response = await fetch("/dev/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: userId }),
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`sign-in refused (${response.status})`);
  const answer = await response.json();
  start(answer.access_token, answer.expires_in, "dev", { demoUser: userId, name: answer.user.name });
}

// --- OpenID Connect: authorization code flow with PKCE ---------------------------------------
const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const randomText = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

async function discovery() {
  const issuer = CONFIG.oidc.issuer.replace(/\/$/, "");
  const response = await fetch(`${issuer}/.well-known/openid-configuration`, { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error("the sign-in provider is unavailable");
  return response.json();
}

export async function signInOidc() {
  const meta = await discovery();
  const verifier = randomText();
  const state = randomText();
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: CONFIG.oidc.clientId,
    redirect_uri: `${location.origin}/`,
    scope: CONFIG.oidc.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  location.assign(url.toString());
}

async function tokenRequest(form) {
  const meta = await discovery();
  const response = await fetch(meta.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: CONFIG.oidc.clientId, ...form }).toString(),
    cache: "no-store",
    credentials: "omit",
  });
  if (!response.ok) throw new Error(`the sign-in provider refused (${response.status})`);
  return response.json();
}

/** On return from the provider (?code=…&state=…): exchange the code, then clean the address bar. */
export async function completeOidcRedirect() {
  const params = new URLSearchParams(location.search);
  if (!CONFIG.oidc || !params.has("code")) return false;
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", "/");
  if (!pending || pending.state !== params.get("state")) throw new Error("the sign-in answer does not match the request");
  const answer = await tokenRequest({
    grant_type: "authorization_code",
    code: params.get("code"),
    redirect_uri: `${location.origin}/`,
    code_verifier: pending.verifier,
  });
  start(answer.access_token, answer.expires_in ?? 300, "oidc", { refreshToken: answer.refresh_token });
  return true;
}

async function refreshOidc() {
  const answer = await tokenRequest({ grant_type: "refresh_token", refresh_token: session.refreshToken });
  start(answer.access_token, answer.expires_in ?? 300, "oidc", {
    refreshToken: answer.refresh_token ?? session.refreshToken,
  });
}

// --- signing out ----------------------------------------------------------------------------
const wipeHooks = [];
export const onWipe = (hook) => wipeHooks.push(hook);

/** Forget the token and every local trace: the offline store, drafts, cached questionnaires. */
export async function signOut() {
  clearTimeout(renewTimer);
  session = null;
  sessionStorage.clear();
  for (const hook of wipeHooks) await hook();
  if (navigator.serviceWorker?.controller) navigator.serviceWorker.controller.postMessage("wipe");
  notify();
}
