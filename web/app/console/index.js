// The coordinator's console (#/console/…): the dashboard of a year, the annual report, Eurostat's tables
// and the strategy monitor. A reporter sees only the strategy monitor, scoped to its own measures.
// Kept apart from the frontline screens: main.js routes `#/console` here and knows nothing else of it.
import { html } from "../html.js";
import { t } from "../i18n.js";
import { Dashboard } from "./dashboard.js";
import { AnnualReport, Eurostat } from "./report.js";
import { MeasurePage, PlanLoad, PlanProgress } from "./strategy.js";
import { hasConsole } from "./roles.js";
import { consoleLanguage, Loading, Problem, useConsoleTexts } from "./common.js";

export { CONSOLE_ROLES, hasConsole } from "./roles.js";

// The latest closed year is the default: the current year's figures are still coming in.
const lastYear = () => new Date().getFullYear() - 1;
const YEARS = Array.from({ length: 8 }, (_, i) => lastYear() - i);

function yearOf(text) {
  const year = Number(text);
  return Number.isInteger(year) && year >= 2000 && year <= lastYear() + 1 ? year : lastYear();
}

function Nav({ page, year, coordinator }) {
  const link = (name, href, text) =>
    html`<li><a href=${href} aria-current=${page === name ? "page" : undefined}>${text}</a></li>`;
  return html`<nav class="console-nav no-print" aria-label=${t("console_nav")}>
    <ul>
      ${coordinator && link("dashboard", `#/console/dashboard/${year}`, t("console_dashboard"))}
      ${coordinator && link("report", `#/console/report/${year}`, t("console_annual_report"))}
      ${coordinator && link("eurostat", `#/console/eurostat/${year}`, t("console_eurostat"))}
      ${link("plan", "#/console/plan", t(coordinator ? "console_strategy_monitor" : "console_my_measures"))}
    </ul>
    ${coordinator &&
    ["dashboard", "report", "eurostat"].includes(page) &&
    html`<label class="year"
      >${t("console_year")}
      <select value=${year} onChange=${(e) => (location.hash = `#/console/${page}/${e.target.value}`)}>
        ${YEARS.map((y) => html`<option value=${y}>${y}</option>`)}
      </select></label
    >`}
  </nav>`;
}

export function Console({ user, route }) {
  const texts = useConsoleTexts();
  if (texts instanceof Error) return html`<${Problem} error=${texts} />`;
  if (!texts) return html`<${Loading} />`;
  const coordinator = user.roles.includes("coordinator");
  if (!hasConsole(user)) return html`<p class="card error" role="alert">${t("console_only_for")}</p>`;
  let [page, arg] = route;
  if (!coordinator && page !== "measure") page = "plan";
  page = page || "dashboard";
  const year = yearOf(arg);
  let body;
  if (page === "report") body = html`<${AnnualReport} year=${year} />`;
  else if (page === "eurostat") body = html`<${Eurostat} year=${year} />`;
  else if (page === "plan") body = html`<${PlanProgress} user=${user} planId=${arg} />`;
  else if (page === "load") body = html`<${PlanLoad} />`;
  else if (page === "measure") body = html`<${MeasurePage} user=${user} id=${arg} />`;
  else body = html`<${Dashboard} year=${year} />`;
  const lang = consoleLanguage();
  return html`<div class="console" lang=${lang} dir=${lang === "en" ? "ltr" : undefined}>
    <h1>${t(coordinator ? "console_title" : "console_strategy_monitor")}</h1>
    <${Nav} page=${page} year=${year} coordinator=${coordinator} />
    <div data-screen>${body}</div>
  </div>`;
}
