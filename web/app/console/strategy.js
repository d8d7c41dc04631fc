// The strategy monitor: the coordinator follows the action plan's progress and reviews reports; an
// institution's reporter sees the measures assigned to it and reports on their indicators with evidence.
import { html, useEffect, useRef, useState } from "../html.js";
import { get, patch, post } from "../api.js";
import { currentToken } from "../auth.js";
import { t } from "../i18n.js";
import { label, Loading, Problem } from "./common.js";

const percent = (share) => (share === null || share === undefined ? "–" : `${Math.round(share * 100)} %`);

function StatusChip({ status }) {
  return html`<span class=${`chip progress-${status}`}>${label("progress", status).toLowerCase()}</span>`;
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
  if (!response.ok) throw new Error(t("console_export_failed", { status: response.status }));
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
  if (none && isCoordinator(user))
    return html`<p class="card">${t("console_no_plan")} <a href="#/console/load">${t("console_load_plan")}</a></p>`;
  if (none) return html`<p class="card">${t("console_no_measure")}</p>`;
  if (!progress) return html`<${Loading} />`;
  const refresh = () => {
    setNote(t("console_recomputing"));
    post(`/api/v1/plans/${planId}/refresh`)
      .then(() => {
        setNote(t("console_refreshed"));
        load();
      })
      .catch(setError);
  };
  return html`<section class="plan" aria-labelledby="plan-title">
    <h2 id="plan-title">${progress.plan_title}</h2>
    <p class="hint">${t(isCoordinator(user) ? "console_progress_as_of" : "console_progress_as_of_mine", { date: progress.as_of })}</p>
    <ul class="chips counts" aria-label=${t("console_measures_by_status")}>
      ${Object.entries(progress.counts).map(([status, n]) => html`<li data-status=${status}><${StatusChip} status=${status} /> ${n}</li>`)}
    </ul>
    <details class="card rule"><summary>${t("console_how_status")}</summary><p>${progress.rule}</p></details>
    ${isCoordinator(user) &&
    html`<p class="actions no-print">
      <a class="button" href="#/console/load">${t("console_load_plan")}</a>
      <button type="button" onClick=${refresh}>${t("console_refresh")}</button>
      <button type="button" onClick=${() => window.print()}>${t("console_print_progress")}</button>
      <button type="button" onClick=${() => downloadProgress(planId, progress.plan_code).catch(setError)}>${t("console_download_progress")}</button>
    </p>`}
    ${isCoordinator(user) &&
    html`<${PlanEditor}
      planId=${planId}
      onSaved=${() => {
        setNote(t("console_saved"));
        load();
      }}
    />`}
    ${note && html`<p role="status" class="notice">${note}</p>`}
    ${progress.goals.map(
      (goal) => html`<section class="card goal" aria-labelledby=${`goal-${goal.id}`}>
        <h3 id=${`goal-${goal.id}`}>${goal.code}. ${goal.title} <${StatusChip} status=${goal.status} /></h3>
        <p class="hint">${goal.part}</p>
        <div class="table-wrap">
          <table class="data measures">
            <caption class="visually-hidden">${t("console_measures_of_goal", { code: goal.code })}</caption>
            <thead>
              <tr>
                <th scope="col">${t("console_measure")}</th>
                <th scope="col">${t("console_status")}</th>
                <th scope="col">${t("console_achieved")}</th>
                <th scope="col">${t("console_expected")}</th>
                <th scope="col">${t("console_deadline")}</th>
                <th scope="col">${t("console_awaiting_review")}</th>
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

function PlanEditor({ planId, onSaved }) {
  const [plan, setPlan] = useState(null);
  useEffect(() => {
    get(`/api/v1/plans/${planId}`).then(setPlan, () => setPlan(null));
  }, [planId]);
  if (!plan) return null;
  return html`<${Editor}
    id="edit-plan"
    title=${t("console_edit_plan")}
    path=${`/api/v1/plans/${planId}`}
    fields=${[
      { name: "title", label: t("console_title_field"), type: "text", value: plan.title },
      { name: "ends_on", label: t("console_plan_ends"), type: "date", value: plan.ends_on },
    ]}
    onSaved=${(saved) => {
      setPlan({ ...plan, ...saved });
      onSaved();
    }}
  />`;
}

// --- loading a plan from a file (coordinator): the import route checks it whole; every error is listed -----

// The import route takes CSV or the JSON of POST /plans; the file's own type is unreliable (a spreadsheet's CSV
// is often "application/vnd.ms-excel"), so its name decides.
const planFileType = (file) => (/\.json$/i.test(file.name) ? "application/json" : "text/csv");

// A problem's errors, one line each: "row 3, deadline: message" (CSV), "goals.0.title: message" (JSON).
export function FieldErrors({ problem, id }) {
  const errors = problem?.errors ?? [];
  if (!errors.length) return null;
  return html`<ul class="errors" id=${id} aria-label=${t("console_errors_found", { n: errors.length })}>
    ${errors.map(
      (e) => html`<li data-row=${e.row} data-field=${e.field}>
        ${e.row !== undefined && `${t("console_row", { row: e.row })}, `}<code>${e.field}</code>: ${e.message}
      </li>`,
    )}
  </ul>`;
}

export function PlanLoad() {
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = (event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    post("/api/v1/plans/import", new Blob([file], { type: planFileType(file) }))
      .then((plan) => (location.hash = `#/console/plan/${plan.id}`))
      .catch(setError)
      .finally(() => setBusy(false));
  };
  return html`<section class="plan-load" aria-labelledby="load-title">
    <p class="no-print"><a href="#/console/plan">${t("console_back_to_plan")}</a></p>
    <h2 id="load-title">${t("console_load_plan")}</h2>
    <p class="hint">${t("console_load_plan_hint")}</p>
    <form class="card" onSubmit=${submit} aria-describedby=${error ? "load-errors" : undefined}>
      <label class="field"><span class="label">${t("console_plan_file")}</span>
        <input name="plan" type="file" accept=".csv,.json,text/csv,application/json" required
          onChange=${(e) => setFile(e.target.files[0] ?? null)} /></label>
      <button type="submit" class="primary" disabled=${busy}>${t("console_load")}</button>
    </form>
    ${error &&
    html`<div class="card error" role="alert">
      <p>${t("console_nothing_loaded")} ${error.message}</p>
      <${FieldErrors} problem=${error.problem} id="load-errors" />
    </div>`}
  </section>`;
}

// --- editing (coordinator): a small form per plan, measure or indicator for the fields its PATCH takes ----------

// A 422's errors by the form's field: "body.deadline" and "body.organisations.0" are the field "deadline" and
// "organisations"; the service's own checks name the field itself.
function errorsByField(problem) {
  const out = {};
  for (const e of problem?.errors ?? []) {
    const name = e.field.replace(/^body\./, "").split(".")[0];
    out[name] = out[name] ? `${out[name]}; ${e.message}` : e.message;
  }
  return out;
}

const asText = (field) => (field.type === "list" ? field.value.join("; ") : String(field.value ?? ""));

function fromText(field, text) {
  if (field.type === "list") return text.split(/[;,]/).map((x) => x.trim()).filter(Boolean);
  if (field.type === "number") return text.trim() === "" ? text : Number(text);
  return text;
}

/** A form of `fields` ({name, label, type: text|date|number|list, value}) sent to PATCH `path` with the changed
 * ones only; a refused field shows the server's message under it. A date is typed as the page shows it,
 * year-month-day (Chromium's date field splits it into parts that type differently in each language). */
function EditForm({ id, title, path, fields, onSaved, onCancel }) {
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((f) => [f.name, asText(f)])));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const first = useRef(null);
  const form = useRef(null);
  useEffect(() => first.current?.focus(), []);
  // Refused: the keyboard goes to the first field named (the pressed button was disabled while sending).
  useEffect(() => {
    if (error) (form.current?.querySelector("[aria-invalid]") ?? form.current?.querySelector("[role=alert]"))?.focus();
  }, [error]);
  const submit = (event) => {
    event.preventDefault();
    const changed = fields.filter((f) => values[f.name] !== asText(f));
    if (!changed.length) return onCancel();
    setBusy(true);
    setError(null);
    patch(path, Object.fromEntries(changed.map((f) => [f.name, fromText(f, values[f.name])])))
      .then(onSaved)
      .catch(setError)
      .finally(() => setBusy(false));
  };
  const wrong = errorsByField(error?.problem);
  return html`<form class="card edit-form no-print" id=${id} ref=${form} onSubmit=${submit} aria-labelledby=${`${id}-title`}>
    <h3 id=${`${id}-title`}>${title}</h3>
    ${fields.map(
      (f, i) => html`<label class="field"><span class="label">${f.label}</span>
        <input
          name=${f.name}
          ref=${i === 0 ? first : undefined}
          type=${f.type === "number" ? "number" : "text"}
          inputmode=${f.type === "date" ? "numeric" : undefined}
          step=${f.type === "number" ? "any" : undefined}
          value=${values[f.name]}
          aria-invalid=${wrong[f.name] ? "true" : undefined}
          aria-describedby=${wrong[f.name] ? `${id}-${f.name}-error` : undefined}
          onInput=${(e) => setValues({ ...values, [f.name]: e.target.value })}
        />
        ${f.type === "list" && html`<span class="hint">${t("console_separated")}</span>`}
        ${f.type === "date" && html`<span class="hint">${t("console_date_hint")}</span>`}
        ${wrong[f.name] && html`<span class="error" id=${`${id}-${f.name}-error`}>${wrong[f.name]}</span>`}
      </label>`,
    )}
    ${error && html`<p class="error" role="alert" tabindex="-1">${error.message}</p>`}
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${t("console_save")}</button>
      <button type="button" onClick=${onCancel}>${t("console_cancel")}</button>
    </div>
  </form>`;
}

