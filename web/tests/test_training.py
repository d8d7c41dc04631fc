"""Training mode in Chromium: a trainee practises a vignette to its score, every screen marked TRAINING.

One test walks the whole practice (list, story and questions, feedback) with axe and the sideways-scroll
check on each screen, in Bosnian, then the list again in Farsi (right to left).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

from services.screening.training.vignettes import all_vignettes
from web.tests.browser import answer_sections, check_screen, sign_in, wait_until

CASE = "construction-labour"
SCREENSHOTS = os.environ.get("PUTOKAZ_SCREENSHOTS") or tempfile.mkdtemp(prefix="putokaz-screens-")


def test_a_trainee_practises_a_vignette_to_its_score_and_the_trainer_sees_it(page: Any, browser: Any, web: Any) -> None:
    seen: dict[str, list[str]] = {}
    case = all_vignettes()[CASE]
    sign_in(page, "trainee", ui_language="bs")
    # A trainee has no real work: the only thing offered is practice.
    assert page.get_by_role("link", name="Nova procjena").count() == 0
    page.get_by_role("link", name="Vježbaj procjenu").click()
    banner = page.locator("[data-training]")
    assert "OBUKA" in banner.inner_text()
    item = page.locator(f'li[data-vignette="{CASE}"]')
    assert case.title.get("bs") in item.inner_text()
    check_screen(page, "training list", seen)
    item.get_by_role("button").click()

    page.get_by_role("heading", name="Priča").wait_for()
    assert "OBUKA" in page.locator("[data-training]").inner_text()
    assert case.scenes[0].get("bs") in page.locator(".scenes").inner_text()
    # Opening a practice shows the band and the story first (focus moves only with the sections).
    assert page.evaluate("scrollY") == 0
    page.screenshot(path=os.path.join(SCREENSHOTS, "training.png"), full_page=False)
    # Asking the fictional person gives their answer; it is the trainee who records it.
    ask = page.locator("li[data-question]").first
    said = case.answer_to(ask.get_attribute("data-question"))
    ask.get_by_role("button", name="Pitaj osobu").click()
    assert ask.get_by_role("status").inner_text() == "Osoba kaže: " + {"yes": "Da", "no": "Ne"}[said]
    answer_sections(page, case.answers, "Završi i uporedi sa stručnjakom", seen, "practice questions")

    page.locator("[data-score]").wait_for()
    assert page.locator("[data-score]").get_attribute("data-score") == "100"
    assert page.locator("[data-outcome]").get_attribute("data-outcome") == case.key.outcome
    assert page.locator("[data-expert-outcome]").get_attribute("data-expert-outcome") == case.key.outcome
    assert "OBUKA" in page.locator("[data-training]").inner_text()
    assert case.key.next_steps.get("bs") in page.locator(".feedback").inner_text()
    check_screen(page, "practice feedback", seen)
    page.screenshot(path=os.path.join(SCREENSHOTS, "training-feedback.png"), full_page=True)

    # Back to the list: this finished practice is there with its score (the shared stack's trainee may have
    # finished others in other tests); and the list in Farsi mirrors.
    practice = page.url.split("#", 1)[1]
    assert practice.startswith("/training/"), page.url
    page.get_by_role("link", name="Vježbaj drugi slučaj").click()
    page.locator(f'a[href="#{practice}"]').filter(has_text="Rezultat 100 od 100").wait_for()
    # This trainee's finished practices of the case so far (this one, and any another test finished).
    attempts = page.locator('a[href^="#/training/"]').filter(has_text=case.title.get("bs")).count()
    assert attempts >= 1
    page.locator("header select").select_option("fa")
    wait_until(page, "document.documentElement.dir === 'rtl'")  # once the Farsi catalogue has arrived
    check_screen(page, "training list rtl", seen)

    # The trainer (an admin of the same police) makes a group of the trainee and reads its results.
    trainer = browser.new_context(base_url=web.url, viewport={"width": 360, "height": 640})
    trainer.set_default_timeout(15_000)
    desk = trainer.new_page()
    sign_in(desk, "trainer", ui_language="bs")
    desk.get_by_role("link", name="Grupe za obuku").click()
    group = f"Bihać {uuid.uuid4().hex[:6]}"
    desk.get_by_label("Naziv grupe").fill(group)
    desk.get_by_label("Polaznici").fill("demo-trainee")
    desk.get_by_label(case.title.get("bs")).check()
    check_screen(desk, "trainer groups", seen)
    desk.get_by_role("button", name="Napravi grupu").click()
    desk.get_by_role("link", name=group).click()
    result = desk.locator(f'li[data-trainee="demo-trainee"] dd[data-vignette="{CASE}"]')
    assert result.inner_text() == f"zadnji 100, najbolji 100 ({attempts} pokušaja)"
    check_screen(desk, "trainer results", seen)
    trainer.close()
    assert {name: problems for name, problems in seen.items() if problems} == {}
