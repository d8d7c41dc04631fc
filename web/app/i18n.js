// The screener's own language: one message catalogue per language (i18n/<code>.js), English as fallback.
// Only English comes with the app; the screener's catalogue is fetched when chosen (the gateway
// announces the browser language's one with the page, so it arrives with the app, not after it).
// Every catalogue but English is a draft (its header says so; docs/web.md lists their review status).
import en from "./i18n/en.js";

const CATALOGUES = { en };
const LOAD = {
  bs: () => import("./i18n/bs.js"),
  hr: () => import("./i18n/hr.js"),
  "sr-Latn": () => import("./i18n/sr-Latn.js"),
  "sr-Cyrl": () => import("./i18n/sr-Cyrl.js"),
  ar: () => import("./i18n/ar.js"),
  fa: () => import("./i18n/fa.js"),
  "fa-AF": () => import("./i18n/fa-AF.js"),
  ps: () => import("./i18n/ps.js"),
  ur: () => import("./i18n/ur.js"),
  fr: () => import("./i18n/fr.js"),
  bn: () => import("./i18n/bn.js"),
};
// The coordinator's console has texts of its own (console_ keys) in the office languages, fetched with
// the console only (a screener's phone never loads them); in another language the console is English.
const CONSOLE_LOAD = {
  en: () => import("./i18n/console/en.js"),
  bs: () => import("./i18n/console/bs.js"),
  hr: () => import("./i18n/console/hr.js"),
  "sr-Latn": () => import("./i18n/console/sr-Latn.js"),
  "sr-Cyrl": () => import("./i18n/console/sr-Cyrl.js"),
};
const CONSOLE_TEXTS = {};
export const CONSOLE_LANGUAGES = Object.keys(CONSOLE_LOAD);
export const consoleTextsLoaded = () => Boolean(CONSOLE_TEXTS.en && (CONSOLE_TEXTS[current] || !CONSOLE_LOAD[current]));

/** Fetch the console's texts in the screener's language (and English, their fallback) once. */
export async function loadConsoleTexts() {
  for (const code of new Set(["en", current])) {
    if (CONSOLE_LOAD[code] && !CONSOLE_TEXTS[code]) CONSOLE_TEXTS[code] = (await CONSOLE_LOAD[code]()).default;
  }
}

export const UI_LANGUAGES = [
  ["en", "English"],
  ["bs", "Bosanski"],
  ["hr", "Hrvatski"],
  ["sr-Latn", "Srpski (latinica)"],
  ["sr-Cyrl", "Српски (ћирилица)"],
  ["ar", "العربية"],
  ["fa", "فارسی"],
  ["fa-AF", "دری"],
  ["ps", "پښتو"],
  ["ur", "اردو"],
  ["fr", "Français"],
  ["bn", "বাংলা"],
];

/** The catalogue for a language tag (a browser's, a saved choice): Serbian is Cyrillic unless the tag says
 * Latin (sr-Latn-BA), Persian of Afghanistan (fa-AF, or prs) is Dari; English when there is none. The
 * gateway's `catalogue_for` answers the same for Accept-Language. */
export function catalogueFor(tag) {
  const parts = String(tag || "").toLowerCase().split(/[-_]/);
  const language = parts[0];
  if (language === "sr") return parts.includes("latn") ? "sr-Latn" : "sr-Cyrl";
  if (language === "prs" || (language === "fa" && parts.includes("af"))) return "fa-AF";
  return LOAD[language] ? language : "en";
}

// Names of the person's languages, written in that language (what the person recognises).
export const LANGUAGE_NAMES = {
  en: "English",
  bs: "Bosanski",
  hr: "Hrvatski",
  sr: "Srpski",
  ar: "العربية",
  fa: "فارسی",
  "fa-AF": "دری (فارسی افغانستان)",
  ps: "پښتو",
  ur: "اردو",
  fr: "Français",
  bn: "বাংলা",
};
// The questionnaire's own codes add the two scripts of Serbian as written in BiH (Ijekavian); `sr` is
// served as sr-Cyrl. Kept apart from LANGUAGE_NAMES, which names the directory's (matching) languages.
export const QUESTIONNAIRE_LANGUAGE_NAMES = {
  ...LANGUAGE_NAMES,
  "sr-Cyrl": "Српски (ћирилица)",
  "sr-Latn": "Srpski (latinica)",
};
export const RTL = new Set(["ar", "fa", "fa-AF", "ps", "ur"]);
export const dirOf = (lang) => (RTL.has(lang) ? "rtl" : "ltr");

// The service worker keeps a catalogue when it passes through it (web/sw.js); one fetched before the
// worker took this page over (the first visit) is fetched once more through it, from the HTTP cache.
const CATALOGUE_FILE = /\/(app\.i18n\.|i18n\/)[\w-]+\.js$/;
async function keepForOffline() {
  const workers = navigator.serviceWorker;
  if (!workers) return;
  await workers.ready;
  if (!workers.controller) await new Promise((resolve) => workers.addEventListener("controllerchange", resolve, { once: true }));
  for (const entry of performance.getEntriesByType("resource")) {
    if (CATALOGUE_FILE.test(new URL(entry.name).pathname)) fetch(entry.name).catch(() => {});
  }
}

const PREFERENCE = "putokaz.ui-language"; // a preference, never anything about a person or a token
let current = "en";

export function uiLanguage() {
  return current;
}

/** Switch the screener's language (fetching its catalogue first when it is not loaded yet). */
export async function setUiLanguage(lang) {
  const code = catalogueFor(lang);
  if (!CATALOGUES[code]) {
    try {
      CATALOGUES[code] = (await LOAD[code]()).default;
      keepForOffline();
    } catch {
      return; // offline before the catalogue was ever kept: stay in the current language
    }
  }
  current = code;
  document.documentElement.lang = current;
  document.documentElement.dir = dirOf(current);
  try {
    localStorage.setItem(PREFERENCE, current);
  } catch {
    /* storage may be disabled; the default stays */
  }
}

export function initialUiLanguage() {
  let saved = null;
  try {
    saved = localStorage.getItem(PREFERENCE);
  } catch {
    /* ignore */
  }
  return setUiLanguage(saved || navigator.language || "en");
}

export function t(key, vars) {
  let text = CATALOGUES[current][key] ?? CONSOLE_TEXTS[current]?.[key] ?? en[key] ?? CONSOLE_TEXTS.en?.[key] ?? key;
  if (vars) for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}
