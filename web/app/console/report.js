// The annual report: the year's release (exact official tables, small cells hidden and audited), ready to
// print (console.css keeps only the report on paper), and the Eurostat crim_thb tables of the explorer.
import { html, useEffect, useState } from "../html.js";
import { ApiError, get, post } from "../api.js";
import { Loading, Problem } from "./common.js";
import { PublishedTable } from "./tables.js";

const RELEASE_LEGEND = ["Exact counts of the registry's release; small cells hidden (primary and secondary suppression)."];

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
      <h2>Annual report ${year}</h2>
      <p>The year ${year} has not been released yet: its official tables are computed, protected and frozen when it is.</p>
      <button type="button" class="primary" disabled=${busy} onClick=${publish}>Release the year ${year}</button>
    </section>`;
  if (!release) return html`<${Loading} />`;
  const hidden = release.audit?.counts ?? {};
  return html`<article class="report" aria-labelledby="report-title">
    <header class="report-head">
      <h2 id="report-title">Trafficking in human beings in Bosnia and Herzegovina: the year ${year}</h2>
      <p>
        Official figures of the registry's release, version ${release.version} of ${release.versions}, computed
        ${new Date(release.created_at).toLocaleDateString("en-GB")}. Counts are exact; a cell of too few people is
        hidden and marked, and a few more are hidden so that it cannot be worked out from the others. Every hidden
        cell's protection was checked by an audit stored with the release.
      </p>
      <p class="hint">${Object.entries(hidden).map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`).join(" · ")}</p>
      <button type="button" class="no-print" onClick=${() => window.print()}>Print or save as PDF</button>
    </header>
    ${Object.entries(release.tables).map(
      ([name, table]) => html`<${PublishedTable}
        name=${name}
        table=${table}
        title=${`${table.title}, ${year}`}
        unit=${table.unit === "persons" ? "Persons" : "Registered victims"}
        filename=${`release-${year}-v${release.version}-${name}.csv`}
        legend=${RELEASE_LEGEND}
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
    <h2 id="eurostat-title">Eurostat crim_thb, ${year}</h2>
    <p>${report.definition}</p>
    <p class="hint">
      ${report.notes.join(" ")} The figures to send to Eurostat are the release's crim_thb tables, in the annual report
      (<a href=${`#/console/report/${year}`}>annual report ${year}</a>).
    </p>
    ${Object.entries(report.tables).map(
      ([name, table]) => html`<${PublishedTable}
        name=${`eurostat-${name}`}
        table=${table}
        title=${`Registered victims ${name.replaceAll("_", " ")}, ${year}`}
        unit="Registered victims"
        filename=${`eurostat-crim_thb-${year}-${name}.csv`}
        legend=${["Perturbed counts (cell key method) of registered victims (presumed and identified)."]}
      />`,
    )}
  </section>`;
}
