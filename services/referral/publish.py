"""Events the referral service writes to its outbox: thin partner events and anonymised registry facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.events import emit
from services.referral.models import Referral, ServiceCapacity


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _hours_between(start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return round((aware(end) - aware(start)).total_seconds() / 3600, 3)


# The registry's contract bounds every duration to a year (and a referral cannot precede its screening).
MAX_HOURS = 24 * 366


def _hours_from_screening(r: Referral) -> float | None:
    """Hours from the screening's submission to the referral request; none when unknown or out of bounds."""
    hours = _hours_between(r.screened_at, r.created_at) if r.screened_at is not None else None
    if hours is None or hours > MAX_HOURS:
        return None
    return max(hours, 0.0)  # clocks of two services may differ by a moment


def referral_fact(r: Referral) -> dict[str, Any]:
    """The registry's view of a referral (docs/registry.md): no ids that lead back to a person."""
    created = aware(r.created_at)
    place = r.profile.get("place") or {}
    return {
        "fact_id": r.fact_id,
        "version": r.fact_version,
        "year": created.year,
        "month": created.month,
        "service_type": r.service_type,
        "status": r.status,
        "hours_to_answer": _hours_between(r.created_at, r.answered_at),
        "hours_to_placement": _hours_between(r.created_at, r.started_at),
        "hours_from_screening": _hours_from_screening(r),
        "entity": place.get("entity"),
        "canton": place.get("canton"),
        "child": r.child,
        "urgent": r.urgent,
    }


async def referral_changed(
    session: AsyncSession,
    r: Referral,
    *,
    occurred_at: datetime,
    extra: dict[str, Any] | None = None,
    orgs: list[str] | None = None,
) -> None:
    """A partner event for both organisations (or only `orgs`) and the next version of the registry fact."""
    data: dict[str, Any] = {
        "referral_id": r.id,
        "status": r.status,
        "from_org": r.from_org,
        "to_org": r.to_org,
        "service_id": r.service_id,
        "service_type": r.service_type,
        "urgent": r.urgent,
        "occurred_at": iso(occurred_at),
    }
    if r.reason_code:
        data["reason_code"] = r.reason_code
    data.update(extra or {})
    await emit(
        session,
        f"referral.{r.status}",
        data,
        aggregate_id=r.id,
        orgs=orgs if orgs is not None else [r.from_org, r.to_org],
        occurred_at=occurred_at,
    )
    await fact_changed(session, r, occurred_at=occurred_at)


async def fact_changed(session: AsyncSession, r: Referral, *, occurred_at: datetime) -> None:
    """The referral's registry fact as it now stands (its version moved by the caller)."""
    await emit(session, "registry.referral_fact", referral_fact(r), aggregate_id=r.fact_id, occurred_at=occurred_at)


async def capacity_changed(
    session: AsyncSession, capacity: ServiceCapacity, *, organisation_id: str, occurred_at: datetime
) -> None:
    await emit(
        session,
        "capacity.changed",
        {
            "service_id": capacity.service_id,
            "capacity_id": capacity.id,
            "organisation_id": organisation_id,
            "unit": capacity.unit,
            "population": capacity.population,
            "available": capacity.available,
            "maximum": capacity.maximum,
            "occurred_at": iso(occurred_at),
        },
        aggregate_id=capacity.service_id,
        orgs=[organisation_id],
        occurred_at=occurred_at,
    )
