"""The web app's weight and speed in Chromium: shell and questionnaire bytes, Slow 3G sign-in, offline start.

Printed as figures against the targets (shell ≤150 KB compressed, one questionnaire in one language
≤60 KB compressed, sign-in usable ≤5 s on Slow 3G, cached offline start ≤1 s); never asserted.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import postgres_server, result
from deploy.stack import start_stack
from putokaz.auth import new_secret
from putokaz.testing import process_environment
from web.tests.browser import wait_until

CHROMIUM = os.environ.get("PUTOKAZ_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
# Chrome DevTools' "Slow 3G" preset: 2 s round trip (400 ms × 5), ~400 kbit/s down and up.
SLOW_3G = {
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 500 * 1024 / 8 * 0.8,
    "uploadThroughput": 500 * 1024 / 8 * 0.8,
}


def transferred(url: str, headers: dict[str, str] | None = None) -> tuple[int, int]:
    """(bytes as sent with gzip accepted, bytes of the body after decoding)."""
    with httpx.stream("GET", url, headers={"accept-encoding": "gzip", **(headers or {})}) as response:
        raw = b"".join(response.iter_raw())
    body = gzip.decompress(raw) if response.headers.get("content-encoding") == "gzip" else raw
    return len(raw), len(body)


def main() -> None:
    from playwright.sync_api import sync_playwright

    server = postgres_server()
    secret = new_secret()
    env = process_environment(secret)
    stack = start_stack(
        server, env, Path(tempfile.mkdtemp(prefix="bench-web-")), {"gateway": {"PUTOKAZ_ENVIRONMENT": "dev"}}
    )
    try:
        base = stack.url
        shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", httpx.get(base + "/sw.js").text).group(1))
        sent = sum(transferred(base + path)[0] for path in shell)
        result("app shell, compressed (first load)", sent / 1024, "KB", "≤150")
        token = httpx.post(base + "/dev/token", json={"user": "police-una-sana"}).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        as_sent, plain = transferred(base + "/api/v1/questionnaires/adult?lang=fa", auth)
        result("adult questionnaire in fa, as sent", as_sent / 1024, "KB", "≤60")
        result(
            "adult questionnaire in fa, gzip-compressed",
            len(gzip.compress(httpx.get(base + "/api/v1/questionnaires/adult?lang=fa", headers=auth).content)) / 1024,
            "KB",
            "≤60",
        )
        del plain

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            context = browser.new_context(base_url=base, viewport={"width": 360, "height": 640})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            # What the sign-in screen waited for: every response finished before it was usable, with its bytes.
            finished: list[int] = []
            cdp.on("Network.loadingFinished", lambda event: finished.append(event["encodedDataLength"]))
            started = time.perf_counter()
            page.goto("/", wait_until="commit")
            page.locator('button[data-user="police-una-sana"]').wait_for(timeout=60_000)
            result("sign-in usable on Slow 3G (cold)", time.perf_counter() - started, "s", "≤5")
            result("sign-in: responses before usable (the page included)", len(finished), "", "")
            result("sign-in: bytes before usable, as sent (headers included)", sum(finished) / 1024, "KB", "")
            cdp.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
            wait_until(page, "navigator.serviceWorker.controller !== null", 60)
            context.set_offline(True)
            timings = []
            for _ in range(5):
                fresh = context.new_page()
                started = time.perf_counter()
                fresh.goto("/")
                fresh.locator("header.topbar").wait_for()
                timings.append(time.perf_counter() - started)
                fresh.close()
            result("cached start offline (median of 5)", sorted(timings)[2], "s", "≤1")
            browser.close()
    finally:
        stack.stop()
        server.drop_all()


if __name__ == "__main__":
    main()
