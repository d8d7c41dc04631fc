"""The progress report as CSV (one row per indicator, measures without indicators included) and printable HTML."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

LABELS = {"on_track": "On track", "at_risk": "At risk", "late": "Late", "done": "Done"}
CSV_HEADER = (
    "goal_code",
    "part",
    "goal_status",
    "measure_code",
    "measure_title",
    "organisations",
    "deadline",
    "measure_status",
    "reason",
    "indicator_code",
    "indicator_title",
    "kind",
    "unit",
    "baseline",
    "target",
    "latest_period",
    "latest_value",
    "achievement",
    "overdue_periods",
)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a leading =, +, - or @ as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def progress_csv(progress: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for goal in progress["goals"]:
        for measure in goal["measures"]:
            base = [
                goal["code"],
                goal["part"],
                goal["status"],
                measure["code"],
                measure["title"],
                ";".join(measure["organisations"]),
                measure["deadline"].isoformat(),
                measure["status"],
                measure["reason"],
            ]
            for indicator in measure["indicators"] or [None]:
                if indicator is None:
                    writer.writerow([_cell(v) for v in base] + [""] * 10)
                    continue
                writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            *base,
                            indicator["code"],
                            indicator["title"],
                            indicator["kind"],
                            indicator["unit"],
                            indicator["baseline"],
                            indicator["target"],
                            indicator["latest_period"],
                            indicator["latest_value"],
                            indicator["achievement"],
                            ";".join(indicator["overdue_periods"]),
                        )
                    ]
                )
    return out.getvalue()


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse;width:100%;margin-block-end:1.5rem}
th,td{border:1px solid #777;padding:.3rem .5rem;text-align:start;vertical-align:top}
caption{text-align:start;font-weight:bold;padding-block:.5rem}
.status{font-weight:bold}
@media print{body{margin:0}h2{break-before:page}h2:first-of-type{break-before:auto}tr{break-inside:avoid}}
"""


def progress_html(progress: dict[str, Any]) -> str:
    """A self-contained printable page (no script, no external asset): print it to PDF from the browser."""
    e = escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Progress report: {e(progress['plan_title'])}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>Progress report: {e(progress['plan_title'])} ({e(progress['plan_code'])})</h1>",
        f"<p>As of {progress['as_of'].isoformat()}. Measures: "
        + ", ".join(f"{LABELS[s]} {n}" for s, n in progress["counts"].items())
        + ".</p>",
        f"<p><strong>Rule.</strong> {e(progress['rule'])}</p>",
    ]
    for goal in progress["goals"]:
        parts.append(f"<h2>{e(goal['code'])} {e(goal['title'])} — {e(goal['part'])}: {LABELS[goal['status']]}</h2>")
        parts.append(
            "<table><caption>Measures</caption><thead><tr>"
            + "".join(
                f"<th scope='col'>{h}</th>" for h in ("Measure", "Responsible", "Deadline", "Status", "Indicators")
            )
            + "</tr></thead><tbody>"
        )
        for m in goal["measures"]:
            indicators = "<br>".join(
                f"{e(i['code'])} {e(i['title'])}: {e(str(i['latest_value'] if i['latest_value'] is not None else '—'))}"
                f" {e(i['unit'])} (target {i['target']:g})"
                + (f", overdue {e(', '.join(i['overdue_periods']))}" if i["overdue_periods"] else "")
                for i in m["indicators"]
            )
            parts.append(
                f"<tr><th scope='row'>{e(m['code'])} {e(m['title'])}</th><td>{e(', '.join(m['organisations']))}</td>"
                f"<td>{m['deadline'].isoformat()}</td><td class='status'>{LABELS[m['status']]}<br>"
                f"<small>{e(m['reason'])}</small></td><td>{indicators or '—'}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
