"""Loading a plan from a JSON tree or a CSV file: every error reported with its row or path, or nothing loaded."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from pydantic import ValidationError

from putokaz.errors import Invalid
from services.strategy.computed import DEFINITIONS
from services.strategy.schemas import (
    ActivityCreate,
    GoalCreate,
    IndicatorCreate,
    MeasureCreate,
    PlanCreate,
)

CSV_COLUMNS = (
    "level",
    "code",
    "parent",
    "part",
    "title",
    "description",
    "organisations",
    "starts_on",
    "ends_on",
    "deadline",
    "kind",
    "source",
    "unit",
    "baseline",
    "target",
    "frequency",
)
LEVELS = ("plan", "goal", "measure", "activity", "indicator")
# Which columns each level uses; any other non-empty column on the row is an error (it would be ignored).
LEVEL_FIELDS = {
    "plan": ("code", "title", "starts_on", "ends_on"),
    "goal": ("code", "part", "title"),
    "measure": ("code", "parent", "title", "description", "organisations", "deadline"),
    "activity": ("code", "parent", "title", "organisations", "deadline"),
    "indicator": ("code", "parent", "title", "kind", "source", "unit", "baseline", "target", "frequency"),
}
MAX_ERRORS = 500


def check_plan(plan: PlanCreate) -> list[dict[str, Any]]:
    """Rules across the tree that a schema cannot state: unique codes, dates inside the plan, known sources."""
    errors: list[dict[str, Any]] = []

    def add(field: str, message: str) -> None:
        errors.append({"field": field, "message": message})

    def unique_and_due(path: str, item: MeasureCreate | ActivityCreate, codes: Counter[str], reused: str) -> None:
        """A measure or an activity: its code used once where it must be unique, its deadline in the plan."""
        if codes[item.code] > 1:
            add(f"{path}.code", reused)
        if not plan.starts_on <= item.deadline <= plan.ends_on:
            add(f"{path}.deadline", "the deadline must fall within the plan's period")

    if plan.ends_on <= plan.starts_on:
        add("ends_on", "the plan must end after it starts")
    goal_codes = Counter(g.code for g in plan.goals)
    measure_codes = Counter(m.code for g in plan.goals for m in g.measures)
    indicator_codes = Counter(i.code for g in plan.goals for m in g.measures for i in m.indicators)
    for gi, goal in enumerate(plan.goals):
        gpath = f"goals.{gi}"
        if goal_codes[goal.code] > 1:
            add(f"{gpath}.code", f"goal code {goal.code} is used more than once")
        for mi, measure in enumerate(goal.measures):
            mpath = f"{gpath}.measures.{mi}"
            unique_and_due(mpath, measure, measure_codes, f"measure code {measure.code} is used more than once")
            if len(set(measure.organisations)) != len(measure.organisations):
                add(f"{mpath}.organisations", "an organisation is named more than once")
            activity_codes = Counter(a.code for a in measure.activities)
            for ai, activity in enumerate(measure.activities):
                reused = f"activity code {activity.code} is used more than once in the measure"
                unique_and_due(f"{mpath}.activities.{ai}", activity, activity_codes, reused)
            for ii, indicator in enumerate(measure.indicators):
                errors.extend(check_indicator(indicator, f"{mpath}.indicators.{ii}"))
                if indicator_codes[indicator.code] > 1:
                    add(f"{mpath}.indicators.{ii}.code", f"indicator code {indicator.code} is used more than once")
    return errors


def check_indicator(indicator: IndicatorCreate, path: str) -> list[dict[str, Any]]:
    errors = []
    if indicator.kind == "computed":
        if indicator.source not in DEFINITIONS:
            known = ", ".join(sorted(DEFINITIONS))
            errors.append({"field": f"{path}.source", "message": f"a computed indicator needs a source among: {known}"})
        if indicator.frequency != "annual":
            errors.append({"field": f"{path}.frequency", "message": "computed indicators are annual"})
    elif indicator.source:
        errors.append({"field": f"{path}.source", "message": "only computed indicators have a source"})
    return errors


def validated(plan: PlanCreate) -> PlanCreate:
    errors = check_plan(plan)
    if errors:
        raise Invalid(f"{len(errors)} error(s); nothing was loaded", errors=errors[:MAX_ERRORS])
    return plan


def _pydantic_errors(exc: ValidationError, row: int) -> list[dict[str, Any]]:
    return [
        {"row": row, "field": ".".join(str(p) for p in e["loc"]) or "row", "message": e["msg"]} for e in exc.errors()
    ]


def _organisations(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def plan_from_csv(text: str) -> PlanCreate:
    """One row per plan, goal, measure, activity or indicator; `parent` names the code of the row above it."""
    try:
        return _plan_from_csv(text)
    except csv.Error as exc:
        # A NUL byte or a malformed quote: the reader stops; say where instead of failing.
        message = f"not readable CSV ({str(exc)[:80]})"
        raise Invalid(
            "The file is not readable CSV; nothing was loaded", errors=[{"field": "body", "message": message}]
        ) from None


def _plan_from_csv(text: str) -> PlanCreate:
    errors: list[dict[str, Any]] = []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("level", "code", "title") if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        problems = [{"row": 1, "field": c, "message": "required column is missing"} for c in missing]
        problems += [{"row": 1, "field": c[:40], "message": "unknown column"} for c in unknown]
        raise Invalid("The CSV header is not a plan file; nothing was loaded", errors=problems)

    plan_row: dict[str, Any] | None = None
    goals: dict[str, dict[str, Any]] = {}
    measures: dict[str, dict[str, Any]] = {}
    pending: list[tuple[int, str, dict[str, Any]]] = []
    broken: set[str] = set()
    for number, raw in enumerate(reader, start=2):
        if None in raw:
            errors.append({"row": number, "field": "row", "message": "more values than columns"})
            continue
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        level = row.get("level", "")
        if level not in LEVELS:
            errors.append({"row": number, "field": "level", "message": f"level must be one of {', '.join(LEVELS)}"})
            continue
        extra = [k for k, v in row.items() if v and k != "level" and k not in LEVEL_FIELDS[level]]
        errors.extend({"row": number, "field": k, "message": f"not used on a {level} row"} for k in extra)
        values = {k: row.get(k, "") for k in LEVEL_FIELDS[level] if row.get(k, "") != "" or k == "title"}
        parent = values.pop("parent", "")
        if "organisations" in values:
            values["organisations"] = _organisations(values["organisations"])
        try:
            if level == "plan":
                if plan_row is not None:
                    errors.append({"row": number, "field": "level", "message": "only one plan row is allowed"})
                    continue
                PlanCreate.model_validate({**values, "goals": [{"code": "x", "part": "prevention", "title": "x"}]})
                plan_row = values
            elif level == "goal":
                GoalCreate.model_validate(values)
                if values["code"] in goals:
                    errors.append({"row": number, "field": "code", "message": "goal code used more than once"})
                    continue
                goals[values["code"]] = {**values, "measures": []}
            elif level == "measure":
                MeasureCreate.model_validate(values)
                pending.append((number, parent, values))
                measures[values["code"]] = {**values, "activities": [], "indicators": []}
            else:
                (ActivityCreate if level == "activity" else IndicatorCreate).model_validate(values)
                pending.append((number, parent, {"_level": level, **values}))
        except ValidationError as exc:
            errors.extend(_pydantic_errors(exc, number))
            # Its children would only repeat the error as "no such parent".
            broken.add(values.get("code", ""))
            continue
        if len(errors) > MAX_ERRORS:
            break

    for number, parent, values in pending:
        level = values.pop("_level", "measure")
        if parent in broken:
            continue
        if level == "measure":
            if parent not in goals:
                errors.append({"row": number, "field": "parent", "message": "no goal row has this code"})
            else:
                goals[parent]["measures"].append(measures[values["code"]])
        elif parent not in measures:
            errors.append({"row": number, "field": "parent", "message": "no measure row has this code"})
        else:
            measures[parent]["activities" if level == "activity" else "indicators"].append(values)
    if plan_row is None:
        errors.append({"row": 1, "field": "level", "message": "the file needs one plan row"})
    if errors:
        errors.sort(key=lambda e: e["row"])
        raise Invalid(f"{len(errors)} error(s); nothing was loaded", errors=errors[:MAX_ERRORS])
    assert plan_row is not None
    try:
        plan = PlanCreate.model_validate({**plan_row, "goals": list(goals.values())})
    except ValidationError as exc:
        raise Invalid("The plan is not valid; nothing was loaded", errors=_pydantic_errors(exc, 0)) from None
    return validated(plan)
