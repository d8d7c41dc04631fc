"""Browser-test fixtures: the real stack, a gateway in dev mode for the demo sign-in, and Debian's Chromium.

Chromium comes from PUTOKAZ_CHROMIUM (default /usr/bin/chromium; `.ci/run` installs the Debian
package); Playwright drives it directly, no downloaded browser build.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deploy.stack import Stack
from putokaz.testing import UvicornProcess

CHROMIUM = os.environ.get("PUTOKAZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 640}


def gateway_env(stack: Stack, kernel_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **kernel_env,
        **{f"PUTOKAZ_{name.upper()}_URL": process.url for name, process in stack.services.items()},
        **extra,
    }


@pytest.fixture(scope="session")
def web(stack: Stack, kernel_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornProcess]:
    """A gateway in dev mode (demo sign-in on) in front of the shared stack's services."""
    log = tmp_path_factory.mktemp("web-logs") / "gateway.log"
    gateway = UvicornProcess(
        "gateway.app:create_app", gateway_env(stack, kernel_env, PUTOKAZ_ENVIRONMENT="dev"), log_path=log
    ).start(timeout=120)
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def browser(web: UvicornProcess) -> Iterator[Any]:
    """Chromium for one module. Playwright's sync API runs an event loop while it is open, so every
    fixture that needs asyncio.run (databases, the stack) is set up before it starts (hence `web`),
    and it is closed at the end of the module so later modules' fixtures can run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"The browser tests need Chromium (Debian package chromium, or PUTOKAZ_CHROMIUM); {CHROMIUM} is missing",
            pytrace=False,
        )
    with chromium() as launched:
        yield launched


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium with the suite's flags, driven by Playwright until the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def browser_context(browser: Any, base_url: str, timeout_ms: int, **options: Any) -> Iterator[Any]:
    """A fresh browser context (cookies, storage, service workers of its own), closed when the block ends."""
    ctx = browser.new_context(base_url=base_url, **options)
    ctx.set_default_timeout(timeout_ms)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def context(browser: Any, web: UvicornProcess) -> Iterator[Any]:
    with browser_context(browser, web.url, 15_000, viewport=PHONE, locale="bs-BA", service_workers="allow") as ctx:
        yield ctx


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()
