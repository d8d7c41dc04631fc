"""Offline: a whole screening without network, sealed under the device PIN, sent exactly once when the
network returns, even when the connection drops in the middle of the sync and "send" is pressed twice."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from web.tests.browser import check_screen, sign_in, wait_until
from web.tests.test_journeys import ADULT_YES, answer_yes_everywhere_asked, person_step

PIN = "482913"
# The adult instrument's required question, as the screener reads it in Bosnian.
WORKED_BS = "Otkako ste napustili dom, da li ste radili ili bili primorani da radite bilo šta za nekoga?"
CACHED_TEXT = """async () => {
    let text = "";
    for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) text += request.url + (await (await cache.match(request)).text());
    }
    return text;
}"""
DEVICE_STORE = """async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes("putokaz-device")) return null;
    const db = await new Promise((ok, fail) => {
        const r = indexedDB.open("putokaz-device");
        r.onsuccess = () => ok(r.result);
        r.onerror = fail;
    });
    const read = (store) => new Promise((ok) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => ok(r.result);
    });
    const out = { queue: await read("queue"), drafts: await read("drafts"), meta: await read("meta") };
    db.close();
    return JSON.stringify(out);
}"""
# The app's own store module (its source file, beside the running bundle), loaded while online: with the PIN it
# edits a sealed queued screening as an app without the required-question check would have left it.
LOAD_STORE = """async () => {
    const entry = document.querySelector("script[type=module]").src;
    window.deviceStore = await import(new URL("store.js", entry).href);
}"""
DROP_ANSWER = """async ([pin, question]) => {
    const store = window.deviceStore;
    if ((await store.unlock(pin)) !== true) throw new Error("the PIN did not open the store");
    const [meta] = await store.queued();
    const item = await store.openQueued(meta.id);
    delete item.screening.answers[question];
    delete item.screening.draft.answers[question];
    await store.requeue(meta.id, item.screening);
    store.lock();
}"""


def questionnaires_cached(page: Any) -> int:
    return page.evaluate("async () => (await (await caches.open('questionnaires')).keys()).length")


def screenings_of(web: Any, make_token: Any, given: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What the police of the demo org find for the test person: the whole answer and its matches."""
    police = make_token("police", org="demo-police-una-sana")
    found = httpx.post(
        web.url + "/api/v1/screenings/lookup",
        json={"given_name": given, "family_name": "Testperson"},
        headers={"Authorization": f"Bearer {police}"},
    ).json()
    return found, found.get("matches", found.get("items"))


def go_offline_and_start(page: Any, context: Any, seen: dict[str, list[str]] | None = None) -> None:
    wait_until(page, "navigator.serviceWorker.controller !== null")
    # Every published questionnaire in every language (3 × 8) and the list, kept for offline use.
    for _ in range(600):
        if questionnaires_cached(page) >= 25:
            break
        page.wait_for_timeout(100)
    context.set_offline(True)
    page.get_by_role("link", name="Nova procjena").click()
    page.locator('input[name="pin"]').wait_for()
    if seen is not None:
        check_screen(page, "offline: set a PIN", seen)
    page.fill('input[name="pin"]', PIN)
    page.fill('input[name="pin-again"]', PIN)
    page.get_by_role("button", name="Postavi PIN").click()
    page.get_by_role("link", name="Nova procjena").click()


