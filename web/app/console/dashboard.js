// The dashboard of a year: headline figures with the change from the year before, quarterly trends,
// who the victims were (breakdowns) and how referrals were answered. Every figure comes from the
// registry's explorer: perturbed by the cell key method, except the victims of a released year, which
// are its release's exact tables (hidden cells marked); every chart has its table and its CSV.
import { html, useEffect, useState } from "../html.js";
import { ApiError, get } from "../api.js";
import { t } from "../i18n.js";
import { BarChart, BihMap, change, Figure, formatCount, label, LineChart, Loading, Problem, TOTAL } from "./common.js";

// The requests of the first view, in one place (the bench, bench/registry.py dashboard_requests, asks the same ones).
export function dashboardRequests(year) {
  const from = year - 2;
  const stats = (table, by) => `/api/v1/stats/${table}?year=${year}${by ? `&by=${by}` : ""}`;
  return {
    screenings: `/api/v1/stats/screenings/series?from=${year - 1}&to=${year}&step=year`,
    victims: `/api/v1/stats/victims/series?from=${year - 1}&to=${year}&step=year&by=status`,
    referrals: `/api/v1/stats/referrals/series?from=${year - 1}&to=${year}&step=year&by=status`,
    // No breakdown: a released year publishes its quarters only as such (a breakdown would be refused).
    victimsByQuarter: `/api/v1/stats/victims/series?from=${from}&to=${year}&step=quarter`,
    screeningsByQuarter: `/api/v1/stats/screenings/series?from=${from}&to=${year}&step=quarter`,
    sex: stats("victims", "sex"),
    age_band: stats("victims", "age_band"),
    form: stats("victims", "form"),
    citizenship: stats("victims", "citizenship"),
    entity: stats("victims", "entity"),
    canton: stats("victims", "canton"),
    answer_time: stats("referrals", "answer_time"),
    outcome: stats("referrals", "status"),
  };
}

// A released year's victims are its release's tables, and a breakdown its release does not publish is
// refused (409) naming the release tables to read instead: the dashboard then shows the first of them.
async function explorerOrRelease(url, releases) {
  try {
    return await get(url);
  } catch (error) {
    const source = error instanceof ApiError && error.status === 409 ? error.problem?.release : null;
    if (!source?.tables?.length) throw error;
    releases[source.href] ??= get(source.href);
    const release = await releases[source.href];
    const name = source.tables[0];
    const table = release.tables[name];
    return {
      table: "victims",
      breakdowns: table.dims,
      cells: table.cells,
      perturbed: false,
      release: { year: release.year, version: release.version, table: name, href: source.href },
    };
  }
}

function cellOf(cells, keys) {
  return cells.find((c) => Object.entries(keys).every(([k, v]) => c[k] === v))?.count ?? null;
}

function Kpi({ id, name, now, before, year }) {
  const delta = change(now, before);
  return html`<div class="kpi" data-kpi=${id}>
    <dt>${name}</dt>
    <dd>
      <span class="kpi-value" data-value=${now}>${formatCount(now)}</span>
      <span class="kpi-change"
        >${delta === null
          ? `${year - 1}: ${formatCount(before ?? "–")}`
          : t("console_kpi_change", { delta: `${delta > 0 ? "+" : ""}${delta}`, year: year - 1, before: formatCount(before) })}</span
      >
    </dd>
  </div>`;
}

function headline(answers, year) {
  const [before, now] = [0, 1];
  const screenings = answers.screenings.periods.map((p) => p.cells[0].count);
  const victims = (status, i) => cellOf(answers.victims.periods[i].cells, { status });
  const referrals = answers.referrals.periods.map((p) => cellOf(p.cells, { status: TOTAL }));
  return [
    { id: "screenings", name: t("console_kpi_screenings"), now: screenings[now], before: screenings[before] },
    { id: "presumed", name: t("console_kpi_presumed"), now: victims("presumed", now), before: victims("presumed", before) },
    { id: "identified", name: t("console_kpi_identified"), now: victims("identified", now), before: victims("identified", before) },
    { id: "referrals", name: t("console_referrals"), now: referrals[now], before: referrals[before] },
  ].map((k) => ({ ...k, year }));
}

