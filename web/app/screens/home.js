// Home: what this person can do, by role; drafts to continue and screenings waiting to be sent.
import { html, useEffect, useState } from "../html.js";
import { get } from "../api.js";
import { t } from "../i18n.js";
import { QueueStatus } from "./queue.js";
import { hasConsole } from "../console/roles.js";
import { screensPeople } from "../roles.js";

function Drafts() {
  const [drafts, setDrafts] = useState([]);
  useEffect(() => {
    get("/api/v1/screenings?state=draft&limit=10")
      .then((page) => setDrafts(page.items))
      .catch(() => setDrafts([]));
  }, []);
  if (!drafts.length) return null;
  return html`<section class="card">
    <h2>${t("drafts")}</h2>
    <ul class="choices">
      ${drafts.map(
        (d) => html`<li><a class="button" href=${`#/screen/${d.id}`}>${t("continue_draft", { when: new Date(d.started_at).toLocaleString() })}</a></li>`,
      )}
    </ul>
  </section>`;
}

export function Home({ user, online }) {
  const frontline = screensPeople(user);
  const provider = user.roles.includes("service_provider");
  const trainee = user.roles.includes("trainee");
  const trainer = user.roles.some((r) => r === "admin" || r === "coordinator");
  return html`<section class="card">
      <h1>${t("hello", { name: user.name })}</h1>
      <p class="hint">${t(`role_${user.role}`)} · ${user.org}</p>
      <nav class="actions" aria-label=${t("what_to_do")}>
        ${frontline && html`<a class="button primary" href="#/screen/new">${t("new_screening")}</a>`}
        ${frontline && html`<a class="button" href="#/referrals">${t("my_referrals")}</a>`}
        ${provider && html`<a class="button primary" href="#/inbox">${t("inbox")}</a>`}
        ${frontline && html`<a class="button" href="#/print">${t("prompt_sheets")}</a>`}
        ${hasConsole(user) && html`<a class="button primary" href="#/console">${t("console")}</a>`}
        ${(frontline || trainee) && html`<a class=${trainee ? "button primary" : "button"} href="#/training">${t("training_title")}</a>`}
        ${trainer && !frontline && html`<a class="button" href="#/training">${t("training_groups")}</a>`}
        ${!frontline && !provider && !trainee && html`<a class="button" href="/docs">${t("api_docs")}</a>`}
      </nav>
    </section>
    ${frontline && html`<${QueueStatus} online=${online} />`} ${frontline && online && html`<${Drafts} />`}`;
}
