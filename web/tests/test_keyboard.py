"""Keyboard alone (Tab, Shift+Tab, Enter, Space, Home and arrow keys; never the mouse): sign in, a whole
screening to its result and the identification decision, a referral, the provider's acceptance in its inbox and
a change of its free places, the coordinator's console to a table and the strategy monitor (a reporter's report,
returned by the coordinator), training (a practice, a trainer's group), a prompt sheet, and offline: the device
PIN, a screening to its pending result, the queue sent and the store unlocked again. Every control reached shows
where the focus is, and every new screen takes the focus to its heading."""

from __future__ import annotations

import re
import uuid
from typing import Any

from services.screening.training.vignettes import all_vignettes
from web.tests.browser import wait_until
from web.tests.test_offline import PIN, questionnaires_cached

FOCUSED = "(s) => document.activeElement !== null && document.activeElement.matches(s)"
# The focus ring of styles.css (`:focus-visible`): a keyboard user must see where they are.
FOCUS_SHOWN = """() => {
    const style = getComputedStyle(document.activeElement);
    return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
}"""
CASE = "construction-labour"
CHILD_YES = ("act_moved", "worked_for_someone", "ex_begging_quota", "ex_excessive_hours")


def tab_to(page: Any, selector: str, limit: int = 120, backwards: bool = False) -> None:
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate(FOCUSED, selector):
            assert page.evaluate(FOCUS_SHOWN), f"the focus on {selector} is not visible"
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def focus_on_heading(page: Any, selector: str = "main h1") -> None:
    """A new screen: the keyboard starts at its heading, not on the page's body."""
    wait_until(page, f"document.activeElement && document.activeElement.matches({selector!r})")


def sign_in_by_keyboard(page: Any, user: str) -> None:
    page.goto("/")
    page.locator(f'button[data-user="{user}"]').wait_for()
    tab_to(page, f'button[data-user="{user}"]')
    page.keyboard.press("Enter")
    page.locator("header button.link").wait_for()  # signed in: the header's sign-out
    focus_on_heading(page)


def follow(page: Any, link: str, shown: str, heading: str = "main h1") -> None:
    """Tab to a link, press Enter, wait for the new screen and find the focus on its heading."""
    tab_to(page, link)
    page.keyboard.press("Enter")
    page.locator(shown).first.wait_for(timeout=60_000)
    focus_on_heading(page, heading)


def first_number(text: str) -> int:
    found = re.search(r"\d+", text)
    assert found, text
    return int(found.group())


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


def answer_by_keyboard(page: Any, yes: tuple[str, ...]) -> None:
    """Every section in turn: Space on 'yes' for the listed questions as they appear, Enter on Next, then Submit."""
    pending = list(yes)
    for _ in range(30):
        focus_on_heading(page)  # each section starts at its heading
        for question in list(pending):
            if page.locator(f'li[data-question="{question}"]').count():
                radio = f'li[data-question="{question}"] input[value="yes"]'
                tab_to(page, radio)
                page.keyboard.press("Space")
                assert page.locator(radio).is_checked()
                page.get_by_role("status").filter(has_text="Spremljeno").wait_for()
                pending.remove(question)
        tab_to(page, "button.primary")
        last = page.locator("button.primary").inner_text() == "Završi i vidi rezultat"
        page.keyboard.press("Enter")
        if last:
            assert not pending, f"never asked: {pending}"
            return
    raise AssertionError("the questionnaire never ended")


