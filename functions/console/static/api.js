// The console's only door to the stack: the marketer API under the console's /api prefix,
// called with the signed-in user's ID token (API Gateway's Cognito authorizer checks it).
//
// config.json (served next to this file) says how to sign in:
//   {"auth": "cognito" | "local", "signin_url": "...", "api_base": "../api/"}
// With Cognito, signin_url is the hosted UI (implicit flow): it comes back to the console with
// #id_token=... in the fragment. Locally, signin.html offers "Sign in as marketer/viewer".

const TOKEN_KEY = "console.id_token";
let config = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
  // Field problems of a 422 ({"errors": [{field, message}]}).
  get fieldErrors() {
    return Array.isArray(this.body.errors) ? this.body.errors : [];
  }
}

export async function loadConfig() {
  if (config) return config;
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  config = await response.json();
  return config;
}

function takeTokenFromFragment() {
  const hash = window.location.hash;
  if (!hash.includes("id_token=")) return;
  const params = new URLSearchParams(hash.slice(1));
  const token = params.get("id_token");
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, "", window.location.pathname + window.location.search + "#/campaigns");
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

function base64UrlJson(part) {
  const text = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = text + "=".repeat((4 - (text.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// Who is signed in, read from the ID token (the API decides; this only shapes the screens).
export function user() {
  const value = token();
  if (!value) return null;
  try {
    const claims = base64UrlJson(value.split(".")[1] || "");
    if (claims.exp && claims.exp * 1000 < Date.now()) return null;
    let groups = claims["cognito:groups"] || [];
    if (typeof groups === "string") groups = groups.replace(/[[\]]/g, "").split(/[ ,]+/);
    const name = claims.email || claims["cognito:username"] || "signed in";
    return { name, groups, canEdit: groups.includes("marketers") };
  } catch {
    return null;
  }
}

export async function ensureSignedIn() {
  takeTokenFromFragment();
  const settings = await loadConfig();
  if (user()) return user();
  window.location.assign(settings.signin_url);
  return new Promise(() => {}); // the page is going away
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  window.location.assign(config ? config.signin_url : "signin.html");
}

export async function api(method, path, body, extraHeaders = {}) {
  const settings = await loadConfig();
  const url = new URL(path.replace(/^\//, ""), new URL(settings.api_base, window.location.href));
  const headers = { Accept: "application/json", ...extraHeaders };
  if (token()) headers.Authorization = token();
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (response.status === 401) {
    signOut();
    throw new ApiError(401, { message: "signed out" });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body, headers) => api("POST", path, body, headers);
export const put = (path, body, headers) => api("PUT", path, body, headers);
