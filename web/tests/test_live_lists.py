"""The live lists (the officer's sent referrals, the provider's inbox) survive a failed poll."""

from __future__ import annotations

import json
from typing import Any

from web.tests.browser import sign_in
from web.tests.conftest import PHONE

PROBLEM = {"type": "about:blank", "title": "Service Unavailable", "status": 503, "detail": "try again"}


def _fail_first_polls(context: Any, path_fragment: str, failures: int) -> list[str]:
    """Answer the first `failures` polls of a list with a 503, then let the real API answer."""
    seen: list[str] = []

    def handle(route: Any) -> None:
        seen.append(route.request.url)
        if len(seen) <= failures:
            route.fulfill(status=503, content_type="application/problem+json", body=json.dumps(PROBLEM))
        else:
            route.continue_()

    context.route(lambda url: path_fragment in url, handle)
    return seen


def test_a_failed_poll_of_my_referrals_is_cleared_by_the_next_good_one(browser: Any, web: Any) -> None:
    # Service workers blocked so that the page's own requests are the ones routed here.
    context = browser.new_context(base_url=web.url, viewport=PHONE, service_workers="block")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, "police-una-sana")
        seen = _fail_first_polls(context, "/api/v1/referrals?box=sent", failures=1)
        page.goto("/#/referrals")
        alert = page.get_by_role("alert")
        alert.wait_for()
        # The next poll (every 3 s) answers: the list comes back and the error goes away.
        page.get_by_role("heading", name="My referrals").wait_for()
        alert.wait_for(state="detached")
        assert len(seen) >= 2
    finally:
        context.close()