def test_screening_to_the_result_a_referral_and_the_providers_acceptance_with_the_keyboard_alone(
    browser: Any, web: Any, page: Any
) -> None:
    sign_in_by_keyboard(page, "police-una-sana")
    follow(page, 'a[href="#/screen/new"]', 'select[name="person-language"]')
    tab_to(page, 'select[name="person-language"]')
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")  # the second language offered, Bosnian
    assert page.locator('select[name="person-language"]').input_value() == "bs"
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")
    page.locator('input[name="given_name"]').wait_for(timeout=60_000)
    focus_on_heading(page)
    tab_to(page, 'input[name="given_name"]')
    page.keyboard.type(f"Tipka{uuid.uuid4().hex[:6]}")
    tab_to(page, 'input[name="age_estimate"]')
    page.keyboard.type("14")
    tab_to(page, 'select[name="sex"]')
    page.keyboard.press("Home")  # F
    page.locator("#municipalities option").first.wait_for(state="attached")
    tab_to(page, 'input[name="municipality"]')
    page.keyboard.type("Bihać")
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")
    page.locator(".question-list").wait_for(timeout=60_000)
    answer_by_keyboard(page, CHILD_YES)

    page.locator("[data-outcome]").wait_for(timeout=60_000)
    focus_on_heading(page)
    # Police record the identification decision below the result: arrows move between the two outcomes.
    tab_to(page, 'input[name="decision"][value="IDENTIFIED_VICTIM"]')
    page.keyboard.press("ArrowDown")
    assert page.locator('input[name="decision"][value="NOT_CONFIRMED"]').is_checked()
    page.keyboard.press("ArrowUp")
    assert page.locator('input[name="decision"][value="IDENTIFIED_VICTIM"]').is_checked()
    tab_to(page, 'input[name="authority"]')
    page.keyboard.type("Tužilaštvo USK")
    tab_to(page, 'input[name="decided_on"]')  # today's date, already filled in
    tab_to(page, 'form button[type="submit"]')
    page.keyboard.press("Enter")
    focus_on_heading(page, ".result p.notice")  # the notice saying it is recorded takes the focus
    tab_to(page, 'a[href^="#/refer/"]', backwards=True)  # above the notice
    follow(page, 'a[href^="#/refer/"]', ".matches > li")
    names = page.locator(".matches > li > h2").all_inner_texts()
    place = names.index("Child protection and guardianship") + 1  # the nearest centre for social welfare
    tab_to(page, f".matches > li:nth-child({place}) button")
    page.keyboard.press("Space")
    focus_on_heading(page, "form h2")  # the form opened below every match takes the focus
    tab_to(page, 'input[name="contact_name"]')
    page.keyboard.type("Tarik")
    tab_to(page, 'input[name="contact_phone"]')
    page.keyboard.type("+387 61 000 222")
    tab_to(page, 'input[name="contact_name"]', backwards=True)
    page.keyboard.press("End")  # the field's text is selected when tabbed into: add to it, not over it
    page.keyboard.type(" K.")
    tab_to(page, 'form button[type="submit"]')
    page.keyboard.press("Enter")
    wait_until(page, "location.hash.startsWith('#/referrals/')")
    referral = page.evaluate("location.hash.split('/')[2]")
    mine = f'li[data-referral="{referral}"]'
    page.locator(f".referrals {mine}").wait_for()
    focus_on_heading(page)
    assert "demo-csw-bihac" in page.locator(f".referrals {mine}").inner_text()

    ctx = browser.new_context(base_url=web.url, viewport={"width": 360, "height": 640}, locale="bs-BA")
    ctx.set_default_timeout(15_000)
    provider = ctx.new_page()
    sign_in_by_keyboard(provider, "csw-bihac")
    follow(provider, 'a[href="#/inbox"]', f".inbox > {mine}")
    assert "Tarik K." not in provider.locator(f".inbox > {mine}").inner_text()  # before accepting
    tab_to(provider, f".inbox > {mine} button.primary", limit=600)
    provider.keyboard.press("Enter")
    provider.locator(f'.inbox > {mine}[data-status="accepted"]').wait_for()
    focus_on_heading(provider, f".inbox > {mine} h2")  # the buttons pressed are gone: the focus stays here
    assert "Tarik K." in provider.locator(f".inbox > {mine}").inner_text()
    ctx.close()
    page.locator(f'.referrals {mine}[data-status="accepted"]').wait_for(timeout=20_000)


def test_a_safe_house_changes_its_free_places_with_the_keyboard_alone(page: Any) -> None:
    sign_in_by_keyboard(page, "safe-house-zenica")
    follow(page, 'a[href="#/inbox"]', ".capacity > li")
    row = page.locator(".capacity > li").last  # the children's places: no other test takes them
    capacity = row.get_attribute("data-capacity")
    here = f'.capacity > li[data-capacity="{capacity}"]'
    before = first_number(page.locator(f"{here} output").inner_text())
    first, then = (
        ("button:first-of-type", "button:last-of-type")
        if before > 0
        else ("button:last-of-type", "button:first-of-type")
    )
    tab_to(page, f"{here} {first}")
    page.keyboard.press("Enter")
    wait_until(page, f"document.querySelector('{here} output').textContent.match(/\\d+/)[0] !== '{before}'")
    assert page.evaluate(FOCUSED, f"{here} {first}")  # the focus stays on the button after the change
    tab_to(page, f"{here} {then}", backwards=then == "button:first-of-type")
    page.keyboard.press("Space")
    wait_until(page, f"document.querySelector('{here} output').textContent.match(/\\d+/)[0] === '{before}'")


