"""The documentation holds together: every relative link resolves, every `§` points at a numbered heading,
and nothing in the repository points at documents that live outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from putokaz.settings import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s")
# `docs/x.md §3`, `[x.md](x.md) §3.1`, or a bare `§3` meaning this document's own numbered section.
SECTION_REF = re.compile(r"(?:([\w./-]+\.md)\)?\s*)?§\s*(\d+(?:\.\d+)*)")
# Section signs of external standards (`RFC 9110 §10.2.3`) are theirs, not ours.
EXTERNAL_SECTION = re.compile(r"(RFC|ISO|Directive|Article|Art\.)\s*[\w/.-]*\s*§\s*$")


def _headings(path: Path) -> list[str]:
    in_code = False
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (m := HEADING.match(line)):
            found.append(m.group(2))
    return found


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _section_numbers(path: Path) -> set[str]:
    return {m.group(1) for h in _headings(path) if (m := NUMBERED.match(h))}


def _without_code(text: str) -> str:
    # Fenced blocks and inline code show syntax, not links.
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for match in LINK.finditer(_without_code(doc.read_text(encoding="utf-8"))):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
            continue  # an absolute URL: not ours to check offline
        path_part, _, anchor = target.partition("#")
        resolved = (doc.parent / path_part).resolve() if path_part else doc
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in {github_slug(h) for h in _headings(resolved)}:
            broken.append(f"{target}: no heading with anchor #{anchor}")
        elif PROJECT_ROOT not in resolved.parents and resolved != PROJECT_ROOT:
            broken.append(f"{target}: points outside the repository")
    assert broken == []


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "*.md", "*.py", "*.yaml", "*.yml", "*.sql", "*.toml", "Makefile"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # This file's own examples (`docs/x.md §3`) are not references.
    return [
        PROJECT_ROOT / n
        for n in names
        if (PROJECT_ROOT / n).exists() and "/migrations/versions/" not in n and n != "tests/test_docs.py"
    ]


def _section_refs(path: Path) -> list[tuple[str | None, str, str]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        text = re.sub(r"```.*?```", "", text, flags=re.S)
    refs = []
    for m in SECTION_REF.finditer(text):
        if EXTERNAL_SECTION.search(text[max(0, m.start() - 30) : m.start() + 1 + len(m.group(1) or "")]):
            continue
        refs.append((m.group(1), m.group(2), text[max(0, m.start() - 20) : m.end()].replace("\n", " ")))
    return refs


def test_every_section_reference_names_a_numbered_heading() -> None:
    docs_by_name = {p.name: p for p in DOCS}
    bad = []
    for path in _tracked_text_files():
        for document, number, context in _section_refs(path):
            if document is None:
                if path.suffix != ".md":
                    bad.append(f"{path.relative_to(PROJECT_ROOT)}: a bare § must name its document: {context!r}")
                    continue
                target = path
            else:
                target = docs_by_name.get(Path(document).name)
                if target is None:
                    bad.append(f"{path.relative_to(PROJECT_ROOT)}: {document} is not in docs/: {context!r}")
                    continue
            if number not in _section_numbers(target):
                bad.append(f"{path.relative_to(PROJECT_ROOT)}: {target.name} has no section {number}: {context!r}")
    assert bad == []


def test_nothing_points_at_documents_outside_the_repository() -> None:
    outside = re.compile(r"DESIGN\.md|DOMAIN\.md|CONVENTIONS\.md|\.\./shared")
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{n}"
        for path in _tracked_text_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert found == []


def test_code_comments_name_existing_docs() -> None:
    mentioned = re.compile(r"\bdocs/([\w-]+\.md)")
    missing = sorted(
        {
            f"{path.relative_to(PROJECT_ROOT)} → docs/{m.group(1)}"
            for path in _tracked_text_files()
            for m in mentioned.finditer(path.read_text(encoding="utf-8"))
            if not (PROJECT_ROOT / "docs" / m.group(1)).exists()
        }
    )
    assert missing == []
