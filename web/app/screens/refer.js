// Matches with their reasons, then the referral with the handover details the provider needs.
import { html, useEffect, useRef, useState } from "../html.js";
import { get, post } from "../api.js";
import { LANGUAGE_NAMES, t } from "../i18n.js";

function ageOf(subject) {
  if (subject?.age_estimate !== undefined && subject?.age_estimate !== null) return subject.age_estimate;
  if (!subject?.date_of_birth) return null;
  const born = new Date(subject.date_of_birth);
  return Math.floor((Date.now() - born.getTime()) / (365.2425 * 24 * 3600 * 1000));
}

// The directory speaks ISO 639 codes: a service that speaks Farsi serves a person who speaks Dari (fa-AF).
const languageCode = (tag) => tag.split("-")[0];

export function profileOf(screening) {
  const age = ageOf(screening.subject);
  const profile = { sex: screening.sex ?? "UNK", languages: [languageCode(screening.language)], forms: screening.result?.forms ?? [], place: {} };
  if (age !== null) profile.age = age;
  else profile.child = screening.child;
  if (screening.citizenship && screening.citizenship !== "UNK") profile.nationality = screening.citizenship;
  for (const key of ["entity", "canton", "municipality"]) if (screening.place?.[key]) profile.place[key] = screening.place[key];
  return profile;
}

/** Care needs as the API's codes (mobility, medical, child care); each shown in the screener's language. */
export const CARE_NEEDS = [
  "mobility_wheelchair",
  "mobility_reduced",
  "medical_urgent_care",
  "medical_regular_medication",
  "medical_pregnancy",
  "medical_mental_health",
  "childcare_accompanying_children",
  "childcare_infant",
];
const NOTE_MAX = 500;

/** The referral API's handover fields, when this deployment's API has them (read from its OpenAPI). */
async function handoverField() {
  try {
    const doc = await (await fetch("/openapi.json", { cache: "no-store" })).json();
    const schema = Object.entries(doc.components.schemas).find(([name]) => name.endsWith("ReferralCreate"))?.[1];
    return schema?.properties?.handover ? "handover" : null;
  } catch {
    return null;
  }
}