def test_the_console_from_a_table_to_a_report_sent_and_returned_with_the_keyboard_alone(
    browser: Any, web: Any, page: Any
) -> None:
    sign_in_by_keyboard(page, "coordinator")
    # Each of the console's pages starts at its own heading, not at the console's above its navigation.
    follow(page, 'a[href="#/console"]', "#dashboard-title", heading="#dashboard-title")
    tab_to(page, 'a[href^="#/console/eurostat/"]', backwards=True)  # the navigation comes before the page
    year = int(page.evaluate("document.activeElement.getAttribute('href').split('/').pop()"))
    page.keyboard.press("Enter")
    page.locator("main table.data").first.wait_for(timeout=60_000)
    focus_on_heading(page, "#eurostat-title")
    tab_to(page, ".console-nav select", backwards=True)
    page.keyboard.press("ArrowDown")  # the year before
    wait_until(page, f"location.hash === '#/console/eurostat/{year - 1}'")
    page.locator("#eurostat-title").filter(has_text=str(year - 1)).wait_for(timeout=60_000)
    tab_to(page, "main a.csv")  # into the table view: its CSV, after the tables' figures
    assert page.locator("main table.data").first.is_visible()

    # The strategy monitor: the coordinator recomputes the computed indicators.
    tab_to(page, 'a[href="#/console/plan"]', limit=400, backwards=True)
    page.keyboard.press("Enter")
    page.locator('tr[data-measure="1.2"]').wait_for(timeout=60_000)
    focus_on_heading(page, "#plan-title")
    tab_to(page, ".plan .actions button:first-of-type")
    with page.expect_response(lambda r: r.url.endswith("/refresh") and r.request.method == "POST") as refreshed:
        page.keyboard.press("Enter")
    assert refreshed.value.ok

    # A reporter sends a value on an assigned measure, from the console's link on its home screen.
    ctx = browser.new_context(base_url=web.url, viewport={"width": 360, "height": 640}, locale="bs-BA")
    ctx.set_default_timeout(15_000)
    reporter = ctx.new_page()
    sign_in_by_keyboard(reporter, "reporter")
    follow(reporter, 'a[href="#/console"]', 'tr[data-measure="1.2"]', heading="#plan-title")
    follow(reporter, 'tr[data-measure="1.2"] a', '[data-indicator="1.2.1"] form', heading="#measure-title")
    form = '[data-indicator="1.2.1"] form'
    offered = reporter.locator(f'{form} select[name="period"]').input_value()
    tab_to(reporter, f'{form} select[name="period"]')
    reporter.keyboard.press("ArrowDown")  # the period after the one offered (the seeds and test_console report those)
    period = reporter.locator(f'{form} select[name="period"]').input_value()
    assert period != offered
    tab_to(reporter, f'{form} input[name="value"]')
    reporter.keyboard.type("25")
    tab_to(reporter, f'{form} textarea[name="comment"]')
    reporter.keyboard.type("Joint inspections, by keyboard")
    tab_to(reporter, f'{form} input[name="evidence_url"]')
    reporter.keyboard.type("https://example.org/inspections.pdf")
    tab_to(reporter, f'{form} button[type="submit"]')
    reporter.keyboard.press("Enter")
    reporter.locator(f'[data-indicator="1.2.1"] li[data-report="{period}"][data-status="submitted"]').wait_for()
    ctx.close()

    # The coordinator opens the measure from the plan and returns the report with a comment.
    follow(page, 'tr[data-measure="1.2"] a', '[data-indicator="1.2.1"] .reports', heading="#measure-title")
    report = f'[data-indicator="1.2.1"] li[data-report="{period}"][data-status="submitted"]'
    tab_to(page, f"{report} textarea", limit=400)
    page.keyboard.type("Add the inspection reports, please")
    tab_to(page, f"{report} .actions button:last-of-type")  # return
    page.keyboard.press("Enter")
    page.locator(f'[data-indicator="1.2.1"] li[data-report="{period}"][data-status="returned"]').wait_for()
    focus_on_heading(page, '[data-indicator="1.2.1"] h4')  # the buttons pressed are gone: the focus is here


