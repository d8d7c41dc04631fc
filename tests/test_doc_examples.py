"""The API examples in the docs run: every ```sh try block, against the real processes, prints what the page says.

A reader copies these blocks against `make run`; here each runs in bash (`set -euo pipefail`, so a
failed `curl -f` fails the test) with `PUTOKAZ` pointing at the test stack, and `make -s token` minting
tokens for the stack's own secret, issuer and audience. Where the page shows the output ("It prints:" and
a ```text block right after), the output must be exactly that.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.stack import Stack
from putokaz.settings import PROJECT_ROOT

BLOCK = re.compile(r"```sh try\n(?P<script>.*?)```\n(?:\s*It prints:\n```text\n(?P<prints>.*?)```\n)?", re.S)
DOCS = sorted([*(PROJECT_ROOT / "docs").glob("*.md"), PROJECT_ROOT / "README.md"])


@dataclass(frozen=True)
class Example:
    doc: Path
    number: int
    script: str
    prints: str | None

    def __str__(self) -> str:
        return f"{self.doc.name}#{self.number}"


def examples() -> list[Example]:
    found = []
    for doc in DOCS:
        for number, match in enumerate(BLOCK.finditer(doc.read_text()), start=1):
            found.append(Example(doc, number, match["script"], match["prints"]))
    return found


def test_the_service_pages_carry_runnable_examples() -> None:
    pages = {example.doc.name for example in examples()}
    assert {"screening.md", "referral.md", "registry.md", "strategy.md"} <= pages


@pytest.mark.parametrize("example", examples(), ids=str)
def test_example_runs_and_prints_what_the_page_says(example: Example, stack: Stack, kernel_env: dict[str, str]) -> None:
    missing = [tool for tool in ("bash", "curl", "jq", "make") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the doc examples need {', '.join(missing)} on PATH (the CI script installs them)", pytrace=False)
    env = {
        # The test's own PUTOKAZ_* settings stay out (but its throwaway var/), and so do make's flags.
        **{
            k: v
            for k, v in os.environ.items()
            if (not k.startswith("PUTOKAZ_") or k == "PUTOKAZ_VAR_DIR") and k not in ("MAKEFLAGS", "MFLAGS")
        },
        **kernel_env,
        "PUTOKAZ": stack.url,
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", example.script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{example} failed:\n{result.stdout}\n{result.stderr}"
    if example.prints is not None:
        assert result.stdout == example.prints, f"{example} printed:\n{result.stdout}"