function Handover({ screening, match, onSent }) {
  const [form, setForm] = useState({ contact_name: "", contact_phone: "", expected_arrival: "", interpreter_language: screening.language, needs: [], note: "", urgent: Boolean(screening.result?.urgent) });
  const [error, setError] = useState(null);
  const set = (fields) => setForm({ ...form, ...fields });
  // The form opens below every match: take the keyboard there rather than leave it on the match's button.
  const heading = useRef(null);
  useEffect(() => heading.current?.focus(), [match.service_id]);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const body = {
      screening_id: screening.id,
      service_id: match.service_id,
      urgent: form.urgent,
      profile: profileOf(screening),
    };
    if (!screening.child) body.consent = { recorded: screening.consent?.referral === "given", text_version: screening.consent?.text_version ?? undefined };
    const field = await handoverField();
    if (field) {
      const handover = {};
      if (form.contact_name) handover.contact_name = form.contact_name;
      if (form.contact_phone) handover.contact_phone = form.contact_phone;
      if (form.expected_arrival) handover.expected_arrival = new Date(form.expected_arrival).toISOString();
      if (form.interpreter_language) handover.interpreter_language = form.interpreter_language;
      if (form.needs.length) handover.needs = form.needs;
      if (form.note.trim()) handover.note = form.note.trim();
      body[field] = handover;
    }
    try {
      const referral = await post("/api/v1/referrals", body, { "Idempotency-Key": crypto.randomUUID() });
      onSent(referral);
    } catch (err) {
      setError(err.problem?.errors ? err.problem.errors.map((x) => x.field ?? x.loc).join(", ") + ": " + err.message : err.message);
    }
  };
  return html`<form class="card" onSubmit=${submit}>
    <h2 tabindex="-1" ref=${heading}>${t("handover_title", { name: match.name })}</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <label class="field"><span class="label">${t("handover_contact")}</span><input name="contact_name" autocomplete="name" value=${form.contact_name} onInput=${(e) => set({ contact_name: e.target.value })} /></label>
    <label class="field"><span class="label">${t("handover_phone")}</span><input type="tel" name="contact_phone" autocomplete="tel" value=${form.contact_phone} onInput=${(e) => set({ contact_phone: e.target.value })} /></label>
    <label class="field"><span class="label">${t("handover_arrival")}</span><input type="datetime-local" name="expected_arrival" value=${form.expected_arrival} onInput=${(e) => set({ expected_arrival: e.target.value })} /></label>
    <label class="field"
      ><span class="label">${t("handover_interpreter")}</span>
      <select name="interpreter_language" value=${form.interpreter_language} onChange=${(e) => set({ interpreter_language: e.target.value })}>
        <option value="">${t("none")}</option>
        ${Object.entries(LANGUAGE_NAMES).map(([code, name]) => html`<option value=${code}>${name} (${code})</option>`)}
      </select></label
    >
    <fieldset class="field">
      <legend class="label">${t("handover_needs")}</legend>
      ${CARE_NEEDS.map(
        (code) => html`<label class="check"
          ><input type="checkbox" name="needs" value=${code} checked=${form.needs.includes(code)}
            onChange=${(e) => set({ needs: e.target.checked ? [...form.needs, code] : form.needs.filter((n) => n !== code) })} />${t(`need_${code}`)}</label
        >`,
      )}
    </fieldset>
    <label class="field"
      ><span class="label">${t("handover_note")}</span>
      <textarea name="note" rows="3" maxlength=${NOTE_MAX} aria-describedby="note-hint" value=${form.note} onInput=${(e) => set({ note: e.target.value })}></textarea>
      <span class="hint" id="note-hint">${t("handover_note_hint", { n: NOTE_MAX - form.note.length })}</span></label
    >
    <label class="check"><input type="checkbox" name="urgent" checked=${form.urgent} onChange=${(e) => set({ urgent: e.target.checked })} />${t("urgent")}</label>
    <button type="submit" class="primary">${t("refer")}</button>
  </form>`;
}

export function Refer({ id }) {
  const [screening, setScreening] = useState(null);
  const [matches, setMatches] = useState(null);
  const [chosen, setChosen] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    (async () => {
      const row = await get(`/api/v1/screenings/${id}`);
      setScreening(row);
      const needs = (row.result?.recommended_service_types ?? []).filter((n) => n !== "interpretation");
      const found = await post("/api/v1/matches", { ...profileOf(row), needs: needs.length ? needs : ["social_welfare"], urgent: Boolean(row.result?.urgent) });
      setMatches(found.matches);
    })().catch((e) => setError(e.message));
  }, [id]);
  if (error) return html`<p class="error card" role="alert">${error}</p>`;
  if (!matches) return html`<p>${t("loading")}</p>`;
  const sent = (referral) => (location.hash = `#/referrals/${referral.id}`);
  return html`<section class="card">
      <h1>${t("matches_title")}</h1>
      ${matches.length === 0 && html`<p>${t("no_matches")}</p>`}
      <ul class="matches">
        ${matches.map(
          (m) => html`<li class=${chosen?.service_id === m.service_id ? "chosen" : ""}>
            <h2>${m.name}</h2>
            <p class="hint">${t(`service_${m.service_type}`)}${m.distance_km != null ? ` · ${Math.round(m.distance_km)} km` : ""}${m.available != null ? ` · ${t("places_free", { n: m.available })}` : ""}</p>
            <ul class="reasons">
              ${m.reasons.map((r) => html`<li>${r}</li>`)}
            </ul>
            <button type="button" onClick=${() => setChosen(m)} aria-pressed=${chosen?.service_id === m.service_id}>${t("choose")}</button>
          </li>`,
        )}
      </ul>
    </section>
    ${chosen && html`<${Handover} screening=${screening} match=${chosen} onSent=${sent} />`}`;
}