// The title and the unit are given as catalogue keys. `dimension` names the figure; its cells are keyed by
// the answer's own breakdown (a release table read instead of a refused breakdown has its own: form_group
// for form, citizenship groups for citizenship).
function breakdownFigure(answer, dimension, titleKey, year, unitKey) {
  const [title, unit] = [t(titleKey), t(unitKey)];
  const key = answer.breakdowns?.[0] ?? dimension;
  const labelled = key === "form_group" ? "form" : key; // form groups carry the registry's form labels
  const rows = answer.cells.map((c) => ({ key: c[key], label: label(labelled, c[key]), values: [c.count] }));
  const parts = rows.filter((r) => r.key !== TOTAL);
  const source = answer.release;
  const note = source ? t(key === dimension ? "console_released_note" : "console_released_groups_note", source) : null;
  return html`<${Figure}
    id=${`fig-${dimension}-${answer.table}`}
    title=${`${title}, ${year}`}
    note=${note}
    dimension=${key}
    columns=${[unit]}
    rows=${rows}
    filename=${`${answer.table}-${year}-by-${key}.csv`}
    legend=${[source ? t("console_released_legend", source) : t("console_perturbed_legend")]}
    chart=${MAPPED.has(key)
      ? html`<${BihMap} dimension=${key} values=${Object.fromEntries(parts.map((r) => [r.key, r.values[0]]))} />`
      : html`<${BarChart} categories=${parts.map((r) => r.label)} values=${parts.map((r) => r.values[0])} name=${unit} />`}
  />`;
}

// Entity and canton are drawn on the map of BiH (public-domain municipality boundaries).
export const MAPPED = new Set(["entity", "canton"]);

function quarterFigure(id, title, series, periods, filename, legend) {
  const rows = periods.map((p, i) => ({ key: p, label: p, values: series.map((s) => s.values[i]) }));
  return html`<${Figure}
    id=${id}
    title=${title}
    dimension="quarter"
    columns=${series.map((s) => s.name)}
    rows=${rows}
    filename=${filename}
    legend=${legend}
    chart=${html`<${LineChart} periods=${periods} series=${series} />`}
  />`;
}

export function Dashboard({ year }) {
  const [answers, setAnswers] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setAnswers(null);
    setError(null);
    const requests = Object.entries(dashboardRequests(year));
    const releases = {};
    Promise.all(requests.map(([, url]) => explorerOrRelease(url, releases)))
      .then((results) => setAnswers(Object.fromEntries(requests.map(([name], i) => [name, results[i]]))))
      .catch(setError);
  }, [year]);
  if (error) return html`<${Problem} error=${error} />`;
  if (!answers) return html`<${Loading} />`;
  const quarters = answers.victimsByQuarter.periods.map((p) => p.period.label);
  const span = { from: year - 2, to: year };
  const victimSeries = [{ name: t("console_victims_persons"), values: answers.victimsByQuarter.periods.map((p) => p.cells[0].count) }];
  const releasedQuarters = answers.victimsByQuarter.periods.filter((p) => p.release).map((p) => p.release);
  const versions = [...new Set(releasedQuarters.map((r) => t("console_release_version", r)))].join(", ");
  const victimsLegend = [versions ? t("console_released_quarters_legend", { versions }) : t("console_perturbed_short")];
  const released = answers.sex.release;
  const screeningSeries = [{ name: t("console_kpi_screenings"), values: answers.screeningsByQuarter.periods.map((p) => p.cells[0].count) }];
  return html`<section class="dashboard" aria-labelledby="dashboard-title">
    <h2 id="dashboard-title">${t("console_dashboard_title", { year })}</h2>
    ${released
      ? html`<p class="hint" data-released=${released.version}>${t("console_dashboard_released_hint", { year, version: released.version })}</p>`
      : html`<p class="hint">${t("console_dashboard_hint")}</p>`}
    <dl class="kpis card">${headline(answers, year).map((k) => html`<${Kpi} ...${k} />`)}</dl>

    <h2>${t("console_trends")}</h2>
    ${quarterFigure("fig-victims-quarter", t("console_fig_victims_quarter", span), victimSeries, quarters, `victims-${year - 2}-${year}-by-quarter.csv`, victimsLegend)}
    ${quarterFigure("fig-screenings-quarter", t("console_fig_screenings_quarter", span), screeningSeries, quarters, `screenings-${year - 2}-${year}-by-quarter.csv`, [t("console_perturbed_short")])}

    <h2>${t("console_who")}</h2>
    <div class="figures">
    ${breakdownFigure(answers.sex, "sex", "console_fig_sex", year, "console_unit_persons")}
    ${breakdownFigure(answers.age_band, "age_band", "console_fig_age_band", year, "console_unit_persons")}
    ${breakdownFigure(answers.form, "form", "console_fig_form", year, "console_unit_persons")}
    ${breakdownFigure(answers.citizenship, "citizenship", "console_fig_citizenship", year, "console_unit_persons")}
    </div>

    <h2>${t("console_where")}</h2>
    <p class="hint">${t("console_where_hint")}</p>
    <div class="figures">
    ${breakdownFigure(answers.entity, "entity", "console_fig_entity", year, "console_unit_persons")}
    ${breakdownFigure(answers.canton, "canton", "console_fig_canton", year, "console_unit_persons")}
    </div>

    <h2>${t("console_referrals")}</h2>
    <div class="figures">
    ${breakdownFigure(answers.answer_time, "answer_time", "console_fig_answer_time", year, "console_referrals")}
    ${breakdownFigure(answers.outcome, "status", "console_fig_outcome", year, "console_referrals")}
    </div>
  </section>`;
}
