// The annual report: the year's release (exact official tables, small cells hidden and audited), ready to
// print (console.css keeps only the report on paper), and the Eurostat crim_thb tables of the explorer
// (a released year's are its release's).
import { html, useEffect, useState } from "../html.js";
import { ApiError, get, post } from "../api.js";
import { t } from "../i18n.js";
import { consoleLocale, label, Loading, Problem } from "./common.js";
import { PublishedTable } from "./tables.js";


export function AnnualReport({ year }) {
  const [release, setRelease] = useState(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const load = () =>
    get(`/api/v1/releases/${year}`)
      .then((r) => {
        setRelease(r);
        setMissing(false);
      })
      .catch((e) => (e instanceof ApiError && e.status === 404 ? setMissing(true) : setError(e)));
  useEffect(() => {
    setRelease(null);
    setMissing(false);
    setError(null);
    load();
  }, [year]);
  const publish = () => {
    setBusy(true);
    post("/api/v1/releases", { year })
      .then(setRelease)
      .catch(setError)
      .finally(() => setBusy(false));
  };
  if (error) return html`<${Problem} error=${error} />`;
  if (missing)
    return html`<section class="card">
      <h2>${t("console_report_heading", { year })}</h2>
      <p>${t("console_not_released", { year })}</p>
      <button type="button" class="primary" disabled=${busy} onClick=${publish}>${t("console_release_button", { year })}</button>
    </section>`;
  if (!release) return html`<${Loading} />`;
  const hidden = release.audit?.counts ?? {};
  const computed = new Date(release.created_at).toLocaleDateString(consoleLocale());
  return html`<article class="report" aria-labelledby="report-title">
    <header class="report-head">
      <h2 id="report-title">${t("console_report_title", { year })}</h2>
      <p>${t("console_report_intro", { version: release.version, versions: release.versions, date: computed })}</p>
      <p class="hint">${Object.entries(hidden).map(([k, v]) => `${label("audit", k)}: ${v}`).join(" · ")}</p>
      <button type="button" class="no-print" onClick=${() => window.print()}>${t("console_print_pdf")}</button>
    </header>
    ${Object.entries(release.tables).map(
      ([name, table]) => html`<${PublishedTable}
        name=${name}
        table=${table}
        title=${`${table.title}, ${year}`}
        unit=${t(table.unit === "persons" ? "console_unit_persons" : "console_unit_registered")}
        filename=${`release-${year}-v${release.version}-${name}.csv`}
        legend=${[t("console_release_legend")]}
      />`,
    )}
  </article>`;
}

export function Eurostat({ year }) {
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setReport(null);
    setError(null);
    get(`/api/v1/reports/eurostat?year=${year}`).then(setReport).catch(setError);
  }, [year]);
  if (error) return html`<${Problem} error=${error} />`;
  if (!report) return html`<${Loading} />`;
  return html`<section aria-labelledby="eurostat-title">
    <h2 id="eurostat-title">${t("console_eurostat")}, ${year}</h2>
    <p>${report.definition}</p>
    <p class="hint">
      ${report.notes.join(" ")} ${t("console_eurostat_hint")}
      (<a href=${`#/console/report/${year}`}>${t("console_report_link", { year })}</a>).
    </p>
    ${Object.entries(report.tables).map(
      ([name, table]) => html`<${PublishedTable}
        name=${`eurostat-${name}`}
        table=${table}
        title=${t("console_eurostat_table", { name: label("eurostat", name).toLowerCase(), year })}
        unit=${t("console_unit_registered")}
        filename=${`eurostat-crim_thb-${year}-${name}.csv`}
        legend=${[report.release ? t("console_eurostat_released_legend", { year, version: report.release.version }) : t("console_eurostat_legend")]}
      />`,
    )}
  </section>`;
}
