// A provider's inbox: referrals to this organisation, most urgent and nearest deadline first;
// accept or decline with a reason; capacity kept current with one tap per bed.
import { html, useEffect, useRef, useState } from "../html.js";
import { get, post, put } from "../api.js";
import { t } from "../i18n.js";

const OPEN = new Set(["requested", "escalated"]);
const REASONS = ["no_capacity", "not_eligible", "not_specialised", "outside_area", "safety_concern", "other"];

export function sortInbox(items) {
  const rank = (r) => (OPEN.has(r.status) ? 0 : 1);
  return [...items].sort(
    (a, b) => rank(a) - rank(b) || Number(b.urgent) - Number(a.urgent) || new Date(a.deadline_at) - new Date(b.deadline_at),
  );
}

/** What the provider may read once it has accepted: the referrer's contact, arrival, interpreter, needs, note. */
const HANDOVER_LABELS = {
  contact_name: "handover_contact_name",
  contact_phone: "handover_contact_phone",
  expected_arrival: "handover_expected_arrival",
  interpreter_language: "handover_interpreter_language",
  needs: "handover_needs_label",
  note: "handover_note_label",
};

function Handover({ referral }) {
  const h = referral.handover;
  if (!h) return null;
  const shown = (key, value) => {
    if (key === "expected_arrival") return new Date(value).toLocaleString();
    if (key === "needs") return value.map((code) => t(`need_${code}`)).join(", ");
    return String(value);
  };
  return html`<dl class="handover">
    ${Object.entries(h)
      .filter(([, v]) => v && (!Array.isArray(v) || v.length))
      .map(([k, v]) => html`<dt>${t(HANDOVER_LABELS[k] ?? k)}</dt><dd>${shown(k, v)}</dd>`)}
  </dl>`;
}

function Item({ referral, reload }) {
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState("no_capacity");
  const [error, setError] = useState(null);
  const heading = useRef(null);
  // The buttons pressed are gone once answered: the keyboard stays on this referral, at its heading.
  const move = (status, reason_code) =>
    post(`/api/v1/referrals/${referral.id}/transitions`, reason_code ? { status, reason_code } : { status })
      .then(reload)
      .then(() => heading.current?.focus())
      .catch((e) => setError(e.message));
  const p = referral.profile;
  return html`<li class=${referral.urgent ? "urgent" : ""} data-referral=${referral.id} data-status=${referral.status}>
    <h2 tabindex="-1" ref=${heading}>
      ${referral.urgent && html`<span class="badge">${t("urgent")}</span>`} ${t(`service_${referral.service_type}`)} ·
      <span class=${`status status-${referral.status}`}>${t(`status_${referral.status}`)}</span>
    </h2>
    <p>${p.child ? t("profile_child") : t("profile_adult")} · ${t(`sex_${p.sex}`)} · ${t("age_band", { band: p.age_band })} · ${p.languages.join(", ")}</p>
    ${p.care_needs?.length ? html`<p class="care-needs">${p.care_needs.map((code) => t(`need_${code}`)).join(" · ")}</p>` : null}
    <p class="hint">${t("answer_by", { when: new Date(referral.deadline_at).toLocaleString() })}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <${Handover} referral=${referral} />
    ${OPEN.has(referral.status) &&
    html`<div class="buttons">
      <button type="button" class="primary" onClick=${() => move("accepted")}>${t("accept")}</button>
      <button type="button" onClick=${() => setDeclining(!declining)} aria-expanded=${declining}>${t("decline")}</button>
    </div>`}
    ${declining &&
    OPEN.has(referral.status) &&
    html`<div class="decline">
      <label class="field"
        ><span class="label">${t("decline_reason")}</span>
        <select name="reason" value=${reason} onChange=${(e) => setReason(e.target.value)}>
          ${REASONS.map((code) => html`<option value=${code}>${t(`reason_${code}`)}</option>`)}
        </select></label
      >
      <button type="button" onClick=${() => move("rejected", reason)}>${t("decline_confirm")}</button>
    </div>`}
  </li>`;
}

/** Every capacity of the organisation's services (a unit for one group each), one tap per place. */
function Capacity({ org }) {
  const [rows, setRows] = useState([]);
  const [error, setError] = useState(null);
  const load = () =>
    get(`/api/v1/services?organisation_id=${encodeURIComponent(org)}`)
      .then((page) => setRows(page.items.flatMap((s) => (s.capacities ?? []).map((c) => ({ service: s, capacity: c })))))
      .catch((e) => setError(e.message));
  useEffect(() => {
    load();
  }, [org]);
  const change = ({ service, capacity: c }, delta) => {
    const available = Math.max(0, Math.min(c.maximum, c.available + delta));
    const body = { available, maximum: c.maximum, unit: c.unit, population: c.population };
    put(`/api/v1/services/${service.id}/capacities/${c.id}`, body)
      .then(load)
      .catch((e) => setError(e.message));
  };
  if (!rows.length) return null;
  return html`<section class="card" aria-labelledby="capacity-title">
    <h2 id="capacity-title">${t("capacity")}</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <ul class="capacity">
      ${rows.map((row) => {
        const name = `${row.service.name} · ${t(`population_${row.capacity.population}`)} (${t(`unit_${row.capacity.unit}`)})`;
        return html`<li data-service=${row.service.id} data-capacity=${row.capacity.id}>
          <span>${name}</span>
          <button type="button" class="round" aria-label=${t("capacity_less", { name })} onClick=${() => change(row, -1)}>−</button>
          <output aria-live="polite">${t("capacity_free", { n: row.capacity.available, max: row.capacity.maximum })}</output>
          <button type="button" class="round" aria-label=${t("capacity_more", { name })} onClick=${() => change(row, 1)}>+</button>
        </li>`;
      })}
    </ul>
  </section>`;
}

export function Inbox({ user }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const load = () =>
    get("/api/v1/referrals?box=received&limit=100")
      .then((page) => {
        setItems(sortInbox(page.items));
        setError(null);
      })
      .catch((e) => setError(e.message));
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, []);
  return html`<section class="card">
      <h1>${t("inbox")}</h1>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${!items ? html`<p>${t("loading")}</p>` : items.length === 0 ? html`<p>${t("inbox_empty")}</p>` : null}
      <ul class="inbox">
        ${(items ?? []).map((r) => html`<${Item} key=${r.id} referral=${r} reload=${load} />`)}
      </ul>
    </section>
    <${Capacity} org=${user.org} />`;
}
