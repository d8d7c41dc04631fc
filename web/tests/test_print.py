"""The printable prompt sheet: Chromium prints it to PDF, and the questions are in the PDF's text."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from web.tests.browser import check_screen, sign_in


def test_the_prompt_sheet_prints_every_question_in_the_chosen_language(page: Any) -> None:
    sign_in(page, "sw-sarajevo", ui_language="en")
    seen: dict[str, list[str]] = {}
    page.get_by_role("link", name="Prompt sheets").click()
    page.locator('a[href="#/print/quick/bs"]').wait_for()
    check_screen(page, "prompt sheets", seen)
    page.locator('a[href="#/print/quick/bs"]').click()
    page.locator("article.sheet li").first.wait_for()
    check_screen(page, "prompt sheet", seen)
    assert {name: problems for name, problems in seen.items() if problems} == {}
    questions = page.locator("article.sheet li > p:first-child").all_inner_texts()
    assert len(questions) >= 6
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()  # the print stylesheet keeps only the sheet
    pdf = page.pdf(format="A4")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    for question in questions:
        # The first words of each question (line breaks in the PDF fall anywhere after them).
        assert " ".join(question.split()[:3]) in flat, question
