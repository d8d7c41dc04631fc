// Online screening: created on the server when the questions start; every answer is saved at once,
// so a reload (sign in again, same address) continues where it stopped.
import { html, useEffect, useState } from "../html.js";
import { get, patch, post } from "../api.js";
import { t } from "../i18n.js";
import { emptyDraft, Wizard } from "./wizard.js";

function fromServer(row) {
  return { ...emptyDraft(), step: "questions", personLanguage: row.language, instrument: row.instrument, answers: row.answers ?? {}, section: 0 };
}

export function Screening({ id, online }) {
  const [draft, setDraft] = useState(id && id !== "new" ? null : emptyDraft());
  const [screeningId, setScreeningId] = useState(id && id !== "new" ? id : null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!online && !screeningId) location.hash = "#/offline";
  }, [online]);
  useEffect(() => {
    if (id && id !== "new" && !draft)
      get(`/api/v1/screenings/${id}`)
        .then((row) => (row.state === "submitted" ? (location.hash = `#/result/${id}`) : setDraft(fromServer(row))))
        .catch((e) => setError(e.message));
  }, [id]);
  if (error) return html`<p class="error card" role="alert">${error}</p>`;
  if (!draft) return html`<p>${t("loading")}</p>`;
  const backend = {
    async start(body) {
      const created = await post("/api/v1/screenings", body, { "Idempotency-Key": crypto.randomUUID() });
      setScreeningId(created.id);
      history.replaceState(null, "", `#/screen/${created.id}`);
      return created.id;
    },
    async save(changed) {
      await patch(`/api/v1/screenings/${screeningId}/answers`, { answers: changed });
    },
    async submit() {
      await post(`/api/v1/screenings/${screeningId}/submit`);
      location.hash = `#/result/${screeningId}`;
    },
  };
  return html`<${Wizard} draft=${draft} setDraft=${setDraft} backend=${backend} />`;
}
