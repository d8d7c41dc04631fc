// The referrals this organisation sent, with their status kept current (polled while open).
import { html, useEffect, useState } from "../html.js";
import { get } from "../api.js";
import { t } from "../i18n.js";

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
        </li>`,
      )}
    </ul>
  </section>`;
}
