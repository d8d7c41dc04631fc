// The referrals this organisation sent, with their status kept current (polled while open).
import { html, useEffect, useState } from "../html.js";
import { get } from "../api.js";
import { t } from "../i18n.js";

/** Where to bring the person: the API sends it to the referrer only while the referral is accepted or in progress. */
function Destination({ destination: d }) {
  if (!d) return null;
  const place = (loc) => [loc.address?.address_1, loc.address?.postal_code, loc.address?.city ?? loc.municipality];
  return html`<div class="destination">
    <h2>${t("destination_title")}</h2>
    <p class="hint">${t("destination_hint")}</p>
    <p><strong>${d.organisation_name}</strong> · ${d.service_name}</p>
    <dl class="handover">
      ${d.locations.map(
        (loc) => html`<dt>${t("destination_address")}</dt>
          <dd><address data-location=${loc.id}>${place(loc).filter(Boolean).join(", ")}</address></dd>`,
      )}
      ${d.email && html`<dt>${t("destination_email")}</dt><dd><a href=${`mailto:${d.email}`}>${d.email}</a></dd>`}
      ${/^https?:\/\//.test(d.website ?? "") && html`<dt>${t("destination_website")}</dt><dd><a href=${d.website} rel="noreferrer">${d.website}</a></dd>`}
    </dl>
  </div>`;
}

export function MyReferrals({ user }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = false;
    const load = () =>
      get("/api/v1/referrals?box=sent&limit=50")
        .then((page) => {
          if (stop) return;
          setItems(page.items);
          setError(null);
        })
        .catch((e) => !stop && setError(e.message));
    load();
    const timer = setInterval(load, 3000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, []);
  // A failed poll is shown beside the last list and cleared by the next good one: a passing network
  // hiccup must not replace the live status with an error for good.
  if (!items) return error ? html`<p class="error card" role="alert">${error}</p>` : html`<p>${t("loading")}</p>`;
  return html`<section class="card">
    <h1>${t("my_referrals")}</h1>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${items.length === 0 && html`<p>${t("no_referrals")}</p>`}
    <ul class="referrals" aria-live="polite">
      ${items.map(
        (r) => html`<li data-referral=${r.id} data-status=${r.status}>
          <strong>${t(`service_${r.service_type}`)}</strong> · ${r.to_org}
          <span class=${`status status-${r.status}`}>${t(`status_${r.status}`)}</span>
          ${r.reason_code && html`<span class="hint">${t(`reason_${r.reason_code}`)}</span>`}
          <span class="hint">${new Date(r.updated_at).toLocaleString()}</span>
          <${Destination} destination=${r.destination} />
        </li>`,
      )}
    </ul>
  </section>`;
}