/** "Edit …" (`title`) and, once pressed, its form (the other props are EditForm's); saved or cancelled, the
 * focus goes back to the button. */
function Editor({ title, onSaved, ...form }) {
  const [open, setOpen] = useState(false);
  const button = useRef(null);
  const close = () => {
    setOpen(false);
    setTimeout(() => button.current?.focus());
  };
  const saved = (result) => {
    close();
    onSaved(result);
  };
  if (open) return html`<${EditForm} ...${form} title=${title} onSaved=${saved} onCancel=${close} />`;
  return html`<button type="button" class="no-print" ref=${button} onClick=${() => setOpen(true)}>${title}</button>`;
}

// --- one measure: its indicators, their values and reports; review (coordinator) or report (reporter) --

// The periods are the server's (the plan's, less those awaiting review or accepted): no other would be taken.
function ReportForm({ indicator, onDone }) {
  const periods = indicator.reportable_periods;
  const lastYear = String(new Date().getFullYear() - 1);
  const [period, setPeriod] = useState(periods.find((p) => p.startsWith(lastYear)) ?? periods[0]);
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
      .then(() => onDone(t("console_report_sent")))
      .catch((e) => setError(e.problem?.errors ? `${e.message}: ${e.problem.errors.map((x) => `${x.field} ${x.message}`).join("; ")}` : e.message))
      .finally(() => setBusy(false));
  };
  return html`<form class="report-form" onSubmit=${submit} aria-labelledby=${`${id}-title`}>
    <h5 id=${`${id}-title`}>${t("console_report_on", { code: indicator.code })}</h5>
    <div class="row">
      <label class="field"><span class="label">${t("console_period")}</span>
        <select name="period" value=${period} onChange=${(e) => setPeriod(e.target.value)}>
          ${periods.map((p) => html`<option value=${p}>${p}</option>`)}
        </select></label>
      <label class="field"><span class="label">${t("console_value_in", { unit: indicator.unit })}</span>
        <input name="value" type="number" step="any" required value=${value} onInput=${(e) => setValue(e.target.value)} /></label>
    </div>
    <label class="field"><span class="label">${t("console_comment")}</span>
      <textarea name="comment" rows="2" value=${comment} onInput=${(e) => setComment(e.target.value)}></textarea></label>
    <label class="field"><span class="label">${t("console_evidence_link")}</span>
      <input name="evidence_url" type="url" required placeholder="https://" value=${evidence} onInput=${(e) => setEvidence(e.target.value)} /></label>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit" class="primary" disabled=${busy}>${t("console_send_report")}</button>
  </form>`;
}

