"""CSV renderings of statistics answers: codes beside labels in the requested language, a legend in the file.

The legend comes first, as lines starting with `#` (most CSV readers skip them with a comment option:
pandas `comment="#"`, R `comment.char="#"`); it explains every marker that appears in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from services.registry.labels import label, marker


def _write(legend: Iterable[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO(newline="")
    for line in legend:
        buffer.write(f"# {line}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def perturbed_legend(ptable: dict[str, Any], lang: str) -> list[str]:
    js1 = max(1, int(ptable["smallest_count"]) - 1)
    return [
        marker("perturbed", lang, D=ptable["max_deviation"], js1=js1) + f" ({ptable['version']})",
        marker("total", lang),
    ]


def released_legend(markers: set[str], lang: str) -> list[str]:
    """Legend lines for the markers of released (exact) tables that appear in the file."""
    lines = [marker("total", lang)]
    if "x" in markers:
        lines.append(marker("x", lang))
    for threshold in sorted(int(m[1:]) for m in markers if m.startswith("<")):
        lines.append(marker("<", lang, t=threshold))
    return lines


def _coded(names: Sequence[str]) -> list[str]:
    return [column for name in names for column in (name, f"{name}_label")]


def _values(cell: dict[str, Any], names: Sequence[str], lang: str) -> list[Any]:
    return [value for name in names for value in (cell[name], label(name, str(cell[name]), lang))]


def _legend(
    answer: dict[str, Any], sources: list[dict[str, Any] | None], counts: Iterable[Any], lang: str
) -> list[str]:
    """Perturbed counts say so; counts read from a release say which version, and explain its markers."""
    lines = perturbed_legend(answer["ptable"], lang) if any(s is None for s in sources) else []
    versions = sorted({(s["year"], s["version"]) for s in sources if s is not None})
    if versions:
        lines += [marker("released", lang, year=y, version=v) for y, v in versions]
        markers = {str(c) for c in counts if not isinstance(c, int)}
        lines += [line for line in released_legend(markers, lang) if line not in lines]
    return lines


def table_csv(answer: dict[str, Any], lang: str = "en") -> str:
    """One line per cell (totals included): table, period, each breakdown's code and label, count, percent."""
    names = answer["breakdowns"]
    period = answer["period"]["label"]
    rows = [[answer["table"], period, *_values(c, names, lang), c["count"], c["percent"]] for c in answer["cells"]]
    header = ["table", "period", *_coded(names), "count", "percent"]
    legend = _legend(answer, [answer.get("release")], (c["count"] for c in answer["cells"]), lang)
    return _write(legend, header, rows)


def series_csv(answer: dict[str, Any], lang: str = "en") -> str:
    """The series in long format: one line per period and cell."""
    names = answer["breakdowns"]
    rows = [
        [answer["table"], entry["period"]["label"], *_values(c, names, lang), c["count"], c["percent"]]
        for entry in answer["periods"]
        for c in entry["cells"]
    ]
    header = ["table", "period", *_coded(names), "count", "percent"]
    sources = [entry.get("release") for entry in answer["periods"]]
    counts = (c["count"] for entry in answer["periods"] for c in entry["cells"])
    return _write(_legend(answer, sources, counts, lang), header, rows)


def eurostat_csv(report: dict[str, Any], lang: str = "en") -> str:
    """Long format, one line per (table, sex, category), as Eurostat's crim_thb files are laid out."""
    rows = []
    for name, table in report["tables"].items():
        second = name.removeprefix("by_sex_and_")
        for cell in table["cells"]:
            rows.append(
                [
                    report["year"],
                    name,
                    cell["sex"],
                    label("sex", cell["sex"], lang),
                    cell[second],
                    label(second, cell[second], lang),
                    cell["count"],
                ]
            )
    header = ["year", "table", "sex", "sex_label", "category", "category_label", "count"]
    legend = _legend(report, [report.get("release")], (row[-1] for row in rows), lang)
    return _write(legend, header, rows)


def release_csv(answer: dict[str, Any], lang: str = "en") -> str:
    """Every table of a release in long format; the legend explains each marker present in the file."""
    rows = []
    markers: set[str] = set()
    for name, table in answer["tables"].items():
        dims = table["dims"]
        for cell in table["cells"]:
            count = cell["count"]
            if not isinstance(count, int):
                markers.add(str(count))
            pairs = [(d, cell[d]) for d in dims] + [("", "")] * (2 - len(dims))
            coded = [value for d, v in pairs for value in (d, v, label(_label_dim(d), str(v), lang) if d else "")]
            rows.append([answer["year"], answer["version"], name, *coded, count])
    header = ["year", "version", "table"]
    header += ["dim1", "value1", "label1", "dim2", "value2", "label2", "count"]
    return _write(released_legend(markers, lang), header, rows)


def _label_dim(dim: str) -> str:
    """Release breakdowns labelled with the explorer's vocabulary (crim_thb names map onto it)."""
    return {"eurostat_sex": "sex", "form_group": "form"}.get(dim, dim)
