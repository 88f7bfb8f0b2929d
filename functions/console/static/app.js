// The console's shell: sign-in check, navigation, routes, the unsaved-changes guard.
import { ensureSignedIn, signOut, user } from "./api.js";
import { el, flash, notice } from "./ui.js";

const ROUTES = [
  [/^#\/campaigns\/new$/, "editor", () => ({ id: null })],
  [/^#\/campaigns\/([^/]+)$/, "editor", (m) => ({ id: decodeURIComponent(m[1]) })],
  [/^#\/campaigns$/, "campaigns", () => ({})],
  [/^#\/forecast$/, "forecast", () => ({})],
  [/^#\/results\/([^/]+)$/, "results", (m) => ({ id: decodeURIComponent(m[1]) })],
  [/^#\/results$/, "results", () => ({ id: null })],
  [/^#\/segments$/, "segments", () => ({})],
  [/^#\/customers\/([^/]+)$/, "customers", (m) => ({ id: decodeURIComponent(m[1]) })],
  [/^#\/customers$/, "customers", () => ({ id: null })],
  [/^#\/policy$/, "policy", () => ({})],
];
const NAV_OF = { editor: "campaigns" };

// Pages register unsaved work here; navigation asks before throwing it away.
export const guard = { dirty: false, message: "You have unsaved changes. Leave this page and lose them?" };
let currentHash = null;

window.addEventListener("beforeunload", (event) => {
  if (guard.dirty) {
    event.preventDefault();
    event.returnValue = guard.message;
  }
});

async function route() {
  const hash = window.location.hash || "#/campaigns";
  if (guard.dirty && hash !== currentHash) {
    if (!window.confirm(guard.message)) {
      history.replaceState(null, "", currentHash);
      return;
    }
    guard.dirty = false;
  }
  currentHash = hash;
  notice(flash.message, flash.bad);
  flash.message = "";
  const found = ROUTES.map(([pattern, page, args]) => [hash.match(pattern), page, args]).find(([m]) => m);
  const main = document.getElementById("main");
  if (!found) {
    main.replaceChildren(el("h1", { text: "Not found" }), el("p", {}, el("a", { href: "#/campaigns", text: "Back to the campaigns" })));
    return;
  }
  const [match, page, args] = found;
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === (NAV_OF[page] || page)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  main.replaceChildren(el("p", { text: "Loading…" }));
  try {
    const module = await import(`./pages/${page}.js`);
    await module.render(main, { ...args(match), user: user() });
    const title = main.querySelector("h1");
    document.title = `${title ? title.textContent : "Console"} · Lifecycle messaging`;
    if (title) title.focus();
  } catch (error) {
    main.replaceChildren(el("h1", { text: "Something went wrong" }), el("p", { class: "error", text: String(error.message || error) }));
  }
}

async function start() {
  const who = await ensureSignedIn();
  document.getElementById("who").textContent = `${who.name} · ${who.canEdit ? "marketer" : "viewer (read only)"}`;
  document.getElementById("signout").addEventListener("click", () => {
    guard.dirty = false;
    signOut();
  });
  window.addEventListener("hashchange", route);
  if (!window.location.hash || window.location.hash === "#") history.replaceState(null, "", "#/campaigns");
  await route();
}

start();
