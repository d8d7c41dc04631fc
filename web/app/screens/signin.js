// Sign-in: the organisation's OpenID Connect provider; in dev (`make run`) also the demo users.
import { html, useEffect, useState } from "../html.js";
import { demoUsers, signInDev, signInOidc } from "../auth.js";
import { CONFIG } from "../config.js";
import { t } from "../i18n.js";

export function SignIn({ online }) {
  const [users, setUsers] = useState(CONFIG.demoUsers ?? []);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (CONFIG.devSignIn && online && !users.length) demoUsers().then(setUsers).catch(() => setUsers([]));
  }, [online]);
  const run = (action) => () => {
    setError(null);
    action().catch((e) => setError(e.message));
  };
  return html`<section class="card">
    <h1>${t("sign_in")}</h1>
    <p>${t("sign_in_intro")}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${CONFIG.oidc &&
    html`<button type="button" class="primary" onClick=${run(signInOidc)} disabled=${!online}>${t("sign_in_oidc")}</button>`}
    ${CONFIG.devSignIn &&
    html`<h2>${t("demo_users")}</h2>
      <p class="hint">${t("demo_users_hint")}</p>
      <ul class="choices">
        ${users.map(
          (u) => html`<li>
            <button type="button" data-user=${u.id} onClick=${run(() => signInDev(u.id))}>
              <strong>${u.name}</strong> <span class="hint">${u.org_name} · ${t(`role_${u.role}`)}</span>
            </button>
          </li>`,
        )}
      </ul>`}
    ${!online && html`<p>${t("offline_sign_in")}</p><a class="button" href="#/offline">${t("work_offline")}</a>`}
  </section>`;
}
