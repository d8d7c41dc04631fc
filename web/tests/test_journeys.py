"""The frontline journeys in Chromium at phone size, with axe and the sideways-scroll check on every screen.

A police officer with a Bosnian UI screens an adult in Dari (fa-AF) to PRESUMED_VICTIM and refers her;
the safe house accepts in its inbox; the officer sees "accepted". A child screened by police reaches
the Centre for Social Welfare's inbox.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

import pytest

from web.tests.browser import answer_sections, check_screen, sign_in
from web.tests.conftest import PHONE

ADULT_YES = (
    "dr_job_nature",
    "dr_wages",
    "worked_for_someone",
    "ex_excessive_hours",
    "ex_low_pay",
    "cd_documents",
    "cd_isolation",
)
CHILD_YES = ("act_moved", "worked_for_someone", "ex_begging_quota", "ex_excessive_hours")
# `PUTOKAZ_SCREENSHOTS=docs/screenshots make test` refreshes the README's screenshots; otherwise they go to a temp dir.
SCREENSHOTS = os.environ.get("PUTOKAZ_SCREENSHOTS") or tempfile.mkdtemp(prefix="putokaz-screens-")


def answer_yes_everywhere_asked(page: Any, yes: tuple[str, ...], seen: dict[str, list[str]], prefix: str) -> None:
    """'Yes' to the listed questions as they appear, each saved before the next, then see the result."""
    answer_sections(
        page, dict.fromkeys(yes, "yes"), "Završi i vidi rezultat", seen, f"{prefix} questions", "Spremljeno"
    )


def person_step(page: Any, given: str, age: str, sex: str, citizenship: str, canton: str, municipality: str) -> None:
    page.fill('input[name="given_name"]', given)
    page.fill('input[name="family_name"]', "Testperson")
    page.fill('input[name="age_estimate"]', age)
    page.locator('select[name="sex"]').select_option(sex)
    page.fill('input[name="citizenship"]', citizenship)
    page.fill('input[name="canton"]', canton)
    page.fill('input[name="municipality"]', municipality)


def phone_page(browser: Any, web: Any) -> Any:
    """A page at phone size in a context of its own (cookies, storage); close it with page.context.close()."""
    ctx = browser.new_context(base_url=web.url, viewport=PHONE)
    ctx.set_default_timeout(15_000)
    return ctx.new_page()


@pytest.mark.slow
def test_adult_in_dari_is_presumed_referred_accepted_and_the_officer_sees_it(browser: Any, web: Any) -> None:
    seen: dict[str, list[str]] = {}
    page = phone_page(browser, web)
    given = f"Zarmina{uuid.uuid4().hex[:6]}"
    sign_in(page, "police-una-sana", ui_language="bs")
    check_screen(page, "home", seen)
    page.get_by_role("link", name="Nova procjena").click()
    page.locator('select[name="person-language"]').select_option("fa-AF")
    check_screen(page, "languages", seen)
    page.get_by_role("button", name="Dalje").click()
    person_step(page, given, "32", "F", "AF", "9", "Sarajevo")
    assert page.locator("[data-instrument]").get_attribute("data-instrument") == "adult"
    check_screen(page, "person", seen)
    page.get_by_role("button", name="Dalje").click()
    # The consent text in Dari sits beside the Bosnian one, right to left.
    assert page.locator('blockquote .theirs[lang="fa-AF"][dir="rtl"]').is_visible()
    check_screen(page, "consent", seen)
    page.get_by_label("Da, osoba pristaje").check()
    page.get_by_role("button", name="Počni s pitanjima").click()
    page.locator(".question-list").wait_for()
    assert page.locator('.question .theirs[dir="rtl"]').first.is_visible()
    page.screenshot(path=f"{SCREENSHOTS}/screening-fa-AF.png")

    # A reload loses nothing: sign in again at the same address and the answers are there.
    page.locator('li[data-question="danger_now"] input[value="no"]').check()
    page.get_by_role("status").filter(has_text="Spremljeno").wait_for()
    page.reload()
    sign_in_again = page.locator('button[data-user="police-una-sana"]')
    sign_in_again.click()
    page.locator(".question-list").wait_for()
    assert page.locator('li[data-question="danger_now"] input[value="no"]').is_checked()

    answer_yes_everywhere_asked(page, ADULT_YES, seen, "adult")
    outcome = page.locator("[data-outcome]")
    outcome.wait_for()
    assert outcome.get_attribute("data-outcome") == "PRESUMED_VICTIM"
    assert page.locator("[data-dimension='EX']").is_visible()
    check_screen(page, "result", seen)
    page.screenshot(path=f"{SCREENSHOTS}/result.png", full_page=True)

    page.get_by_role("link", name="Pronađi pomoć i uputi").click()
    page.locator(".matches > li, main .error").first.wait_for()
    assert not page.locator("main .error").count(), page.locator("main .error").inner_text()
    check_screen(page, "matches", seen)
    safe_house = page.locator(".matches > li").filter(has_text="Safe house for women").first
    safe_house.get_by_role("button").click()
    page.fill('input[name="contact_name"]', "Amra")
    page.fill('input[name="contact_phone"]', "+387 61 000 111")
    page.get_by_label("Dolazi s bebom").check()
    page.fill('textarea[name="note"]', "Treba krevetac za bebu.")
    assert "Nikad ime" in page.locator("#note-hint").inner_text()  # the form says: never identity
    check_screen(page, "handover", seen)
    page.get_by_role("button", name="Pošalji upućivanje").click()
    sent = page.locator(".referrals li").first
    sent.wait_for()
    assert sent.get_attribute("data-status") == "requested"
    # Other browser tests of this worker share the stack: follow this referral, not the first one listed.
    mine = f'li[data-referral="{sent.get_attribute("data-referral")}"]'
    assert "Confidential address" not in page.locator(f".referrals {mine}").inner_text()  # not before acceptance
    check_screen(page, "my referrals", seen)

    provider = phone_page(browser, web)
    sign_in(provider, "safe-house-zenica", ui_language="fa")
    provider.get_by_role("link", name="ارجاع‌های دریافتی").click()
    provider.locator(".inbox > li").first.wait_for()
    check_screen(provider, "inbox (rtl)", seen)
    provider.screenshot(path=f"{SCREENSHOTS}/inbox-rtl.png")
    # Before answering, the safe house reads the care needs (in Farsi) but not the officer's contact or note.
    requested = provider.locator(f'.inbox > {mine}[data-status="requested"]')
    assert "همراه با نوزاد می‌آید" in requested.inner_text()
    assert "Amra" not in requested.inner_text() and "krevetac" not in requested.inner_text()
    requested.get_by_role("button", name="پذیرفتن").click()
    accepted = provider.locator(f'.inbox > {mine}[data-status="accepted"]')
    accepted.wait_for()
    assert "Amra" in accepted.inner_text() and "+387 61 000 111" in accepted.inner_text()
    assert "Treba krevetac za bebu." in accepted.inner_text()
    check_screen(provider, "inbox, accepted (rtl)", seen)

    # The officer's list polls: "accepted" shows without a reload.
    page.locator(f'.referrals {mine}[data-status="accepted"]').wait_for(timeout=20_000)
    assert page.locator(f".referrals {mine}").inner_text().count("Prihvaćeno") == 1
    # ... and with it where to bring her: the safe house's confidential address, shown to the referrer now.
    destination = page.locator(f".referrals {mine} .destination")
    destination.wait_for()
    assert "Kamo dovesti osobu" in destination.inner_text()
    assert "[DEMO] Confidential address 1, Zenica" in destination.locator("address").inner_text()
    check_screen(page, "my referrals, accepted", seen)
    page.context.close()
    provider.context.close()
    assert {name: problems for name, problems in seen.items() if problems} == {}


@pytest.mark.slow
def test_a_child_screened_by_police_reaches_the_social_welfare_inbox(browser: Any, web: Any) -> None:
    seen: dict[str, list[str]] = {}
    page = phone_page(browser, web)
    sign_in(page, "police-una-sana", ui_language="bs")
    page.get_by_role("link", name="Nova procjena").click()
    page.locator('select[name="person-language"]').select_option("bs")
    page.get_by_role("button", name="Dalje").click()
    person_step(page, f"Dino{uuid.uuid4().hex[:6]}", "14", "M", "BA", "1", "Bihać")
    assert page.locator("[data-instrument]").get_attribute("data-instrument") == "child"
    page.get_by_role("button", name="Dalje").click()  # a child: no consent step
    page.locator(".question-list").wait_for()
    answer_yes_everywhere_asked(page, CHILD_YES, seen, "child")
    page.locator("[data-outcome]").wait_for()
    assert "centar za socijalni rad" in page.locator(".steps").inner_text().lower()
    page.context.close()

    csw_ctx = browser.new_context(base_url=web.url, viewport={"width": 360, "height": 640})
    csw_ctx.set_default_timeout(15_000)
    csw = csw_ctx.new_page()
    sign_in(csw, "csw-bihac", ui_language="bs")
    csw.get_by_role("link", name="Primljena upućivanja").click()
    csw.locator(".inbox > li").first.wait_for(timeout=30_000)
    assert "Dijete" in csw.locator(".inbox > li").first.inner_text()
    csw_ctx.close()
    assert {name: problems for name, problems in seen.items() if problems} == {}
