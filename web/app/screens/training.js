// Training mode: practise screening on fictional vignettes. Every screen says TRAINING; nothing here
// touches a real screening (the API keeps practice apart), and the token is the same as for real work.
import { html, useEffect, useRef, useState } from "../html.js";
import { get, patch, post } from "../api.js";
import { t, uiLanguage } from "../i18n.js";
import { hiddenAnswers, isShown, progress, questionIndex } from "../questionnaire.js";
import { Answer, SectionProgress } from "./wizard.js";

// Vignettes are written in bs and en; a Bosnian, Croatian or Serbian screener reads bs.
export const trainingLanguage = () => (["bs", "hr", "sr-Latn", "sr-Cyrl"].includes(uiLanguage()) ? "bs" : "en");
const TRAINERS = new Set(["admin", "coordinator"]);

function Banner() {
  // Not an alert: it is there from the start and stays on every training screen, in the screener's language.
  return html`<p class="training-banner" data-training="true"><strong>${t("training_badge")}</strong> ${t("training_banner")}</p>`;
}

function optionLabel(q, value) {
  if (value === undefined || value === null) return t("training_no_answer");
  const labels = Object.fromEntries((q.options ?? []).map((o) => [o.code, o.label]));
  const one = (v) => labels[v] ?? (["yes", "no", "unsure", "declined"].includes(v) ? t(`answer_${v}`) : String(v));
  return Array.isArray(value) ? value.map(one).join(", ") : one(value);
}

