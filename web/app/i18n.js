// The screener's own language: one message catalogue per language (i18n/<code>.js), English as fallback.
// Only English comes with the app; the screener's catalogue is fetched when chosen (the gateway
// announces the browser language's one with the page, so it arrives with the app, not after it).
import en from "./i18n/en.js";

const CATALOGUES = { en };
const LOAD = { bs: () => import("./i18n/bs.js"), fa: () => import("./i18n/fa.js") };
// Croatian and Serbian screeners read Bosnian rather than English until they have catalogues of their own.
const NEAREST = { hr: "bs", sr: "bs" };
export const UI_LANGUAGES = [
  ["en", "English"],
  ["bs", "Bosanski"],
  ["fa", "فارسی"],
];
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

const PREFERENCE = "putokaz.ui-language"; // a preference, never anything about a person or a token
let current = "en";

export function uiLanguage() {
  return current;
}

/** Switch the screener's language (fetching its catalogue first when it is not loaded yet). */
export async function setUiLanguage(lang) {
  const code = LOAD[NEAREST[lang] ?? lang] ? NEAREST[lang] ?? lang : "en";
  if (!CATALOGUES[code]) {
    try {
      CATALOGUES[code] = (await LOAD[code]()).default;
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
  return setUiLanguage(saved || (navigator.language || "en").split("-")[0]);
}

export function t(key, vars) {
  let text = CATALOGUES[current][key] ?? en[key] ?? key;
  if (vars) for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}
