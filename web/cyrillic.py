"""Write the Serbian Cyrillic UI catalogues (web/app/i18n/sr-Cyrl.js and the console's
web/app/i18n/console/sr-Cyrl.js) from the Latin ones (sr-Latn.js).

    .venv/bin/python -m web.cyrillic

Serbian has one orthography in two scripts, letter for letter (Gaj's Latin ↔ Vuk's Cyrillic), so the
Cyrillic catalogue is the Latin one transliterated (the gazetteer's letter table), as the
questionnaires' sr-Cyrl texts are. Left in Latin: placeholders (`{name}`), country codes given as
examples, and the Latin-script abbreviations a screener types or reads as they are (API, CSV, PDF,
SOS, Eurostat's table name crim_thb, the source geoBoundaries, the hour h).
"""

from __future__ import annotations

import re
from pathlib import Path

from putokaz.gazetteer import latin_to_cyrillic

I18N = Path(__file__).resolve().parent / "app" / "i18n"
# (Latin source, Cyrillic catalogue written from it): the frontline's and the console's.
PAIRS = [(folder / "sr-Latn.js", folder / "sr-Cyrl.js") for folder in (I18N, I18N / "console")]

# Kept as written: placeholders, URLs and these words (whole words only).
KEEP = re.compile(r"\{[a-z]+\}|https?://\S*|\b(?:AF|SY|BA|API|CSV|PDF|SOS|OIDC|crim_thb|geoBoundaries|h)\b")


def to_cyrillic(text: str) -> str:
    """The Latin text in Serbian Cyrillic, keeping what KEEP matches."""
    out, at = [], 0
    for match in KEEP.finditer(text):
        out.append(latin_to_cyrillic(text[at : match.start()]))
        out.append(match.group())
        at = match.end()
    out.append(latin_to_cyrillic(text[at:]))
    return "".join(out)


ENTRY = re.compile(r'^(  [a-zA-Z_]\w*: )("(?:[^"\\]|\\.)*")(,?)$', re.M)
HEADER = (
    "// Српски, ћирилица (ијекавски, како се пише у БиХ). Complete; status: draft — transliterated by\n"
    "// `python -m web.cyrillic` from sr-Latn.js (edit that one), a machine-quality translation by the project,\n"
    "// not yet reviewed by a native-speaking practitioner (docs/web.md).\n"
)


def render(source: str) -> str:
    """sr-Cyrl.js for the text of sr-Latn.js: its header replaced, every value transliterated."""
    body = source[source.index("export default {") :]
    return HEADER + ENTRY.sub(lambda m: m.group(1) + to_cyrillic(m.group(2)) + m.group(3), body)


def main() -> None:
    for source, out in PAIRS:
        out.write_text(render(source.read_text()))


if __name__ == "__main__":
    main()
