"""The app in Chromium: it starts under its CSP without a violation, and signs in with a demo user."""

from __future__ import annotations

from typing import Any

import pytest

from web.tests.browser import check_screen, no_horizontal_scroll, serious_violations, sign_in, wait_until
from web.tests.test_catalogues import catalogue

CACHED_CATALOGUES = """async () => {
    const names = [];
    for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) names.push(r.url);
    return names.filter((url) => url.includes("i18n")).map((url) => url.split("/").pop());
}"""


def test_sign_in_page_works_under_the_csp_in_ltr_and_rtl(page: Any) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/")
    page.locator('button[data-user="police-una-sana"]').wait_for()
    assert serious_violations(page) == [] and no_horizontal_scroll(page)
    page.locator("header select").select_option("fa")
    wait_until(page, "document.documentElement.dir === 'rtl'")  # once the Farsi catalogue has arrived
    assert serious_violations(page) == [] and no_horizontal_scroll(page)
    assert problems == []  # a CSP violation is reported as a console error


def test_demo_sign_in_keeps_the_token_out_of_every_storage(page: Any) -> None:
    sign_in(page, "police-una-sana")
    assert page.get_by_role("link", name="New screening").is_visible()
    stored = page.evaluate(
        """async () => {
            const all = [JSON.stringify(localStorage), JSON.stringify(sessionStorage), document.cookie];
            for (const db of await indexedDB.databases()) all.push(db.name);
            return all.join(" ");
        }"""
    )
    assert "eyJ" not in stored  # no JWT anywhere a script or another tab could read it


@pytest.mark.parametrize(("language", "direction"), [("hr", "ltr"), ("sr-Cyrl", "ltr"), ("ar", "rtl")])
def test_the_home_screen_speaks_the_screeners_language_in_its_direction(
    page: Any, language: str, direction: str
) -> None:
    texts = catalogue(language)
    sign_in(page, "police-una-sana", ui_language=language)
    assert page.get_by_role("link", name=texts["new_screening"]).is_visible()
    assert page.get_by_role("button", name=texts["sign_out"]).is_visible()
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [language, direction]
    # The whole page takes the direction (the CSS uses logical properties only, so it mirrors itself).
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == direction
    seen: dict[str, list[str]] = {}
    check_screen(page, f"home in {language}", seen)
    assert seen == {f"home in {language}": []}


def test_the_worker_keeps_only_the_catalogue_chosen_and_starts_in_it_offline(context: Any, page: Any) -> None:
    page.goto("/")
    page.locator('button[data-user="police-una-sana"]').wait_for()
    page.locator("header select").select_option("sr-Cyrl")
    wait_until(page, "document.documentElement.lang === 'sr-Cyrl' && navigator.serviceWorker.controller !== null")
    for _ in range(300):
        kept = page.evaluate(CACHED_CATALOGUES)
        if "app.i18n.sr-Cyrl.js" in kept:
            break
        page.wait_for_timeout(100)
    # The chosen one, and the browser's own (bs-BA) that the page announced; never all twelve.
    assert set(kept) <= {"app.i18n.sr-Cyrl.js", "app.i18n.bs.js"} and "app.i18n.sr-Cyrl.js" in kept
    context.set_offline(True)
    try:
        page.reload()
        wait_until(page, "document.documentElement.lang === 'sr-Cyrl'")
        assert page.get_by_role("link", name=catalogue("sr-Cyrl")["work_offline"]).is_visible()
    finally:
        context.set_offline(False)


def refused_requests_and_errors(page: Any) -> list[str]:
    """What goes wrong on this page from now on: console errors, uncaught errors, failed or refused requests."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return problems


def test_roles_that_do_not_screen_sign_in_without_a_refused_request(context: Any) -> None:
    """Questionnaires and the offline queue are for police and social workers: a coordinator or a
    safe house signing in asks the API for nothing its role is refused (no 403, no console error)."""
    for user in ("coordinator", "safe-house-zenica"):
        page = context.new_page()
        problems = refused_requests_and_errors(page)
        sign_in(page, user)
        # The questionnaires were fetched once the service worker controlled the page: wait for that, then some.
        wait_until(page, "navigator.serviceWorker.controller !== null")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)
        assert problems == [], user
        page.close()
