// The device PIN and the queue of screenings waiting for the network.
import { focusHeading } from "../focus.js";
import { html, useEffect, useRef, useState } from "../html.js";
import { t, uiLanguage } from "../i18n.js";
import { fieldErrors, questionIndex, screenerCopy } from "../questionnaire.js";
import { hasPin, isUnlocked, onStoreChange, openQueued, queued, setPin, unlock } from "../store.js";
import { NEEDS_CORRECTION, onSync, syncNow, WARN_AFTER_MS } from "../sync.js";

/** Shows its children once the device store is unlocked; asks for (or sets) the PIN first. Once the PIN is
 * set or opens the store the form is gone: the keyboard goes to the first heading of `then` (what was
 * locked); a PIN refused leaves it in the emptied PIN field. */
export function PinGate({ children, reason, then = "main" }) {
  const [state, setState] = useState(isUnlocked() ? "open" : "checking");
  const [pin, setPinText] = useState("");
  const [again, setAgain] = useState("");
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);
  const field = useRef(null);
  const tried = useRef(false);
  useEffect(() => {
    if (!isUnlocked()) hasPin().then((has) => setState(has ? "unlock" : "create"));
  }, []);
  useEffect(() => {
    if (!tried.current || busy) return;
    if (state === "open") focusHeading(then);
    else field.current?.focus();
  }, [state, busy, message]);
  if (state === "open") return children;
  if (state === "checking") return html`<p>${t("loading")}</p>`;
  const submit = async (event) => {
    event.preventDefault();
    tried.current = true;
    setBusy(true);
    try {
      if (state === "create") {
        if (!/^[0-9]{6,12}$/.test(pin)) return setMessage(t("pin_rules"));
        if (pin !== again) return setMessage(t("pin_mismatch"));
        await setPin(pin);
        setState("open");
      } else {
        const outcome = await unlock(pin);
        if (outcome === true) setState("open");
        else if (outcome === "wiped") {
          setMessage(t("pin_wiped"));
          setState("create");
        } else setMessage(t("pin_wrong"));
      }
    } finally {
      setPinText("");
      setAgain("");
      setBusy(false);
    }
  };
  return html`<form class="card" onSubmit=${submit}>
    <h2>${state === "create" ? t("pin_create") : t("pin_unlock")}</h2>
    <p>${reason || t("pin_why")}</p>
    ${message && html`<p class="error" role="alert">${message}</p>`}
    <label
      >${t("pin")}
      <input type="password" inputmode="numeric" autocomplete="off" name="pin" ref=${field} value=${pin} onInput=${(e) => setPinText(e.target.value)} required
    /></label>
    ${state === "create" &&
    html`<label
      >${t("pin_again")}
      <input type="password" inputmode="numeric" autocomplete="off" name="pin-again" value=${again} onInput=${(e) => setAgain(e.target.value)} required
    /></label>`}
    <button type="submit" class="primary" disabled=${busy}>${state === "create" ? t("pin_set") : t("pin_open")}</button>
  </form>`;
}

/** One screening the server refused: its reasons, in the screener's language where the app has the text; one
 * needing correction opens (still sealed under the PIN) at the questions named. */
function Refused({ meta, n }) {
  const [errors, setErrors] = useState(null);
  const [title, setTitle] = useState("");
  useEffect(() => {
    (async () => {
      const item = await openQueued(meta.id);
      if (!item) return; // sent or wiped meanwhile
      setTitle(item.problem?.title ?? "");
      // Offline the service worker has the questionnaire; without it the server's field names are shown.
      const copy = await screenerCopy(item.screening.create.instrument, uiLanguage()).catch(() => null);
      setErrors(fieldErrors(item.problem, copy ? questionIndex(copy) : {}, t));
    })();
  }, [meta.id, meta.refusedStatus]);
  const correct = meta.refusedStatus === NEEDS_CORRECTION;
  const heading = `refused-${meta.id}`;
  return html`<li class="refused" data-refused=${meta.refusedStatus}>
    <h3 id=${heading}>${t(correct ? "needs_correction" : "refused", { n, status: meta.refusedStatus })}</h3>
    <p>${correct ? t("needs_correction_explain") : t("refused_explain")}</p>
    ${title && html`<p lang="en">${title}</p>`}
    ${errors?.length > 0 && html`<ul class="errors">${errors.map((e) => html`<li>${e.text}</li>`)}</ul>`}
    ${correct && html`<a class="button primary" href=${`#/offline/${meta.id}`} aria-describedby=${heading}>${t("correct_screening")}</a>`}
  </li>`;
}

export function QueueStatus({ online }) {
  const [items, setItems] = useState([]);
  const [error, setError] = useState(null);
  const [unlocked, setUnlocked] = useState(isUnlocked());
  const refresh = () => {
    setUnlocked(isUnlocked());
    queued().then(setItems).catch(() => setItems([]));
  };
  useEffect(() => {
    refresh();
    const a = onStoreChange(refresh);
    const b = onSync(refresh);
    return () => (a(), b());
  }, []);
  useEffect(() => {
    if (unlocked && online && items.length) syncNow().catch((e) => setError(e.message));
  }, [unlocked, online, items.length]);
  if (!items.length) return null;
  const old = items.some((i) => Date.now() - i.createdAt > WARN_AFTER_MS);
  const refused = items.filter((i) => i.refusedStatus);
  const send = () => {
    setError(null);
    syncNow().catch((e) => setError(e.message));
  };
  return html`<section class="card" id="queue" aria-labelledby="queue-title">
    <h2 id="queue-title">${t("waiting_to_send", { count: items.length })}</h2>
    ${old && html`<p class="warning" role="alert">${t("queue_old")}</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${unlocked && refused.length > 0 && html`<ul class="choices refused-list">${refused.map((meta, i) => html`<${Refused} key=${meta.id} meta=${meta} n=${i + 1} />`)}</ul>`}
    ${!unlocked
      ? html`<${PinGate} reason=${t("pin_to_send")} then="#queue"><span></span></${PinGate}>`
      : html`<button type="button" class="primary" onClick=${send} disabled=${!online}>${t("send_now")}</button>`}
  </section>`;
}
