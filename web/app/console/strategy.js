// The strategy monitor: the coordinator follows the action plan's progress and reviews reports; an
// institution's reporter sees the measures assigned to it and reports on their indicators with evidence.
import { html, useEffect, useState } from "../html.js";
import { get, post } from "../api.js";
import { currentToken } from "../auth.js";
import { Loading, Problem } from "./common.js";

const STATUS_TEXT = { on_track: "on track", at_risk: "at risk", late: "late", done: "done" };
const percent = (share) => (share === null || share === undefined ? "–" : `${Math.round(share * 100)} %`);

function StatusChip({ status }) {
  return html`<span class=${`chip progress-${status}`}>${STATUS_TEXT[status] ?? status}</span>`;
}

function isCoordinator(user) {
  return user.roles.includes("coordinator");
}

// Which plan to show: the coordinator's active plan (the first listed), or the plan of the reporter's measures.
function usePlanId(user, wanted) {
  const [planId, setPlanId] = useState(wanted ?? null);
  const [error, setError] = useState(null);
  const [none, setNone] = useState(false);
  useEffect(() => {
    if (wanted) return setPlanId(wanted);
    const source = isCoordinator(user)
      ? get("/api/v1/plans").then((page) => page.items.find((p) => p.status === "active") ?? page.items[0])
      : get("/api/v1/measures").then((page) => page.items[0] && { id: page.items[0].plan_id });
    source.then((plan) => (plan ? setPlanId(plan.id) : setNone(true))).catch(setError);
  }, [wanted]);
  return { planId, error, none };
}

