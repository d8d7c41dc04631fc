// The frontline app: a hash router over a handful of screens, a top bar, and the offline sync loop.
// Loaded by main.js once the sign-in screen is drawn (docs/web.md, "One file instead of twenty-five").
import { html, render, useEffect, useLayoutEffect, useRef, useState } from "./html.js";
import { currentUser, onSessionChange, signOut } from "./auth.js";
import { setUiLanguage, t, uiLanguage, UI_LANGUAGES } from "./i18n.js";
import { paintSignIn } from "./screens/signin.js";
import { screensPeople } from "./roles.js";
import { focusHeading } from "./focus.js";

// Started at once, awaited by nothing the sign-in page needs.
const screens = import("./screens/index.js");

function useRoute() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
}

function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    addEventListener("online", up);
    addEventListener("offline", down);
    return () => {
      removeEventListener("online", up);
      removeEventListener("offline", down);
    };
  }, []);
  return online;
}

function TopBar({ user, online, onLanguage }) {
  return html`<header class="topbar">
    <a class="brand" href="#/">Putokaz</a>
    <span class=${online ? "net online" : "net offline"} role="status">${online ? t("online") : t("offline")}</span>
    <label class="ui-lang"
      ><span class="visually-hidden">${t("ui_language")}</span>
      <select value=${uiLanguage()} onChange=${(e) => onLanguage(e.target.value)}>
        ${UI_LANGUAGES.map(([code, name]) => html`<option value=${code} lang=${code}>${name}</option>`)}
      </select></label
    >
    ${user && html`<button type="button" class="link" onClick=${() => signOut().then(() => (location.hash = "#/"))}>${t("sign_out")}</button>`}
  </header>`;
}

// The console (charts, the coordinator's figures) only for those who open it.
const loadConsole = () => import("./console/index.js");

function Later({ load, show }) {
  const [loaded, setLoaded] = useState(null);
  useEffect(() => {
    load().then(setLoaded).catch((e) => console.error(e));
  }, []);
  return loaded ? show(loaded) : html`<p>${t("loading")}</p>`;
}

function useScreens() {
  const [loaded, setLoaded] = useState(null);
  useEffect(() => {
    screens.then(setLoaded).catch((e) => console.error(e));
  }, []);
  return loaded;
}

// The sign-in card is drawn without the library (it is the first screen, before the library arrives);
// here it is drawn again whenever the language or the network changes.
function SignIn({ online }) {
  const host = useRef(null);
  useLayoutEffect(() => paintSignIn(host.current, { online }), [online, uiLanguage()]);
  return html`<div ref=${host}></div>`;
}

function Screen({ route, user, online }) {
  const [name, ...rest] = route;
  const loaded = useScreens();
  if (!user && name !== "offline") return html`<${SignIn} online=${online} />`;
  if (!loaded) return html`<p>${t("loading")}</p>`;
  const { Home, Screening, Result, Refer, MyReferrals, Inbox, PrintSheet, Offline } = loaded;
  const { Practice, TrainingHome, TrainerHome, GroupResults } = loaded;
  if (name === "offline") return html`<${Offline} user=${user} online=${online} localId=${rest[0]} />`;
  switch (name) {
    case "screen":
      return html`<${Screening} user=${user} id=${rest[0]} online=${online} />`;
    case "result":
      return html`<${Result} user=${user} id=${rest[0]} />`;
    case "refer":
      return html`<${Refer} user=${user} id=${rest[0]} />`;
    case "referrals":
      return html`<${MyReferrals} user=${user} />`;
    case "inbox":
      return html`<${Inbox} user=${user} />`;
    case "console":
      return html`<${Later} load=${loadConsole} show=${(m) => html`<${m.Console} user=${user} route=${rest} />`} />`;
    case "training":
      if (rest[0] === "group") return html`<${GroupResults} id=${rest[1]} />`;
      if (rest[0]) return html`<${Practice} id=${rest[0]} />`;
      // Trainers (admin, coordinator) run groups; everyone else who may practise, practises.
      return user.roles.some((r) => r === "admin" || r === "coordinator")
        ? html`<${TrainerHome} />`
        : html`<${TrainingHome} user=${user} />`;
    case "print":
      return html`<${PrintSheet} code=${rest[0]} lang=${rest[1]} />`;
    default:
      return html`<${Home} user=${user} online=${online} />`;
  }
}

function App() {
  const route = useRoute();
  const online = useOnline();
  const [user, setUser] = useState(currentUser());
  const [, setLanguage] = useState(uiLanguage());
  useEffect(() => onSessionChange(setUser), []);
  // A new address, or signing in or out, is a new screen: the keyboard starts at its heading.
  const screen = `${route.join("/")}|${user?.sub ?? ""}`;
  const shown = useRef(screen);
  useEffect(() => {
    if (shown.current !== screen) focusHeading();
    shown.current = screen;
  }, [screen]);
  useEffect(() => {
    // The offline queue and the questionnaire copies are for those who screen; other roles would get 403s.
    if (screensPeople(user)) screens.then((m) => m.startSync());
  }, [user]);
  const changeLanguage = (lang) => {
    setUiLanguage(lang).then(() => setLanguage(uiLanguage()));
  };
  return html`<${TopBar} user=${user} online=${online} onLanguage=${changeLanguage} />
    <main id="main" tabindex="-1"><${Screen} route=${route} user=${user} online=${online} /></main>`;
}

/** Take over the page from the first sign-in screen (the same page, so nothing moves), keeping the focus. */
export function startApp(root) {
  const active = document.activeElement;
  const focused = active?.dataset?.user ? `button[data-user="${CSS.escape(active.dataset.user)}"]` : active?.matches("header select") ? "header select" : null;
  root.replaceChildren();
  render(html`<${App} />`, root);
  if (focused) root.querySelector(focused)?.focus();
}
