"""A per-process cache of matching candidates, revalidated on every call against the directory version.

Loading 2,000 services costs more than ranking them, so the static part (eligibility, places,
languages, each capacity's unit, group and maximum) is kept in memory and reloaded only when
`directory_version` moved (every directory write, a provider's capacity changes included); free
places are read fresh on every call, two narrow columns, because they change with every accepted
referral.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.directory import repository as repo
from services.referral.directory.matching import Candidate
from services.referral.directory.schemas import SERVICE_TYPES


class CandidateCache:
    def __init__(self) -> None:
        self._version: int | None = None
        self._by_type: dict[str, list[Candidate]] = {}

    async def candidates(self, session: AsyncSession, needs: Sequence[str]) -> list[Candidate]:
        version = await repo.directory_version(session)
        if version != self._version:
            loaded = await repo.matching_candidates(session, SERVICE_TYPES)
            by_type: dict[str, list[Candidate]] = {}
            for candidate in loaded:
                by_type.setdefault(candidate.service_type, []).append(candidate)
            self._by_type, self._version = by_type, version
        wanted = sorted(set(needs))
        free = await repo.free_places(session)
        out: list[Candidate] = []
        for service_type in wanted:
            for candidate in self._by_type.get(service_type, ()):
                if any(free.get(cap.capacity_id, cap.available) != cap.available for cap in candidate.capacities):
                    fresh = tuple(
                        dataclasses.replace(cap, available=free.get(cap.capacity_id, cap.available))
                        for cap in candidate.capacities
                    )
                    candidate = dataclasses.replace(candidate, capacities=fresh)
                out.append(candidate)
        return out