@pytest.mark.slow
def test_an_offline_screening_is_sent_exactly_once_despite_a_cut_mid_sync_and_a_double_press(
    context: Any, web: Any, make_token: Any
) -> None:
    page = context.new_page()
    sign_in(page, "police-una-sana", ui_language="bs")
    seen: dict[str, list[str]] = {}
    go_offline_and_start(page, context, seen)
    given = f"Offline{uuid.uuid4().hex[:8]}"
    page.locator('select[name="person-language"]').select_option("fa")
    page.get_by_role("button", name="Dalje").click()
    person_step(page, given, "29", "F", "AF", "9", "Sarajevo")
    page.get_by_role("button", name="Dalje").click()
    page.get_by_label("Da, osoba pristaje").check()
    page.get_by_role("button", name="Počni s pitanjima").click()
    answer_yes_everywhere_asked(page, ADULT_YES, seen, "offline")
    # Offline, the result waits; the steps that do not depend on the score still show.
    page.get_by_role("heading", name="Rezultat na čekanju").wait_for()
    assert page.locator(".steps li").count() >= 1
    check_screen(page, "offline: result pending", seen)

    # Nothing identifying in the service worker's caches, and only ciphertext in IndexedDB.
    assert given not in page.evaluate(CACHED_TEXT)
    stored = page.evaluate(DEVICE_STORE)
    assert stored and '"queue":[{' in stored and given not in stored and "Testperson" not in stored

    posts: list[str | None] = []

    def cut_the_first_create(route: Any) -> None:
        posts.append(route.request.headers.get("idempotency-key"))
        if len(posts) == 1:
            route.fetch()  # the server creates the screening ...
            route.abort("connectionreset")  # ... and the answer never arrives
        else:
            route.continue_()

    page.route(
        "**/api/v1/screenings",
        lambda route: cut_the_first_create(route) if route.request.method == "POST" else route.continue_(),
    )
    page.goto("/#/")  # same document: still signed in, the PIN key still in memory
    page.locator("#queue-title").wait_for()
    context.set_offline(False)  # the app notices and starts sending at once; that first try is cut
    for _ in range(100):
        if posts:
            break
        page.wait_for_timeout(100)
    send = page.get_by_role("button", name="Pošalji sada")
    send.wait_for()
    check_screen(page, "home: waiting to be sent", seen)
    page.wait_for_timeout(500)
    assert page.locator("#queue-title").count() == 1  # still waiting after the cut
    send.dblclick()  # two presses: one sync
    page.locator("#queue-title").wait_for(state="detached", timeout=30_000)

    assert len(posts) >= 2 and len(set(posts)) == 1 and posts[0], posts
    found, matches = screenings_of(web, make_token, given)
    assert len(matches) == 1, found
    assert matches[0]["state"] == "submitted" and matches[0]["outcome"] == "PRESUMED_VICTIM"
    assert '"queue":[]' in page.evaluate(DEVICE_STORE)
    assert {name: problems for name, problems in seen.items() if problems} == {}


@pytest.mark.slow
def test_five_wrong_pins_and_sign_out_each_wipe_the_device_store(context: Any) -> None:
    page = context.new_page()
    sign_in(page, "police-una-sana", ui_language="bs")
    go_offline_and_start(page, context)
    page.locator('select[name="person-language"]').select_option("bs")
    page.get_by_role("button", name="Dalje").click()
    page.fill('input[name="given_name"]', "Draftperson")
    assert "Draftperson" not in (page.evaluate(DEVICE_STORE) or "")
    assert '"drafts":[{' in page.evaluate(DEVICE_STORE)
    # A reload forgets the key; the PIN is asked again. Five wrong tries erase the store.
    page.reload()
    page.goto("/#/offline")
    page.locator('input[name="pin"]').wait_for()
    seen: dict[str, list[str]] = {}
    check_screen(page, "offline: unlock", seen)
    assert seen == {"offline: unlock": []}
    for _ in range(5):
        page.fill('input[name="pin"]', "000000")
        page.get_by_role("button", name="Otključaj").click()
        wait_until(page, "document.querySelector('input[name=pin]').value === ''")
    page.get_by_role("heading", name="Postavite PIN uređaja").wait_for()
    assert '"drafts":[]' in (page.evaluate(DEVICE_STORE) or '"drafts":[]')

    # Sign-out: set a PIN again, keep a draft, sign out: the store is gone.
    context.set_offline(False)
    page.fill('input[name="pin"]', PIN)
    page.fill('input[name="pin-again"]', PIN)
    page.get_by_role("button", name="Postavi PIN").click()
    # Deriving the key (PBKDF2, 600,000 rounds) can take long on a loaded machine: wait for the unlocked page.
    page.get_by_role("link", name="Nova procjena").click(timeout=60_000)
    page.get_by_role("button", name="Dalje").click()
    page.goto("/#/")
    sign_in(page, "police-una-sana", ui_language="bs")
    page.get_by_role("button", name="Odjava").click()
    page.locator('button[data-user="police-una-sana"]').wait_for()
    assert page.evaluate(DEVICE_STORE) is None


def start_offline_adult(page: Any, context: Any, given: str) -> None:
    """Offline, PIN set: an adult screening in Bosnian up to its first section of questions."""
    go_offline_and_start(page, context)
    page.locator('select[name="person-language"]').select_option("bs")
    page.get_by_role("button", name="Dalje").click()
    person_step(page, given, "29", "F", "AF", "9", "Sarajevo")
    page.get_by_role("button", name="Dalje").click()
    page.get_by_label("Da, osoba pristaje").check()
    page.get_by_role("button", name="Počni s pitanjima").click()