def choose_by_keyboard(page: Any, question: str, code: str) -> None:
    """A check box is reached with Tab and ticked with Space; a radio group is entered with Tab (one stop for the
    group) and walked with the arrow keys to the answer."""
    item = f'li[data-question="{question}"]'
    target = f'{item} input[value="{code}"]'
    if page.locator(f'{item} input[type="checkbox"]').count():
        tab_to(page, target)
        page.keyboard.press("Space")
    else:
        tab_to(page, f'{item} input[type="radio"]')
        for _ in range(12):
            if page.evaluate(FOCUSED, target):
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
    assert page.locator(target).is_checked(), target


def test_training_practice_and_groups_and_a_prompt_sheet_with_the_keyboard_alone(
    browser: Any, web: Any, page: Any
) -> None:
    case = all_vignettes()[CASE]
    sign_in_by_keyboard(page, "trainee")
    follow(page, 'a[href="#/training"]', f'li[data-vignette="{CASE}"]')
    tab_to(page, f'li[data-vignette="{CASE}"] button')
    page.keyboard.press("Enter")
    page.locator(".question-list").wait_for(timeout=60_000)
    focus_on_heading(page)  # the case's title, above its story
    first = page.locator("li[data-question]").first.get_attribute("data-question")
    tab_to(page, f'li[data-question="{first}"] .ask button')
    page.keyboard.press("Enter")  # ask the fictional person
    page.locator(f'li[data-question="{first}"] .heard').wait_for()
    pending = dict(case.answers)
    for _ in range(30):
        for question in page.locator("li[data-question]").evaluate_all(
            "(items) => items.map((i) => i.dataset.question)"
        ):
            if question in pending:
                value = pending.pop(question)
                for code in value if isinstance(value, list) else [value]:
                    choose_by_keyboard(page, question, code)
        tab_to(page, ".questions .buttons button.primary")
        last = page.locator(".questions .buttons button.primary").inner_text() == "Završi i uporedi sa stručnjakom"
        page.keyboard.press("Enter")
        if last:
            break
        focus_on_heading(page, ".questions h2")  # each section starts at its heading
    assert not pending, f"never shown: {list(pending)}"
    page.locator("[data-score]").wait_for(timeout=60_000)
    focus_on_heading(page)  # the feedback's heading
    assert page.locator("[data-score]").get_attribute("data-score") == "100"
    follow(page, 'a.primary[href="#/training"]', 'a[href^="#/training/"]')
    assert page.get_by_role("link", name="Rezultat 100 od 100").count() >= 1

    # The trainer makes a group of the trainee and opens its results.
    ctx = browser.new_context(base_url=web.url, viewport={"width": 360, "height": 640}, locale="bs-BA")
    ctx.set_default_timeout(15_000)
    desk = ctx.new_page()
    sign_in_by_keyboard(desk, "trainer")
    follow(desk, 'a[href="#/training"]', f'input[name="vignettes"][value="{CASE}"]')
    group = f"Tipkovnica {uuid.uuid4().hex[:6]}"
    tab_to(desk, 'input[name="group_name"]')
    desk.keyboard.type(group)
    tab_to(desk, 'textarea[name="members"]')
    desk.keyboard.type("demo-trainee")
    tab_to(desk, f'input[name="vignettes"][value="{CASE}"]')
    desk.keyboard.press("Space")
    tab_to(desk, "form button.primary")
    desk.keyboard.press("Enter")
    # The form is emptied (its button disabled): the focus goes to the new group's link.
    wait_until(
        desk,
        f"document.activeElement.matches('li[data-group] a') && document.activeElement.textContent.includes({group!r})",
    )
    assert desk.evaluate(FOCUS_SHOWN)
    desk.keyboard.press("Enter")
    desk.locator('li[data-trainee="demo-trainee"]').wait_for(timeout=60_000)
    focus_on_heading(desk)
    assert (
        desk.locator(f'li[data-trainee="demo-trainee"] dd[data-vignette="{CASE}"]')
        .inner_text()
        .startswith("zadnji 100")
    )
    ctx.close()


def test_a_prompt_sheet_is_reached_with_the_keyboard_alone(page: Any) -> None:
    sign_in_by_keyboard(page, "sw-sarajevo")
    follow(page, 'a[href="#/print"]', 'a[href="#/print/quick/bs"]')
    follow(page, 'a[href="#/print/quick/bs"]', "article.sheet li")
    tab_to(page, "article.sheet button.primary", backwards=True)  # print, above the sheet's heading


