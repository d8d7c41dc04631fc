"""Keyboard alone: sign in, start a screening, fill the person, answer a question, move on: no mouse."""

from __future__ import annotations

from typing import Any


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_a_screening_can_be_started_and_answered_with_the_keyboard_alone(page: Any) -> None:
    page.goto("/")
    page.locator('button[data-user="police-una-sana"]').wait_for()
    tab_to(page, 'button[data-user="police-una-sana"]')
    page.keyboard.press("Enter")
    page.locator('a[href="#/screen/new"]').wait_for()  # the UI follows the browser: Bosnian here
    tab_to(page, 'a[href="#/screen/new"]')
    page.keyboard.press("Enter")
    page.locator('select[name="person-language"]').wait_for(timeout=60_000)
    tab_to(page, 'select[name="person-language"]')
    page.keyboard.press("Home")  # the first language (English)
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")
    page.locator('input[name="given_name"]').wait_for(timeout=60_000)  # both copies of the questionnaire load
    tab_to(page, 'input[name="given_name"]')
    page.keyboard.type("Keyboard")
    tab_to(page, 'input[name="age_estimate"]')
    page.keyboard.type("15")
    assert page.locator("[data-instrument]").get_attribute("data-instrument") == "child"
    page.locator("#municipalities option").first.wait_for(state="attached")  # the gazetteer's names are offered
    tab_to(page, 'input[name="municipality"]')
    page.keyboard.type("Bihać")
    assert page.locator('input[name="canton"]').input_value() == "1"  # a known municipality fills in its canton
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")  # a child: straight to the questions
    page.locator(".question-list").wait_for(timeout=60_000)
    tab_to(
        page, 'li[data-question="danger_now"] input[value="yes"], li[data-question="danger_now"] input[type="radio"]'
    )
    page.keyboard.press("Space")
    page.get_by_role("status").filter(has_text="Spremljeno").wait_for()
    tab_to(page, "button.primary")
    page.keyboard.press("Enter")
    page.get_by_text("Dio 2 od").wait_for()