/** #/training: the trainee's assignments, every vignette to practise, and their own practices with scores. */
export function TrainingHome({ user }) {
  const [vignettes, setVignettes] = useState(null);
  const [assigned, setAssigned] = useState([]);
  const [mine, setMine] = useState([]);
  const [error, setError] = useState(null);
  const [starting, setStarting] = useState(null);
  const practitioner = !user.roles.every((r) => TRAINERS.has(r));
  useEffect(() => {
    get(`/api/v1/training/vignettes?lang=${trainingLanguage()}`)
      .then((page) => setVignettes(page.items))
      .catch((e) => setError(e.message));
    if (practitioner) {
      get("/api/v1/training/assignments").then((page) => setAssigned(page.items.flatMap((a) => a.vignettes))).catch(() => {});
      get("/api/v1/training/practices").then((page) => setMine(page.items)).catch(() => {});
    }
  }, []);
  const start = async (vignette) => {
    setStarting(vignette);
    setError(null);
    try {
      // One key per press: a retry after a lost answer opens the same practice instead of a second one.
      const key = crypto.randomUUID();
      const practice = await post("/api/v1/training/practices", { vignette, language: trainingLanguage() }, { "Idempotency-Key": key });
      location.hash = `#/training/${practice.id}`;
    } catch (e) {
      setError(e.message);
      setStarting(null);
    }
  };
  const titles = Object.fromEntries((vignettes ?? []).map((v) => [v.id, v.title]));
  const sorted = [...(vignettes ?? [])].sort((a, b) => Number(assigned.includes(b.id)) - Number(assigned.includes(a.id)));
  return html`<${Banner} />
    <section class="card">
      <h1>${t("training_title")}</h1>
      <p>${t("training_intro")}</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!vignettes && !error && html`<p>${t("loading")}</p>`}
      <ul class="vignettes">
        ${sorted.map(
          (v) => html`<li data-vignette=${v.id}>
            <h2>${v.title}</h2>
            <p class="hint">
              ${t(`training_instrument_${v.instrument}`)}${assigned.includes(v.id) ? html` · <strong>${t("training_assigned")}</strong>` : ""}
              ${v.status === "draft" ? html` · ${t("training_draft")}` : ""}
            </p>
            ${practitioner &&
            html`<button type="button" class="primary" disabled=${starting !== null} onClick=${() => start(v.id)} aria-label=${t("training_practise_named", { title: v.title })}>
              ${t("training_practise")}
            </button>`}
          </li>`,
        )}
      </ul>
    </section>
    ${mine.length > 0 &&
    html`<section class="card" aria-labelledby="my-practices">
      <h2 id="my-practices">${t("training_mine")}</h2>
      <ul class="choices">
        ${mine.map(
          (p) => html`<li>
            <a class="button" href=${`#/training/${p.id}`}>
              ${titles[p.vignette] ?? p.vignette} ·
              ${p.state === "finished" ? t("training_score", { score: p.score }) : t("training_open")}
            </a>
          </li>`,
        )}
      </ul>
    </section>`}`;
}

function Story({ vignette }) {
  const p = vignette.person;
  return html`<section class="card story" aria-labelledby="story-title">
    <h2 id="story-title">${t("training_story")}</h2>
    <p class="hint">
      ${t("training_person", { name: `${p.given_name ?? ""} ${p.family_name ?? ""}`.trim(), age: p.age_estimate ?? "?" })}
    </p>
    <ol class="scenes">
      ${vignette.scenes.map((scene) => html`<li>${scene}</li>`)}
    </ol>
  </section>`;
}

function Questions({ practice, setPractice, onFinish }) {
  const questionnaire = practice.questionnaire;
  const byId = questionIndex(questionnaire);
  const [answers, setAnswers] = useState(practice.answers ?? {});
  const [heard, setHeard] = useState({});
  const [section, setSection] = useState(0);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef(null);
  const opened = useRef(false);
  // Focus follows a change of section; on opening, the page stays at the top (the band, the story).
  useEffect(() => {
    if (opened.current) heading.current?.focus();
    opened.current = true;
  }, [section]);
  const sections = questionnaire.sections.filter((s) => s.questions.some((q) => isShown(q, answers, byId)));
  const index = Math.min(section, sections.length - 1);
  const current = sections[index];
  const done = progress(questionnaire, answers);

  const ask = async (q) => {
    try {
      const said = await post(`/api/v1/training/practices/${practice.id}/ask`, { question: q.id });
      setHeard({ ...heard, [q.id]: said.answer });
    } catch (e) {
      setError(e.message);
    }
  };
  const answer = async (id, value) => {
    const next = { ...answers, [id]: value };
    const cleared = hiddenAnswers(next, byId);
    for (const key of Object.keys(cleared)) delete next[key];
    setAnswers(next);
    try {
      await patch(`/api/v1/training/practices/${practice.id}/answers`, { answers: { [id]: value, ...cleared } });
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  };
  const finish = async () => {
    setBusy(true);
    setError(null);
    try {
      // Kept for the retries of this one press: a lost answer then shows the same feedback.
      const finished = await post(`/api/v1/training/practices/${practice.id}/finish`, undefined, { "Idempotency-Key": crypto.randomUUID() });
      setPractice({ ...practice, ...finished });
      onFinish();
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  const last = index === sections.length - 1;
  return html`<section class="card questions">
    <${SectionProgress} index=${index} count=${sections.length} done=${done} />
    <h2 tabindex="-1" ref=${heading}>${current.title}</h2>
    <p class="hint">${t("training_ask_hint")}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <ol class="question-list">
      ${current.questions
        .filter((q) => isShown(q, answers, byId))
        .map(
          (q) => html`<li class="question" key=${q.id} data-question=${q.id}>
            <p class="question-text" id=${`label-${q.id}`}>${q.text}</p>
            <div class="ask">
              <button type="button" onClick=${() => ask(q)} aria-describedby=${`label-${q.id}`}>${t("training_ask")}</button>
              ${q.id in heard && html`<p class="heard" role="status">${t("training_they_say", { answer: optionLabel(q, heard[q.id]) })}</p>`}
            </div>
            <${Answer} q=${q} value=${answers[q.id]} labelledBy=${`label-${q.id}`} onChange=${(v) => answer(q.id, v)} />
          </li>`,
        )}
    </ol>
    <div class="buttons">
      <button type="button" disabled=${index === 0} onClick=${() => setSection(index - 1)}>${t("back")}</button>
      ${last
        ? html`<button type="button" class="primary" disabled=${busy} onClick=${finish}>${t("training_finish")}</button>`
        : html`<button type="button" class="primary" onClick=${() => setSection(index + 1)}>${t("next_section")}</button>`}
    </div>
  </section>`;
}

function Feedback({ practice }) {
  const f = practice.feedback;
  const texts = {};
  for (const q of Object.values(questionIndex(practice.questionnaire ?? { sections: [] }))) if (q.indicator) texts[q.indicator.code] = q.text;
  const name = (code) => texts[code] ?? code;
  const heading = useRef(null);
  useEffect(() => heading.current?.focus(), []);
  return html`<section class="card result feedback">
    <h1 tabindex="-1" ref=${heading}>${t("training_feedback")}</h1>
    <p class="score" data-score=${practice.score}><strong>${t("training_score", { score: practice.score })}</strong></p>
    <div class="compare">
      <div>
        <h2>${t("training_yours")}</h2>
        <p class=${`outcome outcome-${f.yours.outcome}`} data-outcome=${f.yours.outcome}>${t(`outcome_${f.yours.outcome}`)}</p>
      </div>
      <div>
        <h2>${t("training_expert")}</h2>
        <p class=${`outcome outcome-${f.expert.outcome}`} data-expert-outcome=${f.expert.outcome}>${t(`outcome_${f.expert.outcome}`)}</p>
      </div>
    </div>
    <p>${f.outcome_right ? t("training_outcome_right") : t("training_outcome_wrong")}</p>
    ${f.found.length > 0 &&
    html`<h2>${t("training_found")}</h2>
      <ul class="found">
        ${f.found.map((code) => html`<li>${name(code)}</li>`)}
      </ul>`}
    ${f.missed.length > 0 &&
    html`<h2>${t("training_missed")}</h2>
      <ul class="missed">
        ${f.missed.map((m) => html`<li data-indicator=${m.indicator}><strong>${name(m.indicator)}</strong> — ${m.why}</li>`)}
      </ul>`}
    ${f.added.length > 0 &&
    html`<h2>${t("training_added")}</h2>
      <ul class="added">
        ${f.added.map((m) => html`<li data-indicator=${m.indicator}><strong>${name(m.indicator)}</strong> — ${m.why}</li>`)}
      </ul>`}
    <h2>${t("next_step")}</h2>
    <p>${f.expert.next_steps}</p>
    <div class="actions">
      <a class="button primary" href="#/training">${t("training_again")}</a>
    </div>
  </section>`;
}

/** #/training/<id>: the story, the questions (ask, then record), then the feedback beside the expert's. */
export function Practice({ id }) {
  const [practice, setPractice] = useState(null);
  const [error, setError] = useState(null);
  const [, setFinished] = useState(false);
  useEffect(() => {
    get(`/api/v1/training/practices/${id}`)
      .then(setPractice)
      .catch((e) => setError(e.message));
  }, [id]);
  if (error) return html`<${Banner} /><p class="error card" role="alert">${error}</p>`;
  if (!practice) return html`<${Banner} /><p>${t("loading")}</p>`;
  const vignette = practice.vignette;
  return html`<${Banner} />
    ${practice.state === "finished"
      ? html`<${Feedback} practice=${practice} />`
      : html`<section class="card">
            <h1>${vignette.title}</h1>
            <p class="hint">${t("training_how")}</p>
          </section>
          <${Story} vignette=${vignette} />
          <${Questions} practice=${practice} setPractice=${setPractice} onFinish=${() => setFinished(true)} />`}`;
}

const indicatorName = (code) => {
  const [dimension, name] = code.split(".");
  return `${t(`dimension_${dimension}`)}: ${(name ?? "").replace(/_/g, " ")}`;
};

/** #/training for a trainer (admin, coordinator): the organisation's groups, and a new group with its vignettes. */
export function TrainerHome() {
  const [groups, setGroups] = useState(null);
  const [vignettes, setVignettes] = useState([]);
  const [form, setForm] = useState({ name: "", members: "", vignettes: [] });
  const [error, setError] = useState(null);
  // The form is emptied once a group is made (its button disabled): the keyboard goes to the new group's link.
  const [made, setMade] = useState(null);
  useEffect(() => {
    const link = made && document.querySelector(`li[data-group="${CSS.escape(made)}"] a`);
    if (link) {
      link.focus();
      setMade(null);
    }
  }, [groups, made]);
  const load = () =>
    get("/api/v1/training/groups")
      .then((page) => setGroups(page.items))
      .catch((e) => setError(e.message));
  useEffect(() => {
    load();
    get(`/api/v1/training/vignettes?lang=${trainingLanguage()}`)
      .then((page) => setVignettes(page.items))
      .catch((e) => setError(e.message));
  }, []);
  const create = async (e) => {
    e.preventDefault();
    setError(null);
    const members = form.members.split(/[\s,;]+/).filter(Boolean);
    try {
      const group = await post("/api/v1/training/groups", { name: form.name, members, vignettes: form.vignettes });
      setForm({ name: "", members: "", vignettes: [] });
      setMade(group.id);
      load();
    } catch (err) {
      setError(err.problem?.errors ? err.problem.errors.map((x) => `${x.field}: ${x.message}`).join("; ") : err.message);
    }
  };
  const toggle = (id, on) => setForm({ ...form, vignettes: on ? [...form.vignettes, id] : form.vignettes.filter((v) => v !== id) });
  return html`<${Banner} />
    <section class="card">
      <h1>${t("training_groups")}</h1>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!groups && !error && html`<p>${t("loading")}</p>`}
      ${groups?.length === 0 && html`<p>${t("training_no_groups")}</p>`}
      <ul class="choices">
        ${(groups ?? []).map(
          (g) => html`<li data-group=${g.id}>
            <a class="button" href=${`#/training/group/${g.id}`}>${g.name} · ${t("training_group_size", { members: g.members.length, vignettes: g.vignettes.length })}</a>
          </li>`,
        )}
      </ul>
    </section>
    <form class="card" onSubmit=${create}>
      <h2>${t("training_new_group")}</h2>
      <label class="field"><span class="label">${t("training_group_name")}</span><input name="group_name" required maxlength="200" value=${form.name} onInput=${(e) => setForm({ ...form, name: e.target.value })} /></label>
      <label class="field"
        ><span class="label">${t("training_group_members")}</span>
        <textarea name="members" rows="2" required value=${form.members} onInput=${(e) => setForm({ ...form, members: e.target.value })}></textarea>
        <span class="hint">${t("training_group_members_hint")}</span></label
      >
      <fieldset>
        <legend>${t("training_group_vignettes")}</legend>
        ${vignettes.map(
          (v) => html`<label class="check"
            ><input type="checkbox" name="vignettes" value=${v.id} checked=${form.vignettes.includes(v.id)} onChange=${(e) => toggle(v.id, e.target.checked)} />${v.title}</label
          >`,
        )}
      </fieldset>
      <button type="submit" class="primary" disabled=${!form.vignettes.length}>${t("training_group_create")}</button>
    </form>`;
}

/** #/training/group/<id>: who completed which vignette with what score, and what the group missed most. */
export function GroupResults({ id }) {
  const [results, setResults] = useState(null);
  const [titles, setTitles] = useState({});
  const [error, setError] = useState(null);
  useEffect(() => {
    get(`/api/v1/training/groups/${id}/results`)
      .then(setResults)
      .catch((e) => setError(e.message));
    get(`/api/v1/training/vignettes?lang=${trainingLanguage()}`)
      .then((page) => setTitles(Object.fromEntries(page.items.map((v) => [v.id, v.title]))))
      .catch(() => {});
  }, [id]);
  if (error) return html`<${Banner} /><p class="error card" role="alert">${error}</p>`;
  if (!results) return html`<${Banner} /><p>${t("loading")}</p>`;
  const cell = (r) => (r.completed ? t("training_cell", { latest: r.latest_score, best: r.best_score, attempts: r.attempts }) : t("training_not_done"));
  return html`<${Banner} />
    <section class="card">
      <h1>${results.group.name}</h1>
      <ul class="vignettes results">
        ${results.members.map(
          (m) => html`<li data-trainee=${m.trainee}>
            <h2>${m.trainee}</h2>
            <dl class="handover">
              ${m.results.map((r) => html`<dt>${titles[r.vignette] ?? r.vignette}</dt><dd data-vignette=${r.vignette}>${cell(r)}</dd>`)}
            </dl>
          </li>`,
        )}
      </ul>
      <h2>${t("training_most_missed")}</h2>
      ${results.most_missed.length === 0
        ? html`<p>${t("training_none_missed")}</p>`
        : html`<ol class="missed">
            ${results.most_missed.map((m) => html`<li data-indicator=${m.indicator}>${indicatorName(m.indicator)} (${t("training_times", { n: m.times })})</li>`)}
          </ol>`}
      <div class="actions"><a class="button" href="#/training">${t("training_groups")}</a></div>
    </section>`;
}
