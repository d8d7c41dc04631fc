// The device store: finished screenings waiting for the network, and drafts made offline.
// Everything in it is sealed with AES-GCM under a key derived (PBKDF2-SHA-256) from a PIN the user
// sets on this device. The PIN and the key are never stored: the key lives in memory while unlocked.
// Five wrong PINs wipe the store; so does signing out.
import { deleteDB, openDB } from "./vendor/idb.js";
import { onWipe } from "./auth.js";

const NAME = "putokaz-device";
const ITERATIONS = 600_000;
const MAX_FAILURES = 5;
const CHECK = "putokaz-pin-check";
let connection = null;
let key = null;
const listeners = new Set();

export const onStoreChange = (listener) => (listeners.add(listener), () => listeners.delete(listener));
const changed = () => listeners.forEach((l) => l());

async function db() {
  if (!connection)
    connection = await openDB(NAME, 1, {
      upgrade(database) {
        database.createObjectStore("meta");
        database.createObjectStore("queue", { keyPath: "id" });
        database.createObjectStore("drafts", { keyPath: "id" });
      },
    });
  return connection;
}

async function derive(pin, salt) {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations: ITERATIONS },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function encrypt(withKey, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new TextEncoder().encode(JSON.stringify(value));
  return { iv, data: new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, withKey, data)) };
}

async function decrypt(withKey, sealed) {
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, withKey, sealed.data);
  return JSON.parse(new TextDecoder().decode(plain));
}

/** Reading never creates the store: after a wipe there is nothing on the device until a PIN is set. */
async function exists() {
  if (connection) return true;
  return (await indexedDB.databases()).some((d) => d.name === NAME);
}

export const isUnlocked = () => key !== null;
export async function hasPin() {
  return (await exists()) && Boolean(await (await db()).get("meta", "pin"));
}

export async function setPin(pin) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const derived = await derive(pin, salt);
  await (await db()).put("meta", { salt, check: await encrypt(derived, CHECK), failures: 0 }, "pin");
  key = derived;
  changed();
}

/** true when the PIN is right; false when wrong; "wiped" after the fifth wrong PIN in a row. */
export async function unlock(pin) {
  const database = await db();
  const meta = await database.get("meta", "pin");
  if (!meta) return false;
  const derived = await derive(pin, meta.salt);
  try {
    if ((await decrypt(derived, meta.check)) !== CHECK) throw new Error("wrong");
  } catch {
    meta.failures += 1;
    if (meta.failures >= MAX_FAILURES) {
      await wipe();
      return "wiped";
    }
    await database.put("meta", meta, "pin");
    return false;
  }
  meta.failures = 0;
  await database.put("meta", meta, "pin");
  key = derived;
  changed();
  return true;
}

export async function failures() {
  if (!(await exists())) return 0;
  return (await (await db()).get("meta", "pin"))?.failures ?? 0;
}

export function lock() {
  key = null;
  changed();
}

export async function wipe() {
  key = null;
  if (connection) connection.close();
  connection = null;
  await deleteDB(NAME);
  changed();
}
onWipe(wipe);

// --- the queue of finished screenings -------------------------------------------------------
/** Seal a finished screening; its Idempotency-Key is made now, once, and kept with it. */
export async function enqueue(screening, id = crypto.randomUUID()) {
  const item = {
    id,
    idempotencyKey: crypto.randomUUID(),
    createdAt: Date.now(),
    serverId: null,
    sealed: await encrypt(key, screening),
  };
  await (await db()).put("queue", item);
  changed();
  return item.id;
}

/** Queue entries without their contents (no PIN needed): ids, ages, progress. */
export async function queued() {
  if (!(await exists())) return [];
  const items = await (await db()).getAll("queue");
  return items.map(({ sealed, refused, ...rest }) => ({ ...rest, refusedStatus: refused?.status ?? null }));
}

export async function openQueued(id) {
  const item = await (await db()).get("queue", id);
  if (!item) return null;
  const problem = item.refused ? await decrypt(key, item.refused.sealed) : null;
  return { ...item, screening: await decrypt(key, item.sealed), problem };
}

/** The server refused the screening (a 4xx): its problem is kept, sealed too (its texts may quote what was sent);
 * only the status stays readable, so the queue can say "needs correction" (422) before the PIN is given. */
export async function markRefused(id, problem) {
  await markQueued(id, { refused: { status: problem.status, sealed: await encrypt(key, problem) } });
  changed();
}

/** A refused screening corrected: sealed again under the same id, Idempotency-Key and server id, to be sent again. */
export async function requeue(id, screening) {
  const database = await db();
  const item = await database.get("queue", id);
  if (!item) throw new Error(`no queued screening ${id}`);
  const { refused: _, ...rest } = item;
  await database.put("queue", { ...rest, sealed: await encrypt(key, screening) });
  changed();
}

export async function markQueued(id, fields) {
  const database = await db();
  const item = await database.get("queue", id);
  if (item) await database.put("queue", { ...item, ...fields });
}

export async function dequeue(id) {
  await (await db()).delete("queue", id);
  changed();
}

// --- offline drafts (so a reload loses nothing) ---------------------------------------------
export async function saveDraft(id, draft) {
  await (await db()).put("drafts", { id, updatedAt: Date.now(), sealed: await encrypt(key, draft) });
}

export async function loadDraft(id) {
  const row = await (await db()).get("drafts", id);
  return row ? decrypt(key, row.sealed) : null;
}

export async function drafts() {
  if (!(await exists())) return [];
  return (await (await db()).getAll("drafts")).map(({ id, updatedAt }) => ({ id, updatedAt }));
}

export async function deleteDraft(id) {
  await (await db()).delete("drafts", id);
}
