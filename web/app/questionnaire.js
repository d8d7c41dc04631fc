// Questionnaires: loading one in two languages, and the skip logic that decides what is asked.
import { get } from "./api.js";

/** The API's code for a person's language: a version without a language (an older one) falls back to its base. */
export function apiLanguage(lang, available) {
  if (available.includes(lang)) return lang;
  const base = lang.split("-")[0];
  return available.includes(base) ? base : "en";
}

export async function languagesOffered() {
  const list = await get("/api/v1/questionnaires?lang=en");
  const available = list.items[0]?.languages ?? ["en"];
  // `sr` is an alias of sr-Cyrl: offered once, under its own name.
  const offered = available.filter((code) => !(code === "sr" && available.includes("sr-Cyrl")));
  if (available.includes("fa") && !available.includes("fa-AF")) offered.splice(offered.indexOf("fa") + 1, 0, "fa-AF");
  return { available, offered };
}

/** The screener's copy from a two-language answer (`?also=`): every text taken from its `also` side. */
export function screenerSide(both) {
  return {
    ...both,
    language: both.also.language,
    direction: both.also.direction,
    title: both.also.title,
    consent: { ...both.consent, text: both.consent.also.text, text_status: both.consent.also.text_status },
    sections: both.sections.map((s) => ({
      ...s,
      title: s.also.title,
      questions: s.questions.map((q) => ({ ...q, text: q.also.text, help: q.also.help, options: q.also.options ?? q.options })),
    })),
  };
}

/** The screener's copy and the person's copy of one instrument (the same copy when languages agree). */
export async function loadPair(code, screenerLang, personLang) {
  const { available } = await languagesOffered();
  const mine = apiLanguage(screenerLang, available);
  const theirs = apiLanguage(personLang, available);
  if (mine !== theirs) {
    try {
      // One answer with both languages, question by question (the person's, and the screener's beside it).
      const both = await get(`/api/v1/questionnaires/${code}?lang=${theirs}&also=${mine}`);
      return { screener: screenerSide(both), person: both, apiPersonLanguage: theirs };
    } catch {
      // Offline, the service worker holds each language on its own (sync.js fetches them one by one).
    }
  }
  const [screener, person] = await Promise.all([
    get(`/api/v1/questionnaires/${code}?lang=${mine}`),
    mine === theirs ? null : get(`/api/v1/questionnaires/${code}?lang=${theirs}`),
  ]);
  return { screener, person: person ?? screener, apiPersonLanguage: theirs };
}

/** The screener's copy of one instrument (kept by the service worker for offline use). */
export async function screenerCopy(code, screenerLang) {
  const { available } = await languagesOffered();
  return get(`/api/v1/questionnaires/${code}?lang=${apiLanguage(screenerLang, available)}`);
}

/** A refusal's field errors as the screener reads them: an answer's error names the question in the screener's
 * language, and "required" is said in it; any other text is the server's. `byId` may be empty (no copy). */
export function fieldErrors(problem, byId, say) {
  return (problem?.errors ?? []).map((e) => {
    const field = e.field ?? e.loc ?? "";
    const question = field.startsWith("answers.") ? byId[field.slice("answers.".length)] : null;
    return {
      field,
      question: question?.id ?? null,
      text: `${question ? `“${question.text}”` : field}: ${e.message === "required" ? say("answer_required") : (e.message ?? e.msg ?? "")}`,
    };
  });
}

export function questionIndex(questionnaire) {
  const byId = {};
  for (const section of questionnaire.sections) for (const q of section.questions) byId[q.id] = q;
  return byId;
}

export function isShown(question, answers, byId) {
  const rule = question.show_if;
  if (!rule) return true;
  const parent = byId[rule.question];
  if (parent && !isShown(parent, answers, byId)) return false;
  const answer = answers[rule.question];
  if (Array.isArray(answer)) return answer.some((a) => rule.any_of.includes(a));
  return answer !== undefined && answer !== null && rule.any_of.includes(String(answer));
}

/** Answers that the latest change has hidden: the API is told to clear them (null), never left behind. */
export function hiddenAnswers(answers, byId) {
  const cleared = {};
  for (const [id, value] of Object.entries(answers))
    if (value !== null && value !== undefined && byId[id] && !isShown(byId[id], answers, byId)) cleared[id] = null;
  return cleared;
}

const answered = (value) => value !== undefined && value !== null && value !== "";

/** The required questions still unanswered among those asked (the server's check before it accepts a submit). */
export function missingRequired(questionnaire, answers) {
  const byId = questionIndex(questionnaire);
  return Object.values(byId).filter((q) => q.required && isShown(q, answers, byId) && !answered(answers[q.id]));
}

export function progress(questionnaire, answers) {
  const byId = questionIndex(questionnaire);
  const shown = Object.values(byId).filter((q) => isShown(q, answers, byId));
  return { answered: shown.filter((q) => answered(answers[q.id])).length, total: shown.length };
}

export function isChild(subject, possiblyMinor) {
  let age = subject.age_estimate;
  if (subject.date_of_birth) {
    const born = new Date(subject.date_of_birth);
    const now = new Date();
    age = now.getFullYear() - born.getFullYear() - (now < new Date(now.getFullYear(), born.getMonth(), born.getDate()) ? 1 : 0);
  }
  if (age === undefined || age === null || age === "" || Number.isNaN(Number(age))) return possiblyMinor !== false;
  return Number(age) < 18;
}
