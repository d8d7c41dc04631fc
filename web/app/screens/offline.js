// Screening without network: the draft and the finished screening are sealed on the device under
// the PIN; the result waits for the network, but the steps that do not depend on it show at once.
import { html, useEffect, useRef, useState } from "../html.js";
import { focusHeading } from "../focus.js";
import { t } from "../i18n.js";
import { isChild } from "../questionnaire.js";
import { deleteDraft, drafts, enqueue, loadDraft, openQueued, queued, requeue, saveDraft } from "../store.js";
import { NEEDS_CORRECTION, onSync, sentAs, syncNow } from "../sync.js";
import { PinGate } from "./queue.js";
import { emptyDraft, Wizard } from "./wizard.js";

function urgentAnswered(answers) {
  return ["danger_now", "injured", "alone"].some((k) => answers[k] === "yes");
}

export function PendingResult({ localId, child, urgent }) {
  const [serverId, setServerId] = useState(sentAs(localId));
  useEffect(() => onSync(() => setServerId(sentAs(localId))), [localId]);
  // Shown in place of the questions (the address stays): the keyboard goes to its heading, not the body.
  useEffect(() => focusHeading(), []);
  return html`<section class="card result">
    <h1>${t("result_pending")}</h1>
    <p>${serverId ? t("result_sent") : t("result_pending_explain")}</p>
    ${serverId && html`<a class="button primary" href=${`#/result/${serverId}`}>${t("see_result")}</a>`}
    <h2>${t("next_step")}</h2>
    <ul class="steps">
      ${urgent && html`<li class="urgent">${t("action_act_now_immediate_safety")}</li>`}
      ${child && html`<li>${t("action_refer_to_centre_for_social_welfare")}</li>`}
      <li>${t("pending_keep_safe")}</li>
    </ul>
    <a class="button" href="#/">${t("home")}</a>
  </section>`;
}

function OfflineScreening({ localId }) {
  const [draft, setDraft] = useState(null);
  const [finished, setFinished] = useState(null);
  const [id] = useState(localId || crypto.randomUUID());
  useEffect(() => {
    (async () => {
      const saved = localId ? await loadDraft(localId) : null;
      if (saved) {
        body.current = saved.body;
        return setDraft(saved.draft);
      }
      const waiting = localId ? (await queued()).find((q) => q.id === localId) : null;
      if (waiting?.refusedStatus === NEEDS_CORRECTION) return correct(await openQueued(localId));
      if (localId && (sentAs(localId) || waiting)) return setFinished({ child: false, urgent: false });
      setDraft(emptyDraft());
    })();
  }, [localId]);
  const body = useRef(null);
  const [refusal, setRefusal] = useState(null);
  // A queued screening the server refused (422) opens again where its errors are: at the questions when the server
  // has the screening, else at the person (a refused create). Its draft is the one queued with it.
  function correct(item) {
    const { create, answers, draft: queuedDraft } = item.screening;
    body.current = create;
    const base = queuedDraft ?? { ...emptyDraft(), personLanguage: create.language };
    const atQuestions = item.serverId || !queuedDraft;
    setRefusal(item.problem);
    setDraft({ ...base, instrument: atQuestions ? create.instrument : base.instrument, answers: answers ?? {}, step: atQuestions ? "questions" : "person", section: 0 });
  }
  if (finished) return html`<${PendingResult} localId=${id} ...${finished} />`;
  if (!draft) return html`<p>${t("loading")}</p>`;
  const backend = {
    remember: (next) => saveDraft(id, { draft: next, body: body.current }),
    async start(created) {
      body.current = created;
      history.replaceState(null, "", `#/offline/${id}`);
    },
    async save(_changed, answers) {
      await saveDraft(id, { draft: { ...draft, answers }, body: body.current });
    },
    async submit(current) {
      const saved = await loadDraft(id);
      const create = saved?.body ?? body.current;
      const screening = { create, answers: current.answers, draft: current };
      // A correction goes back under its own id, Idempotency-Key and server id: still sent exactly once.
      if ((await queued()).some((q) => q.id === id)) {
        await requeue(id, screening);
        syncNow().catch(() => {});
      } else await enqueue(screening, id);
      await deleteDraft(id);
      setFinished({ child: isChild(current.subject, current.possiblyMinor) || create.instrument === "child", urgent: urgentAnswered(current.answers) });
    },
  };
  return html`<p class="notice offline-note">${t("offline_mode")}</p><${Wizard}
      draft=${draft}
      setDraft=${setDraft}
      backend=${backend}
      refusal=${refusal}
    />`;
}

function OfflineHome() {
  const [list, setList] = useState([]);
  useEffect(() => {
    drafts().then(setList);
  }, []);
  return html`<section class="card">
    <h1>${t("offline_title")}</h1>
    <p>${t("offline_explain")}</p>
    <a class="button primary" href=${`#/offline/${crypto.randomUUID()}`}>${t("new_screening")}</a>
    ${list.length > 0 &&
    html`<h2>${t("drafts")}</h2>
      <ul class="choices">
        ${list.map((d) => html`<li><a class="button" href=${`#/offline/${d.id}`}>${t("continue_draft", { when: new Date(d.updatedAt).toLocaleString() })}</a></li>`)}
      </ul>`}
  </section>`;
}

export function Offline({ localId }) {
  return html`<${PinGate}>${localId ? html`<${OfflineScreening} key=${localId} localId=${localId} />` : html`<${OfflineHome} />`}<//>`;
}
