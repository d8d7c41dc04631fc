// A printable prompt sheet: every question of one instrument in one language, for work on paper.
import { html, useEffect, useState } from "../html.js";
import { get } from "../api.js";
import { dirOf, QUESTIONNAIRE_LANGUAGE_NAMES, t } from "../i18n.js";

// The paper stylesheet comes with the signed-in screens, not before the sign-in screen (docs/web.md).
const paper = new URL("../print.css", import.meta.url).href;
if (!document.querySelector(`link[href="${paper}"]`))
  document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href: paper, media: "print" }));

function Chooser() {
  const [list, setList] = useState(null);
  useEffect(() => {
    get("/api/v1/questionnaires?lang=en").then((l) => setList(l.items)).catch(() => setList([]));
  }, []);
  if (!list) return html`<p>${t("loading")}</p>`;
  const languages = list[0]?.languages ?? [];
  return html`<section class="card">
    <h1>${t("prompt_sheets")}</h1>
    <p>${t("prompt_sheets_intro")}</p>
    ${list.map(
      (q) => html`<h2>${q.title}</h2>
        <ul class="chips">
          ${languages.map((lang) => html`<li><a class="button" href=${`#/print/${q.code}/${lang}`} lang=${lang}>${QUESTIONNAIRE_LANGUAGE_NAMES[lang] ?? lang}</a></li>`)}
        </ul>`,
    )}
  </section>`;
}

export function PrintSheet({ code, lang }) {
  const [q, setQ] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (code) get(`/api/v1/questionnaires/${code}?lang=${lang}`).then(setQ).catch((e) => setError(e.message));
  }, [code, lang]);
  if (!code) return html`<${Chooser} />`;
  if (error) return html`<p class="error card" role="alert">${error}</p>`;
  if (!q) return html`<p>${t("loading")}</p>`;
  const byId = {};
  for (const s of q.sections) for (const item of s.questions) byId[item.id] = item;
  return html`<article class="sheet card" lang=${lang} dir=${dirOf(lang)}>
    <button type="button" class="no-print primary" onClick=${() => window.print()}>${t("print")}</button>
    <h1>${q.title} · v${q.version}</h1>
    ${q.consent && html`<section class="consent"><h2>${q.consent.version}</h2><p>${q.consent.text}</p></section>`}
    ${q.sections.map(
      (s) => html`<section>
        <h2>${s.title}</h2>
        <ol>
          ${s.questions.map(
            (item) => html`<li>
              <p>${item.text}</p>
              ${item.show_if && html`<p class="hint">↳ ${byId[item.show_if.question]?.text ?? item.show_if.question}: ${item.show_if.any_of.join(" / ")}</p>`}
              ${item.options && html`<p class="options-line">${item.options.map((o) => `☐ ${o.label}`).join("   ")}</p>`}
            </li>`,
          )}
        </ol>
      </section>`,
    )}
  </article>`;
}
