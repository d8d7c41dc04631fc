// Sending queued screenings when the network is back: each exactly once.
// The Idempotency-Key made when the screening was queued goes with every try, so a create whose
// answer was lost (a cut mid-sync) answers the same screening when retried; answers are replaced
// as a whole and a second submit is refused (409), so every step can be repeated safely.
// A Web Lock keeps two presses, or two tabs, from sending at the same time.
// A refusal (4xx) is never dropped: the problem is sealed with the screening and shown in the queue. A 422 is
// something the screener can correct: it is not sent again until corrected (offline.js reopens it at the
// questions named); any other refusal (403, 409…) is shown and tried again with the rest.
import { ApiError, get, patch, post } from "./api.js";
import { currentToken, currentUser } from "./auth.js";
import { screensPeople } from "./roles.js";
import { dequeue, isUnlocked, markQueued, markRefused, openQueued, queued } from "./store.js";

export const WARN_AFTER_MS = 72 * 3600 * 1000;
let running = null;
let started = false;
const sent = new Map(); // local id -> server screening id, for this session's "see result" links
const listeners = new Set();
export const onSync = (listener) => (listeners.add(listener), () => listeners.delete(listener));
export const sentAs = (localId) => sent.get(localId);

// Not a refusal of the screening: the sign-in has expired (401), or the server asks to wait (408, 429).
const RETRY_AS_IS = new Set([401, 408, 429]);
export const NEEDS_CORRECTION = 422;

async function sendOne(meta) {
  const item = await openQueued(meta.id);
  if (!item) return;
  try {
    await send(item);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500 || RETRY_AS_IS.has(error.status)) throw error;
    await markRefused(item.id, { ...error.problem, status: error.status });
  }
}

async function send(item) {
  let id = item.serverId;
  if (!id) {
    const created = await post("/api/v1/screenings", item.screening.create, { "Idempotency-Key": item.idempotencyKey });
    id = created.id;
    await markQueued(item.id, { serverId: id });
  }
  const answers = { ...item.screening.answers };
  if (item.serverId) {
    // Sent before (a cut, or a correction): an answer on the server that the device no longer has is cleared,
    // since answers are merged (null removes) and one left behind could be a question the correction skips.
    const current = await get(`/api/v1/screenings/${id}`);
    for (const question of Object.keys(current.answers ?? {})) if (!(question in answers)) answers[question] = null;
  }
  try {
    if (Object.keys(answers).length) await patch(`/api/v1/screenings/${id}/answers`, { answers });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409)) throw error; // 409: already submitted
  }
  try {
    await post(`/api/v1/screenings/${id}/submit`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409)) throw error;
    const current = await get(`/api/v1/screenings/${id}`);
    if (current.state !== "submitted") throw error;
  }
  sent.set(item.id, id);
  await dequeue(item.id); // the sealed copy is wiped once the server has it
}

async function run() {
  // A later sign-in in the same tab by another role (a coordinator) sends nothing: its token would be refused.
  if (!currentToken() || !screensPeople(currentUser()) || !isUnlocked() || !navigator.onLine) return;
  const work = async () => {
    for (const meta of await queued()) if (meta.refusedStatus !== NEEDS_CORRECTION) await sendOne(meta);
  };
  try {
    if (navigator.locks) await navigator.locks.request("putokaz-sync", work);
    else await work();
  } finally {
    listeners.forEach((l) => l());
  }
}

/** Send everything waiting; a second call while one runs joins the running one. */
export function syncNow() {
  if (!running) running = run().finally(() => (running = null));
  return running;
}

export function startSync() {
  if (started) return;
  started = true;
  addEventListener("online", () => syncNow().catch(() => {}));
  setInterval(() => syncNow().catch(() => {}), 30_000);
  prefetchQuestionnaires().catch(() => {});
  syncNow().catch(() => {});
}

/** Every published questionnaire in every language, fetched once so the service worker keeps a copy. */
export async function prefetchQuestionnaires() {
  // Through the service worker, or nothing is kept: wait until it controls this page.
  if (!navigator.serviceWorker) return;
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller)
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  const list = await get("/api/v1/questionnaires?lang=en");
  const items = list.items ?? list;
  const languages = items[0]?.languages ?? [];
  await Promise.all(items.flatMap((q) => languages.map((lang) => get(`/api/v1/questionnaires/${q.code}?lang=${lang}`))));
}
