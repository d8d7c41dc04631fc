// Sign-in: the organisation's OpenID Connect provider; in dev (`make run`) also the demo users.
// Drawn with the DOM alone, not the UI library: on a slow network this is the first screen, usable as
// soon as the first bundle has arrived, while the library and the other screens are still on their way.
import { demoUsers, signInDev, signInOidc } from "../auth.js";
import { CONFIG } from "../config.js";
import { setUiLanguage, t, uiLanguage, UI_LANGUAGES } from "../i18n.js";

/** An element with attributes (false and null left out) and children (text or elements). */
function el(name, attributes = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== false && c !== undefined));
  return node;
}

let users = CONFIG.demoUsers ?? [];

/** The sign-in card, drawn into `host` (again on every call: a language, the network or an error changed). */
export function paintSignIn(host, { online, error = null }) {
  const run = (action) => () => {
    paintSignIn(host, { online });
    action().catch((e) => paintSignIn(host, { online, error: e.message }));
  };
  if (CONFIG.devSignIn && online && !users.length)
    demoUsers()
      .then((found) => found.length && ((users = found), host.isConnected && paintSignIn(host, { online, error })))
      .catch(() => {});
  const demo = CONFIG.devSignIn && [
    el("h2", {}, t("demo_users")),
    el("p", { class: "hint" }, t("demo_users_hint")),
    el(
      "ul",
      { class: "choices" },
      users.map((u) =>
        el(
          "li",
          {},
          el(
            "button",
            { type: "button", "data-user": u.id, onclick: run(() => signInDev(u.id)) },
            el("strong", {}, u.name),
            " ",
            el("span", { class: "hint" }, `${u.org_name} · ${t(`role_${u.role}`)}`),
          ),
        ),
      ),
    ),
  ];
  const focused = host.contains(document.activeElement) ? document.activeElement.dataset.user : undefined;
  host.replaceChildren(
    el(
      "section",
      { class: "card" },
      el("h1", {}, t("sign_in")),
      el("p", {}, t("sign_in_intro")),
      error && el("p", { class: "error", role: "alert" }, error),
      CONFIG.oidc && el("button", { type: "button", class: "primary", onclick: run(signInOidc), disabled: !online }, t("sign_in_oidc")),
      demo,
      !online && [el("p", {}, t("offline_sign_in")), el("a", { class: "button", href: "#/offline" }, t("work_offline"))],
    ),
  );
  if (focused) host.querySelector(`button[data-user="${CSS.escape(focused)}"]`)?.focus();
}

/** The whole first page before the app has arrived: the top bar (language, network) and the sign-in card. */
export function paintSignInPage(root) {
  const online = navigator.onLine;
  const choose = el(
    "select",
    {
      onchange: (e) =>
        setUiLanguage(e.target.value).then(() => {
          paintSignInPage(root);
          root.querySelector("header select").focus(); // drawn anew: the keyboard stays on the choice
        }),
    },
    UI_LANGUAGES.map(([code, name]) => el("option", { value: code, lang: code, selected: code === uiLanguage() }, name)),
  );
  const host = el("div");
  root.replaceChildren(
    el(
      "header",
      { class: "topbar" },
      el("a", { class: "brand", href: "#/" }, "Putokaz"),
      el("span", { class: online ? "net online" : "net offline", role: "status" }, online ? t("online") : t("offline")),
      el("label", { class: "ui-lang" }, el("span", { class: "visually-hidden" }, t("ui_language")), choose),
    ),
    el("main", { id: "main", tabindex: "-1" }, host),
  );
  paintSignIn(host, { online });
}
