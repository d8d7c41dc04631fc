"""The module linker: the app links into a boot bundle and a lazy part; forms it cannot link are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.bundle import BundleError, link

APP = Path(__file__).resolve().parents[2] / "web" / "app"


def app_sources() -> dict[str, str]:
    return {p.relative_to(APP).as_posix(): p.read_text() for p in APP.rglob("*.js")}


def test_the_app_links_with_the_sign_in_page_apart_from_the_rest() -> None:
    bundle = link(app_sources())
    assert "// --- screens/signin.js" in bundle.source and "// --- screens/wizard.js" not in bundle.source
    chunks = {chunk.entry: chunk for chunk in bundle.chunks}
    assert "// --- screens/wizard.js" in chunks["screens/index.js"].source
    # The sign-in page is drawn without any library: the first bundle imports none (on Slow 3G every
    # kilobyte before the first screen costs 20 ms). Libraries stay their own files (licence headers
    # intact), imported by URL from the app's root with the part that needs them; the console's chart
    # library comes only with the console.
    assert bundle.vendor == ()
    assert set(chunks["app.js"].vendor) == {"vendor/preact.js", "vendor/preact-hooks.js", "vendor/htm.js"}
    assert "vendor/idb.js" in chunks["screens/index.js"].vendor
    assert "vendor/uplot.js" not in chunks["screens/index.js"].vendor
    assert "vendor/uplot.js" in chunks["console/index.js"].vendor
    assert 'import("./app.app.js")' in bundle.source
    assert 'import("./app.screens.index.js")' in chunks["app.js"].source
    for text in (bundle.source, *(chunk.source for chunk in bundle.chunks)):
        assert "\nimport {" not in text.split("// --- ", 1)[1], "an import left inside a linked module"


def test_a_linked_module_sees_its_imports_and_exports_its_names() -> None:
    files = {
        "main.js": 'import { twice, default as label } from "./lib.js";\nimport * as lib from "./lib.js";\n'
        "export const answer = twice(21) + label + lib.twice(1);\n",
        "lib.js": 'export function twice(n) {\n  return n * 2;\n}\nexport default "!";\n'
        "export const here = new URL('.', import.meta.url);\n",
    }
    source = link(files).source
    # A module's own URL is still its own, though it now runs from the bundle at the app's root.
    assert "new URL('.', new URL(\"./lib.js\", import.meta.url).href)" in source
    assert "const { twice, default: label } = __m0;" in source
    assert "return Object.freeze({ __proto__: null, twice, here, default: __default });" in source
    assert "return Object.freeze({ __proto__: null, answer });" in source


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"main.js": 'import { a } from "./a.js";', "a.js": 'import { b } from "./main.js";\nexport const a = 1;'},
            "cycle",
        ),
        ({"main.js": "export let counter = 0;"}, "cannot link"),
        ({"main.js": 'import { a } from "preact";'}, "only relative"),
        ({"main.js": 'import { a } from "./missing.js";'}, "no such module"),
    ],
)
def test_what_cannot_be_linked_is_refused(files: dict[str, str], message: str) -> None:
    with pytest.raises(BundleError, match=message):
        link(files)
