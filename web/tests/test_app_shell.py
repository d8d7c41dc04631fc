"""The app in Chromium: it starts under its CSP without a violation, and signs in with a demo user."""

from __future__ import annotations

from typing import Any

from web.tests.browser import no_horizontal_scroll, serious_violations, sign_in, wait_until


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
