"""Steps and checks the browser tests share: sign in, axe, no horizontal scroll, no CSP violation."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

AXE = Axe()
SERIOUS = {"serious", "critical"}


def sign_in(page: Any, user: str, ui_language: str = "en") -> None:
    page.goto("/")
    page.locator("header select").select_option(ui_language)
    # The catalogue arrives after the choice: sign in once the page speaks the language chosen.
    wait_until(page, f"document.documentElement.lang === '{ui_language}'")
    page.locator(f'button[data-user="{user}"]').click()
    # The sign-in page has a heading of its own: wait for the signed-in header's sign-out button instead.
    page.locator("header button.link").wait_for(state="visible")
    page.locator("main h1").first.wait_for()


def wait_until(page: Any, expression: str, timeout: float = 30.0) -> None:
    """Poll a JS expression (the CSP forbids the string eval that Playwright's wait_for_function uses)."""
    for _ in range(int(timeout * 10)):
        if page.evaluate(f"async () => Boolean({expression})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {expression}")


def serious_violations(page: Any) -> list[str]:
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]


def no_horizontal_scroll(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def check_screen(page: Any, name: str, seen: dict[str, list[str]]) -> None:
    """Axe finds nothing serious, and nothing scrolls sideways at phone width."""
    problems = serious_violations(page)
    if not no_horizontal_scroll(page):
        problems.append("horizontal scroll at 360 px")
    seen[name] = problems


def answer_sections(
    page: Any, answers: dict[str, Any], finish: str, seen: dict[str, list[str]], screen: str, saved: str | None = None
) -> None:
    """Walk the questionnaire section by section: give each answer once its question is shown (skip logic
    reveals some; a list is every code of a multiple choice), waiting for the `saved` status after each if
    given; check the first section's screen; press `finish` where it shows, every answer given by then."""
    pending = dict(answers)
    for number in range(1, 30):
        for question, value in list(pending.items()):
            item = page.locator(f'li[data-question="{question}"]')
            if not item.count():
                continue
            for code in value if isinstance(value, list) else [value]:
                item.locator(f'input[value="{code}"]').check()
            if saved:
                page.get_by_role("status").filter(has_text=saved).wait_for()
            del pending[question]
        if number == 1:
            check_screen(page, screen, seen)
        done = page.get_by_role("button", name=finish)
        if done.count():
            assert not pending, f"never shown: {list(pending)}"
            done.click()
            return
        page.get_by_role("button", name="Sljedeći dio").click()
    raise AssertionError("the questionnaire never ended")