def refuse_finishing_without(page: Any, question: str, text: str, seen: dict[str, list[str]], name: str) -> None:
    """Finish is refused naming the required question; the app goes back to it, keyboard on its section."""
    page.get_by_role("button", name="Završi i vidi rezultat").click()
    alert = page.locator("main .error[role=alert]")
    alert.wait_for()
    assert text in alert.inner_text() and "obavezna pitanja" in alert.inner_text()
    flagged = page.locator(f'li.flagged[data-question="{question}"]')
    flagged.wait_for()
    assert "Obavezno" in flagged.inner_text()
    wait_until(page, "document.activeElement && document.activeElement.tagName === 'H1'")
    page.keyboard.press("Tab")  # the keyboard reaches the question to answer from its section's heading
    assert page.evaluate("document.activeElement.name") == f"q-{question}"
    check_screen(page, name, seen)


@pytest.mark.slow
def test_offline_finishing_with_a_required_question_unanswered_is_refused_naming_it(context: Any) -> None:
    page = context.new_page()
    sign_in(page, "police-una-sana", ui_language="bs")
    start_offline_adult(page, context, f"Required{uuid.uuid4().hex[:8]}")
    for _ in range(30):  # every section, nothing answered, to the last
        if page.get_by_role("button", name="Završi i vidi rezultat").count():
            break
        page.get_by_role("button", name="Sljedeći dio").click()
    seen: dict[str, list[str]] = {}
    refuse_finishing_without(page, "worked_for_someone", WORKED_BS, seen, "offline: required question unanswered")
    assert '"queue":[]' in (page.evaluate(DEVICE_STORE) or '"queue":[]')  # nothing queued
    answer_yes_everywhere_asked(page, ("worked_for_someone",), seen, "offline, answered")
    page.get_by_role("heading", name="Rezultat na čekanju").wait_for()
    assert '"queue":[{' in page.evaluate(DEVICE_STORE)
    assert {name: problems for name, problems in seen.items() if problems} == {}


@pytest.mark.slow
def test_a_queued_screening_the_server_refuses_is_corrected_then_sent_once_and_wiped(
    context: Any, web: Any, make_token: Any
) -> None:
    page = context.new_page()
    sign_in(page, "police-una-sana", ui_language="bs")
    page.evaluate(LOAD_STORE)
    given = f"Correct{uuid.uuid4().hex[:8]}"
    start_offline_adult(page, context, given)
    seen: dict[str, list[str]] = {}
    answer_yes_everywhere_asked(page, ("worked_for_someone",), seen, "offline")
    page.get_by_role("heading", name="Rezultat na čekanju").wait_for()
    page.evaluate(DROP_ANSWER, [PIN, "worked_for_someone"])  # queued without its required answer

    submits: list[int] = []
    page.on(
        "response",
        lambda r: submits.append(r.status) if r.url.endswith("/submit") and r.request.method == "POST" else None,
    )
    page.goto("/#/")
    page.locator("#queue-title").wait_for()
    context.set_offline(False)
    refused = page.locator('li.refused[data-refused="422"]')
    refused.wait_for(timeout=30_000)
    wait_until(page, "document.querySelector('li.refused ul.errors')")
    # The server's field error in the screener's language: the question as she reads it, and "required".
    assert WORKED_BS in refused.inner_text() and "Obavezno" in refused.inner_text(), refused.inner_text()
    assert "treba ispravku" in refused.inner_text()
    check_screen(page, "home: a screening needs correction", seen)
    page.get_by_role("button", name="Pošalji sada").click()  # not sent again as it is: one refused submit
    page.wait_for_timeout(1_000)
    assert submits == [422], submits
    assert '"queue":[{' in page.evaluate(DEVICE_STORE)

    # Keyboard alone: Tab reaches "correct", Enter opens it at the question named, still under the PIN.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Ispravi procjenu":
            break
    else:
        raise AssertionError("the keyboard never reached the correction link")
    page.keyboard.press("Enter")
    page.locator('li.flagged[data-question="worked_for_someone"]').wait_for()
    assert WORKED_BS in page.locator("main .error[role=alert]").inner_text()
    check_screen(page, "offline: correcting a refused screening", seen)
    answer_yes_everywhere_asked(page, ("worked_for_someone",), seen, "correction")
    wait_until(page, "document.querySelector('a[href^=\"#/result/\"]')")
    assert '"queue":[]' in page.evaluate(DEVICE_STORE)
    assert submits == [422, 200], submits

    found, matches = screenings_of(web, make_token, given)
    assert len(matches) == 1 and matches[0]["state"] == "submitted", found
    assert {name: problems for name, problems in seen.items() if problems} == {}
