// One screening, step by step: languages, the person, consent, then the questions a section at a time.
// The same wizard runs online (answers saved to the server as they go) and offline (sealed drafts on
// the device); `backend` hides the difference.
import { html, useEffect, useRef, useState } from "../html.js";
import { dirOf, QUESTIONNAIRE_LANGUAGE_NAMES, t, uiLanguage } from "../i18n.js";
import { fieldErrors, hiddenAnswers, isChild, isShown, languagesOffered, loadPair, missingRequired, progress, questionIndex } from "../questionnaire.js";
import { get } from "../api.js";
import { focusHeading } from "../focus.js";

const ENTITIES = ["FBIH", "RS", "BD"];
const SEXES = ["F", "M", "X", "UNK"];
const DOCUMENT_TYPES = ["passport", "id_card", "residence_permit", "travel_document", "other"];

// The gazetteer (GET /api/v1/places), fetched once: the municipality field offers its names, and picking one
// sets its entity and canton. Offline there is no list; the server still checks the name when it is sent.
let placesOnce = null;
function usePlaces() {
  const [places, setPlaces] = useState([]);
  useEffect(() => {
    placesOnce ??= get("/api/v1/places?limit=200").then((r) => r.items).catch(() => ((placesOnce = null), []));
    placesOnce.then(setPlaces);
  }, []);
  return places;
}

function Field({ label, children, hint }) {
  return html`<label class="field"><span class="label">${label}</span>${children}${hint && html`<span class="hint">${hint}</span>`}</label>`;
}

function LanguageStep({ draft, update, next }) {
  const [offered, setOffered] = useState(null);
  useEffect(() => {
    languagesOffered().then((l) => setOffered(l.offered)).catch(() => setOffered(["en", "bs", "hr", "sr-Cyrl", "sr-Latn", "ar", "fa", "fa-AF", "ps", "ur", "fr", "bn"]));
  }, []);
  if (!offered) return html`<p>${t("loading")}</p>`;
  return html`<form class="card" onSubmit=${(e) => (e.preventDefault(), next())}>
    <h1>${t("step_languages")}</h1>
    <${Field} label=${t("person_language")}>
      <select name="person-language" value=${draft.personLanguage} onChange=${(e) => update({ personLanguage: e.target.value })}>
        ${offered.map((code) => html`<option value=${code} lang=${code}>${QUESTIONNAIRE_LANGUAGE_NAMES[code] ?? code} (${code})</option>`)}
      </select>
    <//>
    <p class="hint">${t("your_language_hint")}</p>
    <button type="submit" class="primary">${t("next")}</button>
  </form>`;
}