def type_pin(page: Any, *fields: str) -> None:
    for name in fields:
        tab_to(page, f'input[name="{name}"]')
        page.keyboard.type(PIN)
    tab_to(page, 'form button[type="submit"]')
    page.keyboard.press("Enter")


def test_offline_the_pin_a_screening_the_queue_and_unlocking_with_the_keyboard_alone(context: Any, page: Any) -> None:
    sign_in_by_keyboard(page, "police-una-sana")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    for _ in range(600):  # every questionnaire kept for offline use
        if questionnaires_cached(page) >= 25:
            break
        page.wait_for_timeout(100)
    context.set_offline(True)
    follow(page, 'a[href="#/screen/new"]', 'input[name="pin-again"]', heading="main h2")  # set the device PIN
    for name in ("pin", "pin-again"):
        tab_to(page, f'input[name="{name}"]')
        page.keyboard.type("12")  # too short: refused, and the keyboard is back in the emptied PIN field
    page.keyboard.press("Enter")
    page.get_by_role("alert").wait_for()
    focus_on_heading(page, 'input[name="pin"]')
    type_pin(page, "pin", "pin-again")
    # Deriving the key (PBKDF2, 600,000 rounds) can take long on a loaded machine.
    page.locator('a[href^="#/offline/"]').wait_for(timeout=60_000)
    focus_on_heading(page)  # the offline screen's heading, the PIN form gone
    follow(page, 'a[href^="#/offline/"]', 'select[name="person-language"]')
    tab_to(page, 'select[name="person-language"]')
    page.keyboard.press("Home")
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")
    page.locator('input[name="given_name"]').wait_for(timeout=60_000)
    focus_on_heading(page)
    tab_to(page, 'input[name="given_name"]')
    page.keyboard.type("Offline")
    tab_to(page, 'input[name="age_estimate"]')
    page.keyboard.type("15")
    tab_to(page, 'input[name="municipality"]')
    page.keyboard.type("Bihać")
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")  # a child: straight to the questions
    page.locator(".question-list").wait_for(timeout=60_000)
    for _ in range(30):
        focus_on_heading(page)
        # The first option of every question shown, in turn (an answer may open follow-up questions).
        for _ in range(40):
            unanswered = page.locator(
                "li[data-question]:has(input[type=radio], input[type=checkbox]):not(:has(input:checked))"
            )
            if not unanswered.count():
                break
            question = unanswered.first.get_attribute("data-question")
            code = page.locator(f'li[data-question="{question}"] input').first.get_attribute("value")
            choose_by_keyboard(page, question, code)
        tab_to(page, "button.primary")
        page.keyboard.press("Enter")
        page.wait_for_timeout(200)
        if page.locator(".result").count():
            break
    page.locator('.result a[href="#/"]').wait_for()
    focus_on_heading(page)  # the pending result, in place of the questions
    # Back home: the screening waits to be sent; the send button works once the network is back.
    follow(page, '.result a[href="#/"]', "#queue-title")
    page.route("**/api/v1/screenings", lambda route: route.abort())  # the automatic send fails: it waits
    context.set_offline(False)
    page.locator("#queue button.primary:enabled").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    tab_to(page, "#queue button.primary")
    page.unroute("**/api/v1/screenings")
    page.keyboard.press("Enter")
    try:
        page.locator("#queue-title").wait_for(state="detached", timeout=60_000)
    except Exception:
        raise AssertionError(page.locator("#queue").inner_text()) from None

    # A reload forgets the key: the PIN is asked again, and opening the store goes on to the offline screen.
    page.reload()
    page.goto("/#/offline")
    page.locator('input[name="pin"]').wait_for()
    type_pin(page, "pin")
    page.locator('a[href^="#/offline/"]').wait_for(timeout=60_000)
    focus_on_heading(page)


def test_a_language_chosen_by_keyboard_on_the_first_screen_keeps_the_focus_on_the_choice(page: Any) -> None:
    # The first screen as a slow network shows it for seconds: drawn before the app has arrived (held back here).
    page.route("**/app.app.js", lambda route: route.abort())
    page.goto("/")
    page.locator('button[data-user="police-una-sana"]').wait_for()
    tab_to(page, "header select")
    page.keyboard.press("End")  # the last language offered: the page is drawn anew in it
    wait_until(page, "document.documentElement.lang === 'bn'")
    page.locator("main h1").filter(has_text="সাইন").wait_for()
    assert page.evaluate(FOCUSED, "header select")
