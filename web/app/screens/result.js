// The result in plain words: the outcome, why (per dimension), and what to do next, by whom and when.
// Police can record the identification decision here.
import { html, useEffect, useRef, useState } from "../html.js";
import { get, post } from "../api.js";
import { t, uiLanguage } from "../i18n.js";
import { apiLanguage, languagesOffered, questionIndex } from "../questionnaire.js";

const DIMENSIONS = ["DR", "CR", "AR", "EX", "CD", "AD"];
// The screener's languages the screening API explains a result in (`?ui=`); others use this app's catalogue.
const EXPLAINED_IN = new Set(["en", "bs", "hr", "sr", "sr-Latn", "sr-Cyrl"]);

/** The API's explanation in the screener's language: conditions, dimensions with their indicators, who acts by when. */
function Explanation({ explanation }) {
  const dimensions = explanation.dimensions.filter((d) => d.holds || d.indicators.length);
  return html`<p class="summary">${explanation.summary}</p>
    <h2>${t("next_step")}</h2>
    <ul class="steps">
      ${explanation.next_steps.map((s) => html`<li class=${s.within_hours === 0 ? "urgent" : ""} data-who=${s.who}>${s.text}</li>`)}
    </ul>
    ${dimensions.length > 0 &&
    html`<h2>${t("why")}</h2>
      <ul class="dimensions">
        ${dimensions.map(
          (d) => html`<li data-dimension=${d.dimension}>
            <strong>${d.name}</strong>: ${d.holds ? t("dimension_positive") : t("dimension_some")}
            <ul>
              ${d.indicators.map((i) => html`<li>${i.text}</li>`)}
            </ul>
          </li>`,
        )}
      </ul>`}`;
}

function indicatorTexts(questionnaire) {
  const texts = {};
  if (!questionnaire) return texts;
  for (const q of Object.values(questionIndex(questionnaire))) if (q.indicator) texts[q.indicator.code] = q.text;
  return texts;
}

export function NextSteps({ result, child }) {
  const actions = result?.recommended_actions ?? [];
  const steps = [...actions.map((a) => t(`action_${a}`))];
  if (child && !actions.includes("refer_to_centre_for_social_welfare")) steps.push(t("action_refer_to_centre_for_social_welfare"));
  if (!steps.length) steps.push(t(`next_${result?.outcome ?? "NO_INDICATORS"}`));
  return html`<ul class="steps">
    ${steps.map((s) => html`<li>${s}</li>`)}
  </ul>`;
}

function Decision({ screening, onDone }) {
  const [outcome, setOutcome] = useState("IDENTIFIED_VICTIM");
  const [authority, setAuthority] = useState("");
  const [decidedOn, setDecidedOn] = useState(new Date().toISOString().slice(0, 10));
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    try {
      await post(`/api/v1/screenings/${screening.id}/decisions`, { outcome, authority, decided_on: decidedOn });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="card" onSubmit=${submit}>
    <h2>${t("decision_title")}</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <fieldset>
      <legend>${t("decision_outcome")}</legend>
      ${["IDENTIFIED_VICTIM", "NOT_CONFIRMED"].map(
        (code) => html`<label class="check"><input type="radio" name="decision" value=${code} checked=${outcome === code} onChange=${() => setOutcome(code)} />${t(`outcome_${code}`)}</label>`,
      )}
    </fieldset>
    <label class="field"><span class="label">${t("decision_authority")}</span><input name="authority" required minlength="2" value=${authority} onInput=${(e) => setAuthority(e.target.value)} /></label>
    <label class="field"><span class="label">${t("decision_date")}</span><input type="date" name="decided_on" required value=${decidedOn} onInput=${(e) => setDecidedOn(e.target.value)} /></label>
    <button type="submit" class="primary">${t("decision_record")}</button>
  </form>`;
}

export function Result({ user, id }) {
  const [screening, setScreening] = useState(null);
  const [texts, setTexts] = useState({});
  const [error, setError] = useState(null);
  // Once a decision is recorded the keyboard goes to the notice saying so (the form pressed stays for another).
  const recorded = useRef(null);
  const [decided, setDecided] = useState(false);
  const ui = uiLanguage();
  const load = () =>
    get(`/api/v1/screenings/${id}${EXPLAINED_IN.has(ui) ? `?ui=${ui}` : ""}`)
      .then(async (row) => {
        setScreening(row);
        if (EXPLAINED_IN.has(ui) && row.explanation) return;
        const { available } = await languagesOffered();
        const q = await get(`/api/v1/questionnaires/${row.instrument}/versions/${row.instrument_version}?lang=${apiLanguage(uiLanguage(), available)}`);
        setTexts(indicatorTexts(q));
      })
      .catch((e) => setError(e.message));
  useEffect(() => {
    load();
  }, [id, ui]);
  useEffect(() => {
    if (decided && recorded.current) {
      recorded.current.focus();
      setDecided(false);
    }
  }, [decided, screening]);
  if (error) return html`<p class="error card" role="alert">${error}</p>`;
  if (!screening) return html`<p>${t("loading")}</p>`;
  const result = screening.result;
  const outcome = screening.outcome ?? result?.outcome;
  const positive = (result?.dimensions ?? []).filter((d) => d.positive || d.indicators.length);
  const explained = EXPLAINED_IN.has(ui) && Boolean(screening.explanation);
  const canRefer = !screening.anonymous && ["PRESUMED_VICTIM", "POTENTIAL_VICTIM", "IDENTIFIED_VICTIM"].includes(outcome) || screening.child;
  return html`<section class="card result">
      <h1>${t("result_title")}</h1>
      <p class=${`outcome outcome-${outcome}`} data-outcome=${outcome}><strong>${t(`outcome_${outcome}`)}</strong></p>
      ${explained
        ? html`<${Explanation} explanation=${screening.explanation} />`
        : html`<p>${t(`explain_${outcome}`)}</p>
            ${result?.urgent && html`<p class="warning" role="alert">${t("action_act_now_immediate_safety")}</p>`}
            <h2>${t("next_step")}</h2>
            <${NextSteps} result=${result} child=${screening.child} />
            ${positive.length > 0 &&
            html`<h2>${t("why")}</h2>
              <ul class="dimensions">
                ${positive
                  .sort((a, b) => DIMENSIONS.indexOf(a.dimension) - DIMENSIONS.indexOf(b.dimension))
                  .map(
                    (d) => html`<li data-dimension=${d.dimension}>
                      <strong>${t(`dimension_${d.dimension}`)}</strong>: ${d.positive ? t("dimension_positive") : t("dimension_some")}
                      <ul>
                        ${d.indicators.map((code) => html`<li>${texts[code] ?? code}</li>`)}
                      </ul>
                    </li>`,
                  )}
              </ul>`}`}
      <div class="actions">
        ${canRefer && html`<a class="button primary" href=${`#/refer/${screening.id}`}>${t("find_services")}</a>`}
        <a class="button" href="#/referrals">${t("my_referrals")}</a>
      </div>
      ${screening.decisions?.length > 0 &&
      html`<p class="notice" tabindex="-1" ref=${recorded}>${t("decision_recorded", { outcome: t(`outcome_${screening.outcome}`) })}</p>`}
    </section>
    ${user.roles.includes("police") && screening.state === "submitted" && html`<${Decision} screening=${screening} onDone=${() => load().then(() => setDecided(true))} />`}`;
}