function PersonStep({ draft, update, next, back }) {
  const s = draft.subject;
  const set = (fields) => update({ subject: { ...s, ...fields } });
  const place = draft.place;
  const setPlace = (fields) => update({ place: { ...place, ...fields } });
  const places = usePlaces();
  const setMunicipality = (name) => {
    const known = places.find((p) => p.name === name);
    setPlace(known ? { municipality: name, entity: known.entity, canton: known.canton ?? "" } : { municipality: name });
  };
  const ageKnown = Boolean(s.date_of_birth) || (s.age_estimate !== "" && s.age_estimate !== undefined && s.age_estimate !== null);
  const child = isChild(s, draft.possiblyMinor);
  return html`<form class="card" onSubmit=${(e) => (e.preventDefault(), next())}>
    <h1>${t("step_person")}</h1>
    <p class="hint">${t("identity_hint")}</p>
    <div class="row">
      <${Field} label=${t("given_name")}><input name="given_name" autocomplete="off" value=${s.given_name} onInput=${(e) => set({ given_name: e.target.value })} /><//>
      <${Field} label=${t("family_name")}><input name="family_name" autocomplete="off" value=${s.family_name} onInput=${(e) => set({ family_name: e.target.value })} /><//>
    </div>
    <div class="row">
      <${Field} label=${t("date_of_birth")}><input type="date" name="date_of_birth" value=${s.date_of_birth} onInput=${(e) => set({ date_of_birth: e.target.value })} /><//>
      <${Field} label=${t("age_estimate")}><input type="number" name="age_estimate" min="0" max="120" inputmode="numeric" value=${s.age_estimate} onInput=${(e) => set({ age_estimate: e.target.value })} /><//>
    </div>
    ${!ageKnown &&
    html`<label class="check"
      ><input type="checkbox" name="possibly_minor" checked=${draft.possiblyMinor !== false} onChange=${(e) => update({ possiblyMinor: e.target.checked })} />
      ${t("possibly_minor")}</label
    >`}
    <p class=${child ? "notice child" : "notice"} role="status" data-instrument=${child ? "child" : "adult"}>
      ${child ? t("instrument_child") : t("instrument_adult")}
    </p>
    <div class="row">
      <${Field} label=${t("sex")}>
        <select name="sex" value=${s.sex} onChange=${(e) => set({ sex: e.target.value })}>
          ${SEXES.map((code) => html`<option value=${code}>${t(`sex_${code}`)}</option>`)}
        </select>
      <//>
      <${Field} label=${t("citizenship")} hint=${t("citizenship_hint")}>
        <input name="citizenship" maxlength="3" autocomplete="off" value=${s.citizenship} onInput=${(e) => set({ citizenship: e.target.value.toUpperCase() })} />
      <//>
    </div>
    <${Field} label=${t("phone")}><input type="tel" name="phone" autocomplete="off" value=${s.phone} onInput=${(e) => set({ phone: e.target.value })} /><//>
    <div class="row">
      <${Field} label=${t("document_type")}>
        <select name="document_type" value=${s.document_type} onChange=${(e) => set({ document_type: e.target.value })}>
          ${DOCUMENT_TYPES.map((code) => html`<option value=${code}>${t(`doc_${code}`)}</option>`)}
        </select>
      <//>
      <${Field} label=${t("document_number")}><input name="document_number" autocomplete="off" value=${s.document_number} onInput=${(e) => set({ document_number: e.target.value })} /><//>
    </div>
    <fieldset>
      <legend>${t("place")}</legend>
      <div class="row">
        <${Field} label=${t("entity")}>
          <select name="entity" value=${place.entity} onChange=${(e) => setPlace({ entity: e.target.value })}>
            ${ENTITIES.map((code) => html`<option value=${code}>${t(`entity_${code}`)}</option>`)}
          </select>
        <//>
        ${place.entity === "FBIH" &&
        html`<${Field} label=${t("canton")}>
          <input type="number" name="canton" min="1" max="10" value=${place.canton} onInput=${(e) => setPlace({ canton: e.target.value })} />
        <//>`}
      </div>
      <${Field} label=${t("municipality")}><input name="municipality" list="municipalities" autocomplete="off" value=${place.municipality} onInput=${(e) => setMunicipality(e.target.value)} /><//>
      <datalist id="municipalities">${places.map((p) => html`<option value=${p.name}>${p.official_cyrillic}</option>`)}</datalist>
    </fieldset>
    <div class="buttons">
      <button type="button" onClick=${back}>${t("back")}</button>
      <button type="submit" class="primary">${t("next")}</button>
    </div>
  </form>`;
}

export function Beside({ mine, theirs, personLang, id }) {
  // The screener reads their own line; the person's line is shown beside it, in its own direction.
  return html`<span class="beside" id=${id}>
    <span class="mine">${mine}</span>
    ${theirs && theirs !== mine && html`<span class="theirs" lang=${personLang} dir=${dirOf(personLang)}>${theirs}</span>`}
  </span>`;
}

function ConsentStep({ draft, update, next, back, pair }) {
  const consent = pair.screener.consent;
  return html`<form class="card" onSubmit=${(e) => (e.preventDefault(), next())}>
    <h1>${t("step_consent")}</h1>
    <p class="hint">${t("consent_read_out", { version: consent.version })}</p>
    <blockquote class="consent"><${Beside} mine=${consent.text} theirs=${pair.person.consent.text} personLang=${draft.personLanguage} /></blockquote>
    <fieldset>
      <legend>${t("consent_question")}</legend>
      ${["given", "declined"].map(
        (value) => html`<label class="check"
          ><input type="radio" name="consent" value=${value} checked=${draft.consent === value} onChange=${() => update({ consent: value })} required />
          ${t(`consent_${value}`)}</label
        >`,
      )}
    </fieldset>
    ${draft.consent === "declined" && html`<p class="notice">${t("consent_declined_note")}</p>`}
    <div class="buttons">
      <button type="button" onClick=${back}>${t("back")}</button>
      <button type="submit" class="primary">${t("start_questions")}</button>
    </div>
  </form>`;
}

export function Answer({ q, value, onChange, labelledBy }) {
  const name = `q-${q.id}`;
  if (q.type === "yes_no" || q.type === "yes_no_unsure" || q.type === "single_choice") {
    const options =
      q.type === "single_choice"
        ? q.options.map((o) => [o.code, o.label])
        : (q.type === "yes_no" ? ["yes", "no"] : ["yes", "no", "unsure", "declined"]).map((c) => [c, t(`answer_${c}`)]);
    return html`<div role="radiogroup" aria-labelledby=${labelledBy} class="options">
      ${options.map(
        ([code, label]) => html`<label class="option"
          ><input type="radio" name=${name} value=${code} checked=${value === code} onChange=${() => onChange(code)} />${label}</label
        >`,
      )}
    </div>`;
  }
  if (q.type === "multiple_choice") {
    const chosen = Array.isArray(value) ? value : [];
    return html`<div role="group" aria-labelledby=${labelledBy} class="options">
      ${q.options.map(
        (o) => html`<label class="option"
          ><input
            type="checkbox"
            name=${name}
            value=${o.code}
            checked=${chosen.includes(o.code)}
            onChange=${(e) => onChange(e.target.checked ? [...chosen, o.code] : chosen.filter((c) => c !== o.code))}
          />${o.label}</label
        >`,
      )}
    </div>`;
  }
  const type = q.type === "number" ? "number" : q.type === "date" ? "date" : "text";
  return html`<input
    type=${type}
    name=${name}
    aria-labelledby=${labelledBy}
    value=${value ?? ""}
    onChange=${(e) => onChange(e.target.value === "" ? null : type === "number" ? Number(e.target.value) : e.target.value)}
  />`;
}

// Section n of count and the questions answered so far (shared by real and practice screenings);
// children add to the bar (the wizard's "saved" status).
export function SectionProgress({ index, count, done, children }) {
  const answered = t("answered_of", { n: done.answered, total: done.total });
  return html`<div class="progress" role="group" aria-label=${t("progress")}>
    <span>${t("section_of", { n: index + 1, total: count })}</span>
    <progress max=${done.total} value=${done.answered} aria-label=${answered}></progress>
    <span>${answered}</span>
    ${children}
  </div>`;
}

/** The visible section holding the first of `ids` (the sections list counts only those with a question asked). */
export function sectionOf(questionnaire, answers, ids) {
  const byId = questionIndex(questionnaire);
  const sections = questionnaire.sections.filter((s) => s.questions.some((q) => isShown(q, answers, byId)));
  const found = sections.findIndex((s) => s.questions.some((q) => ids.includes(q.id)));
  return found < 0 ? 0 : found;
}

function QuestionsStep({ draft, update, pair, backend, finish, back, flagged = {} }) {
  const questionnaire = pair.screener;
  const byId = questionIndex(questionnaire);
  const personById = questionIndex(pair.person);
  const sections = questionnaire.sections.filter((s) => s.questions.some((q) => isShown(q, draft.answers, byId)));
  const index = Math.min(draft.section ?? 0, sections.length - 1);
  const section = sections[index];
  const personSection = pair.person.sections.find((s) => s.id === section.id);
  const done = progress(questionnaire, draft.answers);
  const [saving, setSaving] = useState(null);
  const [error, setError] = useState(null);
  const heading = useRef(null);
  useEffect(() => heading.current?.focus(), [index]);

  const answer = async (id, value) => {
    const answers = { ...draft.answers, [id]: value };
    const cleared = hiddenAnswers(answers, byId);
    for (const key of Object.keys(cleared)) delete answers[key];
    update({ answers });
    setSaving("saving");
    try {
      await backend.save({ [id]: value, ...cleared }, answers);
      setSaving("saved");
      setError(null);
    } catch (e) {
      setSaving(null);
      setError(e.message);
    }
  };
  const last = index === sections.length - 1;
  return html`<section class="card questions">
    <${SectionProgress} index=${index} count=${sections.length} done=${done}>
      <span class="saved" role="status">${saving === "saving" ? t("saving") : saving === "saved" ? t("saved") : ""}</span>
    <//>
    <h1 tabindex="-1" ref=${heading}><${Beside} mine=${section.title} theirs=${personSection?.title} personLang=${draft.personLanguage} /></h1>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <ol class="question-list">
      ${section.questions
        .filter((q) => isShown(q, draft.answers, byId))
        .map(
          (q) => html`<li class=${flagged[q.id] ? "question flagged" : "question"} key=${q.id} data-question=${q.id}>
            <p class="question-text"><${Beside} id=${`label-${q.id}`} mine=${q.text} theirs=${personById[q.id]?.text} personLang=${draft.personLanguage} /></p>
            ${q.urgent && html`<p class="hint urgent">${t("urgent_question")}</p>`}
            ${flagged[q.id] && html`<p class="error" id=${`flag-${q.id}`}>${flagged[q.id]}</p>`}
            <${Answer} q=${q} value=${draft.answers[q.id]} labelledBy=${`label-${q.id}`} onChange=${(v) => answer(q.id, v)} />
          </li>`,
        )}
    </ol>
    <div class="buttons">
      <button type="button" onClick=${() => (index === 0 ? back() : update({ section: index - 1 }))}>${t("back")}</button>
      ${last
        ? html`<button type="button" class="primary" onClick=${finish}>${t("submit")}</button>`
        : html`<button type="button" class="primary" onClick=${() => update({ section: index + 1 })}>${t("next_section")}</button>`}
    </div>
  </section>`;
}

export function emptyDraft() {
  return {
    step: "languages",
    personLanguage: "fa-AF",
    subject: { given_name: "", family_name: "", date_of_birth: "", age_estimate: "", sex: "UNK", citizenship: "", phone: "", document_type: "passport", document_number: "" },
    place: { entity: "FBIH", canton: "", municipality: "" },
    possiblyMinor: null,
    consent: null,
    answers: {},
    section: 0,
  };
}

/** The body of POST /screenings from the draft (empty fields left out). */
export function createBody(draft, apiPersonLanguage) {
  const s = draft.subject;
  const subject = { sex: s.sex || "UNK", citizenship: /^[A-Z]{2}$/.test(s.citizenship) ? s.citizenship : "UNK" };
  for (const name of ["given_name", "family_name", "date_of_birth", "phone"]) if (s[name]) subject[name] = s[name];
  if (s.age_estimate !== "" && s.age_estimate !== null && s.age_estimate !== undefined) subject.age_estimate = Number(s.age_estimate);
  if (s.document_number) subject.documents = [{ type: s.document_type, number: s.document_number }];
  const ageKnown = Boolean(subject.date_of_birth) || subject.age_estimate !== undefined;
  if (!ageKnown) subject.possibly_minor = draft.possiblyMinor !== false;
  const child = isChild(s, draft.possiblyMinor);
  const place = { entity: draft.place.entity };
  if (draft.place.entity === "FBIH" && draft.place.canton) place.canton = Number(draft.place.canton);
  if (draft.place.municipality) place.municipality = draft.place.municipality;
  const body = { instrument: child ? "child" : "adult", language: apiPersonLanguage, subject, place };
  if (!child) body.consent = { text_version: draft.consentVersion, referral: draft.consent };
  return body;
}

/** `refusal`: the problem the server answered a queued screening with (422); shown once the questionnaire is here. */
export function Wizard({ draft, setDraft, backend, refusal = null }) {
  const [pair, setPair] = useState(null);
  const [error, setError] = useState(null);
  const update = (fields) => {
    const next = { ...draft, ...fields };
    setDraft(next);
    backend.remember?.(next);
  };
  // Each step is a new screen at the same address: the keyboard starts at its heading.
  const step = useRef(draft.step);
  useEffect(() => {
    if (step.current !== draft.step) focusHeading();
    step.current = draft.step;
  }, [draft.step]);
  const child = isChild(draft.subject, draft.possiblyMinor);
  const code = draft.instrument ?? (child ? "child" : "adult");
  useEffect(() => {
    if (draft.step === "languages") return;
    loadPair(code, uiLanguage(), draft.personLanguage)
      .then(setPair)
      .catch((e) => setError(e.message));
  }, [code, draft.personLanguage, draft.step === "languages", uiLanguage()]);

  const begin = async () => {
    setError(null);
    try {
      const consentVersion = pair.screener.consent.version;
      const body = createBody({ ...draft, consentVersion }, pair.apiPersonLanguage);
      await backend.start(body);
      update({ step: "questions", instrument: body.instrument, consentVersion, section: 0 });
    } catch (e) {
      setError(e.problem?.errors ? e.problem.errors.map((x) => `${x.field ?? x.loc ?? ""}: ${x.message ?? x.msg ?? ""}`).join("; ") : e.message);
    }
  };
  const [flagged, setFlagged] = useState({});
  const refusalShown = useRef(false);
  useEffect(() => {
    if (!pair || !refusal || refusalShown.current) return;
    refusalShown.current = true;
    const errors = fieldErrors(refusal, questionIndex(pair.screener), t);
    const named = errors.filter((e) => e.question);
    setError(`${t("needs_correction_explain")} ${errors.map((e) => e.text).join("; ")}`);
    setFlagged(Object.fromEntries(named.map((e) => [e.question, e.text])));
    if (named.length && draft.step === "questions") update({ section: sectionOf(pair.screener, draft.answers, named.map((e) => e.question)) });
  }, [pair]);
  const finish = async () => {
    setError(null);
    // The server refuses a submit with a required question unanswered (the skip logic decides which are asked);
    // offline it would only say so once the network returns, so the app asks first, online or offline.
    const missing = missingRequired(pair.screener, draft.answers);
    setFlagged(Object.fromEntries(missing.map((q) => [q.id, t("answer_required")])));
    if (missing.length) {
      setError(t("required_unanswered", { questions: missing.map((q) => `“${q.text}”`).join(", ") }));
      return update({ section: sectionOf(pair.screener, draft.answers, missing.map((q) => q.id)) });
    }
    try {
      await backend.submit(draft);
    } catch (e) {
      setError(e.message);
    }
  };
  const errorBox = error && html`<p class="error card" role="alert">${error}</p>`;
  if (draft.step === "languages") return html`${errorBox}<${LanguageStep} draft=${draft} update=${update} next=${() => update({ step: "person" })} />`;
  if (!pair) return html`${errorBox}<p>${t("loading")}</p>`;
  if (draft.step === "person")
    return html`${errorBox}<${PersonStep}
        draft=${draft}
        update=${update}
        back=${() => update({ step: "languages" })}
        next=${() => (child ? begin() : update({ step: "consent" }))}
      />`;
  if (draft.step === "consent")
    return html`${errorBox}<${ConsentStep} draft=${draft} update=${update} pair=${pair} back=${() => update({ step: "person" })} next=${begin} />`;
  return html`${errorBox}<${QuestionsStep} draft=${draft} update=${update} pair=${pair} backend=${backend} finish=${finish} back=${() => {}} flagged=${Object.fromEntries(Object.entries(flagged).filter(([id]) => draft.answers[id] === undefined || draft.answers[id] === null))} />`;
}
