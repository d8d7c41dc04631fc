"""CSV renderings of statistics tables and of the Eurostat report (suppressed cells as published)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any


def _write(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def table_csv(answer: dict[str, Any]) -> str:
    """One line per cell (totals included): period, breakdown values, count, percent, suppression rule."""
    names = answer["breakdowns"]
    period = answer["period"]["label"]
    rows = [
        [answer["table"], period, *(cell[n] for n in names), cell["count"], cell["percent"], cell["suppressed"]]
        for cell in answer["cells"]
    ]
    return _write(["table", "period", *names, "count", "percent", "suppressed"], rows)


def eurostat_csv(report: dict[str, Any]) -> str:
    """Long format, one line per (table, sex, category), as Eurostat's crim_thb files are laid out."""
    rows = []
    for name, table in report["tables"].items():
        second = name.removeprefix("by_sex_and_")
        for cell in table["cells"]:
            rows.append([report["year"], name, cell["sex"], cell[second], cell["count"], cell["suppressed"]])
    return _write(["year", "table", "sex", "category", "count", "suppressed"], rows)
