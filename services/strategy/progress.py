"""Progress of each measure and goal: on track, at risk, late or done, by one stated rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.strategy import repository
from services.strategy.models import ComputedValue, Indicator, Measure, Plan, Report
from services.strategy.periods import due_date, indicator_periods

# How far achievement may trail the time elapsed before a measure is at risk.
AT_RISK_MARGIN = 0.25
STATUSES = ("on_track", "at_risk", "late", "done")

RULE = (
    "An indicator's value is its latest accepted report (reported) or its latest computed value (computed). "
    "Its achievement is (value - baseline) / (target - baseline), clamped to 0..1 (no value: 0). "
    "A measure's achievement is the mean over its indicators (without indicators: the share of its activities done); "
    "the time elapsed is the share of the period from the plan's start to the measure's deadline that has passed. "
    "done: the coordinator marked the measure completed, or every indicator reached its target. "
    "late: not done and the deadline has passed. "
    f"at_risk: not done and a report is overdue, or achievement trails time elapsed by more than {AT_RISK_MARGIN:.0%}. "
    "on_track: otherwise. A goal is done when all its measures are, else late if any measure is late, "
    "else at_risk if any is at risk, else on_track."
)


def achievement(value: float | None, baseline: float, target: float) -> float | None:
    if value is None:
        return None
    if target == baseline:
        return 1.0 if value == target else 0.0
    return max(0.0, min(1.0, (value - baseline) / (target - baseline)))


def _period_key(period: str) -> tuple[int, str]:
    return (9999, "") if period == "final" else (int(period[:4]), period[4:])


def latest_value(indicator: Indicator, reports: Sequence[Report], values: Sequence[ComputedValue]):  # type: ignore[no-untyped-def]
    if indicator.kind == "reported":
        accepted = [(r.period, r.value) for r in reports if r.status == "accepted"]
    else:
        accepted = [(v.period, v.value) for v in values if v.status == "ok" and v.value is not None]
    if not accepted:
        return None, None
    return max(accepted, key=lambda pv: _period_key(pv[0]))


def overdue_periods(
    indicator: Indicator, plan: Plan, reports: Iterable[Report], today: date, grace_days: int
) -> list[str]:
    """Periods whose report is past due with nothing submitted or accepted (a returned report does not count)."""
    if indicator.kind != "reported" or plan.status != "active":
        return []
    answered = {r.period for r in reports if r.status in ("submitted", "accepted")}
    deadline = indicator.measure.deadline
    return [
        p
        for p in indicator_periods(indicator, plan, deadline)
        if p not in answered and due_date(p, deadline, grace_days) < today
    ]


def _elapsed(plan: Plan, deadline: date, today: date) -> float:
    span = (deadline - plan.starts_on).days
    if span <= 0:
        return 1.0
    return max(0.0, min(1.0, (today - plan.starts_on).days / span))


def measure_progress(
    measure: Measure,
    plan: Plan,
    reports: dict[str, list[Report]],
    values: dict[str, list[ComputedValue]],
    today: date,
    grace_days: int,
) -> dict:
    indicators = []
    achieved_parts: list[float] = []
    overdue_any = False
    for indicator in measure.indicators:
        own_reports = reports.get(indicator.id, [])
        period, value = latest_value(indicator, own_reports, values.get(indicator.id, []))
        a = achievement(value, indicator.baseline, indicator.target)
        late_periods = overdue_periods(indicator, plan, own_reports, today, grace_days)
        overdue_any = overdue_any or bool(late_periods)
        achieved_parts.append(a or 0.0)
        indicators.append(
            {
                "id": indicator.id,
                "code": indicator.code,
                "title": indicator.title,
                "kind": indicator.kind,
                "unit": indicator.unit,
                "baseline": indicator.baseline,
                "target": indicator.target,
                "latest_period": period,
                "latest_value": value,
                "achievement": None if a is None else round(a, 3),
                "pending_reports": sum(1 for r in own_reports if r.status == "submitted"),
                "overdue_periods": late_periods,
            }
        )
    if achieved_parts:
        achieved = sum(achieved_parts) / len(achieved_parts)
    elif measure.activities:
        achieved = sum(a.status == "done" for a in measure.activities) / len(measure.activities)
    else:
        achieved = 0.0
    expected = _elapsed(plan, measure.deadline, today)
    all_met = bool(indicators) and all(i["achievement"] == 1.0 for i in indicators)
    if measure.status == "completed":
        status, reason = "done", "marked completed by the coordinator"
    elif all_met:
        status, reason = "done", "every indicator reached its target"
    elif today > measure.deadline:
        status, reason = "late", f"the deadline {measure.deadline.isoformat()} has passed"
    elif overdue_any:
        status, reason = "at_risk", "a report is overdue"
    elif expected - achieved > AT_RISK_MARGIN:
        status, reason = "at_risk", f"achievement {achieved:.0%} trails time elapsed {expected:.0%}"
    else:
        status, reason = "on_track", f"achievement {achieved:.0%}, time elapsed {expected:.0%}"
    return {
        "id": measure.id,
        "code": measure.code,
        "title": measure.title,
        "organisations": measure.org_ids,
        "deadline": measure.deadline,
        "status": status,
        "reason": reason,
        "achieved": round(achieved, 3),
        "expected": round(expected, 3),
        "indicators": indicators,
    }


def goal_status(statuses: Sequence[str]) -> str:
    if statuses and all(s == "done" for s in statuses):
        return "done"
    for status in ("late", "at_risk"):
        if status in statuses:
            return status
    return "on_track"


async def plan_progress(session: AsyncSession, plan: Plan, org: str | None, today: date, grace_days: int) -> dict:
    """The plan's progress; a reporter (`org`) sees only its own measures and goals holding them."""
    visible = {m.id for m in await repository.list_measures(session, org, plan.id)}
    indicator_ids = [i.id for g in plan.goals for m in g.measures if m.id in visible for i in m.indicators]
    reports: dict[str, list[Report]] = {}
    for r in await repository.reports_of(session, indicator_ids):
        reports.setdefault(r.indicator_id, []).append(r)
    values: dict[str, list[ComputedValue]] = {}
    for v in await repository.values_of(session, indicator_ids):
        values.setdefault(v.indicator_id, []).append(v)
    goals = []
    totals: Counter[str] = Counter({s: 0 for s in STATUSES})
    for goal in plan.goals:
        measures = [
            measure_progress(m, plan, reports, values, today, grace_days) for m in goal.measures if m.id in visible
        ]
        if org is not None and not measures:
            continue
        counts = Counter({s: 0 for s in STATUSES}) + Counter(m["status"] for m in measures)
        counts.update({s: 0 for s in STATUSES})
        totals.update(m["status"] for m in measures)
        goals.append(
            {
                "id": goal.id,
                "code": goal.code,
                "part": goal.part,
                "title": goal.title,
                "status": goal_status([m["status"] for m in measures]),
                "counts": dict(counts),
                "measures": measures,
            }
        )
    return {
        "plan_id": plan.id,
        "plan_code": plan.code,
        "plan_title": plan.title,
        "as_of": today,
        "rule": RULE,
        "goals": goals,
        "counts": dict(totals),
    }