// The service's own CSV export (one row per indicator), fetched with the in-memory token and saved.
async function downloadProgress(planId, code) {
  const response = await fetch(`/api/v1/progress/${planId}/export?format=csv`, {
    headers: { Authorization: `Bearer ${currentToken()}`, Accept: "text/csv" },
    cache: "no-store",
    credentials: "omit",
  });
  if (!response.ok) throw new Error(`The export failed (${response.status})`);
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: `progress-${code}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function PlanProgress({ user, planId: wanted }) {
  const { planId, error: planError, none } = usePlanId(user, wanted);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const load = () => get(`/api/v1/progress/${planId}`).then(setProgress).catch(setError);
  useEffect(() => {
    if (planId) load();
  }, [planId]);
  if (planError || error) return html`<${Problem} error=${planError || error} />`;
  if (none) return html`<p class="card">${isCoordinator(user) ? "No plan has been loaded yet." : "No measure is assigned to your organisation."}</p>`;
  if (!progress) return html`<${Loading} />`;
  const refresh = () => {
    setNote("Recomputing the indicators from the registry…");
    post(`/api/v1/plans/${planId}/refresh`)
      .then(() => {
        setNote("Computed indicators refreshed from the registry's protected statistics.");
        load();
      })
      .catch(setError);
  };
  return html`<section class="plan" aria-labelledby="plan-title">
    <h2 id="plan-title">${progress.plan_title}</h2>
    <p class="hint">
      Progress as of ${progress.as_of}
      ${isCoordinator(user) ? "" : " — the measures assigned to your organisation"}.
    </p>
    <ul class="chips counts" aria-label="Measures by status">
      ${Object.entries(progress.counts).map(([status, n]) => html`<li data-status=${status}><${StatusChip} status=${status} /> ${n}</li>`)}
    </ul>
    <details class="card rule"><summary>How the status is decided</summary><p>${progress.rule}</p></details>
    ${isCoordinator(user) &&
    html`<p class="actions no-print">
      <button type="button" onClick=${refresh}>Refresh computed indicators</button>
      <button type="button" onClick=${() => window.print()}>Print the progress report</button>
      <button type="button" onClick=${() => downloadProgress(planId, progress.plan_code).catch(setError)}>Download the progress report (CSV)</button>
    </p>`}
    ${note && html`<p role="status" class="notice">${note}</p>`}
    ${progress.goals.map(
      (goal) => html`<section class="card goal" aria-labelledby=${`goal-${goal.id}`}>
        <h3 id=${`goal-${goal.id}`}>${goal.code}. ${goal.title} <${StatusChip} status=${goal.status} /></h3>
        <p class="hint">${goal.part}</p>
        <div class="table-wrap">
          <table class="data measures">
            <caption class="visually-hidden">Measures of goal ${goal.code}</caption>
            <thead>
              <tr>
                <th scope="col">Measure</th>
                <th scope="col">Status</th>
                <th scope="col">Achieved</th>
                <th scope="col">Expected by now</th>
                <th scope="col">Deadline</th>
                <th scope="col">Reports awaiting review</th>
              </tr>
            </thead>
            <tbody>
              ${goal.measures.map(
                (m) => html`<tr data-measure=${m.code}>
                  <th scope="row"><a href=${`#/console/measure/${m.id}`}>${m.code} ${m.title}</a></th>
                  <td><${StatusChip} status=${m.status} /><br /><span class="hint">${m.reason}</span></td>
                  <td class="achieved">${percent(m.achieved)}</td>
                  <td>${percent(m.expected)}</td>
                  <td>${m.deadline}</td>
                  <td>${m.indicators.reduce((n, i) => n + i.pending_reports, 0) || ""}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>
      </section>`,
    )}
  </section>`;
}

// --- one measure: its indicators, their values and reports; review (coordinator) or report (reporter) --

function periodsFor(frequency, deadline) {
  const last = Number(String(deadline).slice(0, 4));
  const first = Math.min(new Date().getFullYear() - 3, last);
  const out = [];
  for (let y = first; y <= last; y += 1) {
    if (frequency === "annual") out.push(`${y}`);
    else if (frequency === "semiannual") out.push(`${y}-H1`, `${y}-H2`);
    else if (frequency === "quarterly") out.push(`${y}-Q1`, `${y}-Q2`, `${y}-Q3`, `${y}-Q4`);
  }
  return frequency === "once" ? ["final"] : out;
}

function ReportForm({ indicator, deadline, onDone }) {
  const periods = periodsFor(indicator.frequency, deadline);
  const thisYear = String(new Date().getFullYear() - 1);
  const [period, setPeriod] = useState(periods.find((p) => p.startsWith(thisYear)) ?? periods[0]);
  const [value, setValue] = useState("");
  const [comment, setComment] = useState("");
  const [evidence, setEvidence] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const id = `report-${indicator.id}`;
  const submit = (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    post(`/api/v1/indicators/${indicator.id}/reports`, { period, value: Number(value), comment, evidence_url: evidence || null })
      .then(() => onDone("Your report was sent; it counts once the coordinator accepts it."))
      .catch((e) => setError(e.problem?.errors ? `${e.message}: ${e.problem.errors.map((x) => `${x.field} ${x.message}`).join("; ")}` : e.message))
      .finally(() => setBusy(false));
  };
  return html`<form class="report-form" onSubmit=${submit} aria-labelledby=${`${id}-title`}>
    <h5 id=${`${id}-title`}>Report on ${indicator.code}</h5>
    <div class="row">
      <label class="field"><span class="label">Period</span>
        <select name="period" value=${period} onChange=${(e) => setPeriod(e.target.value)}>
          ${periods.map((p) => html`<option value=${p}>${p}</option>`)}
        </select></label>
      <label class="field"><span class="label">Value (${indicator.unit})</span>
        <input name="value" type="number" step="any" required value=${value} onInput=${(e) => setValue(e.target.value)} /></label>
    </div>
    <label class="field"><span class="label">Comment</span>
      <textarea name="comment" rows="2" value=${comment} onInput=${(e) => setComment(e.target.value)}></textarea></label>
    <label class="field"><span class="label">Evidence (a link to the document)</span>
      <input name="evidence_url" type="url" required placeholder="https://" value=${evidence} onInput=${(e) => setEvidence(e.target.value)} /></label>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit" class="primary" disabled=${busy}>Send the report</button>
  </form>`;
}

function Review({ indicator, report, onDone }) {
  const [comment, setComment] = useState("");
  const [error, setError] = useState(null);
  const decide = (decision) => {
    setError(null);
    post(`/api/v1/indicators/${indicator.id}/reports/${report.id}/review`, { decision, comment })
      .then(() => onDone(decision === "accept" ? "Report accepted: it now counts towards progress." : "Report returned to the reporter."))
      .catch((e) => setError(e.message));
  };
  const id = `review-${report.id}`;
  return html`<div class="review" role="group" aria-label=${`Review the report for ${report.period}`}>
    <label class="field"><span class="label">Comment (required to return)</span>
      <textarea id=${id} rows="2" value=${comment} onInput=${(e) => setComment(e.target.value)}></textarea></label>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="actions">
      <button type="button" class="primary" onClick=${() => decide("accept")}>Accept</button>
      <button type="button" onClick=${() => decide("return")}>Return</button>
    </div>
  </div>`;
}

function ComputedValues({ values }) {
  if (!values.length) return html`<p class="hint">Not computed yet (the coordinator refreshes computed indicators).</p>`;
  return html`<table class="data">
    <caption class="visually-hidden">Computed values</caption>
    <thead><tr><th scope="col">Year</th><th scope="col">Value</th><th scope="col">Note</th></tr></thead>
    <tbody>
      ${values.map(
        (v) => html`<tr data-period=${v.period}>
          <th scope="row">${v.period}</th>
          <td>${v.status === "ok" ? v.value : html`<span class="count suppressed">${v.status === "suppressed" ? "withheld" : "not available"}</span>`}</td>
          <td class="hint">${v.note}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function Indicator({ indicator, measure, user, onChange }) {
  const coordinator = isCoordinator(user);
  return html`<section class="indicator card" data-indicator=${indicator.code} aria-labelledby=${`ind-${indicator.id}`}>
    <h4 id=${`ind-${indicator.id}`}>${indicator.code} ${indicator.title}</h4>
    <p class="hint">
      ${indicator.kind === "computed" ? "Computed from the registry's protected statistics" : "Reported by the responsible institution"}
      · baseline ${indicator.baseline} → target ${indicator.target} ${indicator.unit} · ${indicator.frequency}
    </p>
    ${indicator.definition && html`<p class="hint">${indicator.definition}</p>`}
    ${indicator.kind === "computed" && html`<${ComputedValues} values=${indicator.values} />`}
    ${indicator.kind === "reported" &&
    html`<ul class="reports">
      ${indicator.reports.length === 0 && html`<li class="hint">No report yet.</li>`}
      ${indicator.reports.map(
        (r) => html`<li data-report=${r.period} data-status=${r.status}>
          <strong>${r.period}: ${r.value} ${indicator.unit}</strong> <span class=${`status status-${r.status}`}>${r.status}</span>
          <span class="hint"> · ${r.org_id}</span>
          ${r.comment && html`<p>${r.comment}</p>`}
          ${r.evidence_url && html`<p><a href=${r.evidence_url} rel="noopener noreferrer" target="_blank">Evidence</a></p>`}
          ${r.review_comment && html`<p class="hint">Coordinator: ${r.review_comment}</p>`}
          ${coordinator && r.status === "submitted" && html`<${Review} indicator=${indicator} report=${r} onDone=${onChange} />`}
        </li>`,
      )}
    </ul>`}
    ${!coordinator && indicator.kind === "reported" && html`<${ReportForm} indicator=${indicator} deadline=${measure.deadline} onDone=${onChange} />`}
  </section>`;
}

export function MeasurePage({ user, id }) {
  const [measure, setMeasure] = useState(null);
  const [indicators, setIndicators] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const load = () =>
    get(`/api/v1/measures/${id}`)
      .then((m) => {
        setMeasure(m);
        return Promise.all(m.indicators.map((i) => get(`/api/v1/indicators/${i.id}`)));
      })
      .then(setIndicators)
      .catch(setError);
  useEffect(() => {
    load();
  }, [id]);
  if (error) return html`<${Problem} error=${error} />`;
  if (!measure || !indicators) return html`<${Loading} />`;
  const changed = (message) => {
    setNote(message);
    load();
  };
  return html`<section class="measure" aria-labelledby="measure-title">
    <p class="no-print"><a href="#/console/plan">← The plan's progress</a></p>
    <h2 id="measure-title">${measure.code} ${measure.title}</h2>
    <p class="hint">Goal ${measure.goal_code}: ${measure.goal_title} · deadline ${measure.deadline} · ${measure.organisations.join(", ")}</p>
    ${measure.description && html`<p>${measure.description}</p>`}
    ${note && html`<p role="status" class="notice">${note}</p>`}
    <h3>Activities</h3>
    <ul class="activities">
      ${measure.activities.map((a) => html`<li>${a.code}) ${a.title} — ${a.status.replaceAll("_", " ")}, by ${a.deadline}</li>`)}
      ${measure.activities.length === 0 && html`<li class="hint">None.</li>`}
    </ul>
    <h3>Indicators</h3>
    ${indicators.map((i) => html`<${Indicator} indicator=${i} measure=${measure} user=${user} onChange=${changed} />`)}
  </section>`;
}