function Review({ indicator, report, onDone }) {
  const [comment, setComment] = useState("");
  const [error, setError] = useState(null);
  const decide = (decision) => {
    setError(null);
    post(`/api/v1/indicators/${indicator.id}/reports/${report.id}/review`, { decision, comment })
      .then(() => onDone(t(decision === "accept" ? "console_report_accepted" : "console_report_returned")))
      .catch((e) => setError(e.message));
  };
  const id = `review-${report.id}`;
  return html`<div class="review" role="group" aria-label=${t("console_review_for", { period: report.period })}>
    <label class="field"><span class="label">${t("console_comment_to_return")}</span>
      <textarea id=${id} rows="2" value=${comment} onInput=${(e) => setComment(e.target.value)}></textarea></label>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="actions">
      <button type="button" class="primary" onClick=${() => decide("accept")}>${t("accept")}</button>
      <button type="button" onClick=${() => decide("return")}>${t("console_return")}</button>
    </div>
  </div>`;
}

function ComputedValues({ values }) {
  if (!values.length) return html`<p class="hint">${t("console_not_computed")}</p>`;
  return html`<table class="data">
    <caption class="visually-hidden">${t("console_computed_values")}</caption>
    <thead><tr><th scope="col">${t("console_year")}</th><th scope="col">${t("console_value")}</th><th scope="col">${t("console_note")}</th></tr></thead>
    <tbody>
      ${values.map(
        (v) => html`<tr data-period=${v.period}>
          <th scope="row">${v.period}</th>
          <td>${v.status === "ok" ? v.value : html`<span class="count suppressed">${t(v.status === "suppressed" ? "console_withheld" : "console_not_available")}</span>`}</td>
          <td class="hint">${v.note}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function Indicator({ indicator, user, onChange }) {
  const coordinator = isCoordinator(user);
  // A review's buttons are gone once it is decided: the keyboard goes to the indicator's heading, not the body.
  const heading = useRef(null);
  const reviewed = (message) => {
    heading.current?.focus();
    onChange(message);
  };
  return html`<section class="indicator card" data-indicator=${indicator.code} aria-labelledby=${`ind-${indicator.id}`}>
    <h4 id=${`ind-${indicator.id}`} tabindex="-1" ref=${heading}>${indicator.code} ${indicator.title}</h4>
    <p class="hint">
      ${t(indicator.kind === "computed" ? "console_kind_computed" : "console_kind_reported")}
      · ${t("console_baseline_target", { baseline: indicator.baseline, target: indicator.target })} ${indicator.unit} ·
      ${label("frequency", indicator.frequency).toLowerCase()}
    </p>
    ${indicator.definition && html`<p class="hint">${indicator.definition}</p>`}
    ${coordinator &&
    html`<${Editor}
      id=${`edit-ind-${indicator.id}`}
      title=${t("console_edit_indicator", { code: indicator.code })}
      path=${`/api/v1/indicators/${indicator.id}`}
      fields=${[
        { name: "baseline", label: t("console_baseline"), type: "number", value: indicator.baseline },
        { name: "target", label: t("console_target"), type: "number", value: indicator.target },
      ]}
      onSaved=${() => onChange(t("console_saved"))}
    />`}
    ${indicator.kind === "computed" && html`<${ComputedValues} values=${indicator.values} />`}
    ${indicator.kind === "reported" &&
    html`<ul class="reports">
      ${indicator.reports.length === 0 && html`<li class="hint">${t("console_no_report")}</li>`}
      ${indicator.reports.map(
        (r) => html`<li data-report=${r.period} data-status=${r.status}>
          <strong>${r.period}: ${r.value} ${indicator.unit}</strong> <span class=${`status status-${r.status}`}>${label("report_status", r.status).toLowerCase()}</span>
          <span class="hint"> · ${r.org_id}</span>
          ${r.comment && html`<p>${r.comment}</p>`}
          ${r.evidence_url && html`<p><a href=${r.evidence_url} rel="noopener noreferrer" target="_blank">${t("console_evidence")}</a></p>`}
          ${r.review_comment && html`<p class="hint">${t("console_coordinator_said", { comment: r.review_comment })}</p>`}
          ${coordinator && r.status === "submitted" && html`<${Review} indicator=${indicator} report=${r} onDone=${reviewed} />`}
        </li>`,
      )}
    </ul>`}
    ${!coordinator &&
    indicator.kind === "reported" &&
    (indicator.reportable_periods.length
      ? html`<${ReportForm} indicator=${indicator} onDone=${onChange} />`
      : html`<p class="hint">${t("console_no_period_open")}</p>`)}
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
    <p class="no-print"><a href="#/console/plan">${t("console_back_to_plan")}</a></p>
    <h2 id="measure-title">${measure.code} ${measure.title}</h2>
    <p class="hint">
      ${t("console_measure_meta", { code: measure.goal_code, title: measure.goal_title, deadline: measure.deadline })} ·
      ${measure.organisations.join(", ")}
    </p>
    ${measure.description && html`<p>${measure.description}</p>`}
    ${isCoordinator(user) &&
    html`<${Editor}
      id="edit-measure"
      title=${t("console_edit_measure")}
      path=${`/api/v1/measures/${measure.id}`}
      fields=${[
        { name: "title", label: t("console_title_field"), type: "text", value: measure.title },
        { name: "deadline", label: t("console_deadline"), type: "date", value: measure.deadline },
        { name: "organisations", label: t("console_responsible"), type: "list", value: measure.organisations },
      ]}
      onSaved=${() => changed(t("console_saved"))}
    />`}
    ${note && html`<p role="status" class="notice">${note}</p>`}
    <h3>${t("console_activities")}</h3>
    <ul class="activities">
      ${measure.activities.map(
        (a) => html`<li>${a.code}) ${a.title} — ${label("activity", a.status).toLowerCase()}, ${t("console_by_date", { date: a.deadline })}</li>`,
      )}
      ${measure.activities.length === 0 && html`<li class="hint">${t("console_nothing")}</li>`}
    </ul>
    <h3>${t("console_indicators")}</h3>
    ${indicators.map((i) => html`<${Indicator} indicator=${i} user=${user} onChange=${changed} />`)}
  </section>`;
}
