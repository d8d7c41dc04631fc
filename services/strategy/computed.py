"""Computed indicators: each defined from the registry's protected tables, read through its HTTP API.

The strategy service never sees a fact. It asks the registry for the same disclosure-controlled
tables the coordinator would, with a service credential holding the coordinator role, and derives
a value from their cells. A cell the registry withholds makes the value `suppressed`, never zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from putokaz.auth import issue_token
from services.strategy.settings import Settings

logger = logging.getLogger("putokaz.strategy.computed")

Cells = list[dict[str, Any]]


class Unavailable(Exception):
    """The registry cannot give this value (no credential, unreachable, period not published, no table)."""


class Suppressed(Exception):
    """A cell the value needs is withheld by the registry's disclosure control."""


@dataclass(frozen=True)
class Query:
    table: str
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    code: str
    title: str
    unit: str
    definition: str
    queries: tuple[Query, ...]
    compute: Callable[[Sequence[Cells]], float] | None
    # Set when the registry lacks what the indicator needs: said plainly, never approximated.
    missing: str | None = None
    # Read whole from the registry's protected indicators (GET /api/v1/stats/indicators/{name}).
    indicator: str | None = None


def count(cells: Cells, **keys: str) -> int:
    """The published count of the cell with exactly these breakdown values ("total" on margins)."""
    for cell in cells:
        if all(str(cell.get(k)) == v for k, v in keys.items()):
            value = cell.get("count")
            if isinstance(value, bool) or not isinstance(value, int):
                raise Suppressed(f"cell {keys} is withheld ({value})")
            return value
    raise Unavailable(f"the registry's table has no cell {keys}")


def share(numerator: int, denominator: int) -> float:
    if denominator <= 0:
        raise Unavailable("no cases in the period (the share is undefined)")
    return round(100.0 * numerator / denominator, 1)


def _identified(tables: Sequence[Cells]) -> float:
    return float(count(tables[0], status="identified"))


def _registered(tables: Sequence[Cells]) -> float:
    return float(count(tables[0], status="presumed") + count(tables[0], status="identified"))


def _screenings(tables: Sequence[Cells]) -> float:
    return float(count(tables[0]))


ROUTINE_IN_TIME = ("<2h", "2-24h", "24-48h")


def _answered_in_time(tables: Sequence[Cells]) -> float:
    cells = tables[0]
    in_time = count(cells, urgent="urgent", answer_time="<2h")
    in_time += sum(count(cells, urgent="routine", answer_time=band) for band in ROUTINE_IN_TIME)
    return share(in_time, count(cells, urgent="total", answer_time="total"))


def _placed_within_24h(tables: Sequence[Cells]) -> float:
    cells = tables[0]
    placed = sum(count(cells, placement_time=band) for band in ("<24h", "1-7d", ">7d"))
    return share(count(cells, placement_time="<24h"), placed)


DEFINITIONS: dict[str, Definition] = {
    d.code: d
    for d in (
        Definition(
            "identified_victims",
            "Identified victims",
            "persons",
            "Persons whose highest status in the year is `identified` (a decision of a competent authority), "
            "each counted once: registry table `victims` by `status`, cell `identified`.",
            (Query("victims", ("status",)),),
            _identified,
        ),
        Definition(
            "registered_victims",
            "Registered victims (presumed and identified)",
            "persons",
            "Persons presumed or identified as victims in the year (the Eurostat `registered victims`): "
            "registry table `victims` by `status`, cells `presumed` + `identified`.",
            (Query("victims", ("status",)),),
            _registered,
        ),
        Definition(
            "screenings",
            "Screenings",
            "screenings",
            "Screenings completed in the year: registry table `screenings`, grand total.",
            (Query("screenings"),),
            _screenings,
        ),
        Definition(
            "referrals_answered_within_deadline",
            "Share of referrals answered within their deadline",
            "%",
            "Referrals of the year whose receiving service answered (accepted or rejected) within the deadline "
            "(urgent: 2 h, routine: 48 h), as a percentage of all referrals of the year: registry table "
            "`referrals` by `urgent` × `answer_time`; (urgent <2h + routine <2h, 2-24h, 24-48h) / total.",
            (Query("referrals", ("urgent", "answer_time")),),
            _answered_in_time,
        ),
        Definition(
            "placements_within_24h",
            "Share of placements made within 24 h of the referral",
            "%",
            "Referrals that led to a placement, placed within 24 hours of the referral request, as a percentage "
            "of all placements of the year: registry table `referrals` by `placement_time`; "
            "<24h / (<24h + 1-7d + >7d).",
            (Query("referrals", ("placement_time",)),),
            _placed_within_24h,
        ),
        Definition(
            "referrals_accepted_within_deadline",
            "Share of referrals accepted within their deadline",
            "%",
            "Referrals of the year accepted within their deadline (urgent 2 h, routine 48 h from the request), as a "
            "percentage of all referrals of the year: the registry's protected indicator "
            "`referrals_accepted_within_deadline` (table `referrals` by `deadline`: accepted_in_time / total, both "
            "counts perturbed).",
            (),
            None,
            indicator="referrals_accepted_within_deadline",
        ),
        Definition(
            "children_referred_to_csw_within_24h",
            "Share of children screened who were referred to a Centre for Social Welfare within 24 h",
            "%",
            "Referrals of children to a Centre for Social Welfare made within 24 h of the child's screening, as a "
            "percentage of the year's screenings of children that found indicators: the registry's protected "
            "indicator `children_referred_to_csw_within_24h` (both counts perturbed; withheld below 5).",
            (),
            None,
            indicator="children_referred_to_csw_within_24h",
        ),
        Definition(
            "median_hours_screening_to_placement",
            "Median hours from screening to placement",
            "hours",
            "The median, over the year's placements that followed a screening, of the hours from the screening to "
            "the placement (screening to referral request, plus request to placement), in whole hours: the "
            "registry's protected indicator `median_hours_screening_to_placement` (withheld below 10 placements).",
            (),
            None,
            indicator="median_hours_screening_to_placement",
        ),
    )
}


class RegistryClient:
    """Reads protected tables from the registry's statistics API with the strategy's service credential."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.transport = transport

    def _token(self) -> str:
        token = self.settings.registry_token()
        if token:
            return token
        secret = self.settings.resolved_jwt_secret()
        if self.settings.environment == "production" or not secret:
            raise Unavailable("no registry credential is configured")
        # Dev and test: a short-lived coordinator token for the service itself, never a person.
        return issue_token(
            secret,
            sub="service-strategy",
            roles=["coordinator"],
            org="service-strategy",
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            ttl_seconds=300,
        )

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.settings.registry_url,
            timeout=self.settings.registry_timeout_seconds,
            transport=self.transport,
            headers={"Authorization": f"Bearer {self._token()}", "Accept": "application/json"},
        )

    @staticmethod
    async def _get(client: httpx.AsyncClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """The registry's JSON answer; unreachable, a period it does not publish or any other failure: 503."""
        try:
            response = await client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the registry is not reachable ({type(exc).__name__})") from None
        if response.status_code == 422:
            raise Unavailable(_problem_detail(response, "the registry does not publish this period"))
        if response.status_code != 200:
            raise Unavailable(f"the registry answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise Unavailable("the registry's answer is not a JSON object")
        return answer

    async def indicator(self, year: int, name: str) -> tuple[float | None, str]:
        """(value, status) of one of the registry's protected indicators; `suppressed` has no value."""
        async with self._client() as client:
            answer = await self._get(client, f"/api/v1/stats/indicators/{name}", {"year": year})
        if answer.get("status") == "suppressed":
            raise Suppressed(f"the registry withholds {name} for {year}")
        value = answer.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Unavailable("the registry's answer has no value")
        return float(value), "ok"

    async def tables(self, year: int, queries: Sequence[Query]) -> list[Cells]:
        out: list[Cells] = []
        async with self._client() as client:
            for query in queries:
                params: dict[str, Any] = {"year": year}
                if query.by:
                    params["by"] = ",".join(query.by)
                cells = (await self._get(client, f"/api/v1/stats/{query.table}", params)).get("cells")
                if not isinstance(cells, list):
                    raise Unavailable("the registry's answer has no cells")
                out.append(cells)
        return out


def _problem_detail(response: httpx.Response, default: str) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return default
    return str(detail)[:200] if detail else default


@dataclass(frozen=True)
class Outcome:
    value: float | None
    status: str
    note: str


async def compute(client: RegistryClient, source: str, year: int) -> Outcome:
    definition = DEFINITIONS.get(source)
    if definition is None:
        return Outcome(None, "unavailable", f"unknown computed indicator {source!r}")
    if definition.indicator is not None:
        try:
            value, _ = await client.indicator(year, definition.indicator)
            return Outcome(value, "ok", "the registry's protected indicator")
        except Suppressed as exc:
            return Outcome(None, "suppressed", f"withheld by the registry's disclosure control: {exc}")
        except Unavailable as exc:
            return Outcome(None, "unavailable", str(exc))
    if definition.compute is None:
        return Outcome(None, "unavailable", f"not computable from the registry: {definition.missing}")
    try:
        tables = await client.tables(year, definition.queries)
        return Outcome(definition.compute(tables), "ok", "from the registry's protected tables")
    except Suppressed as exc:
        return Outcome(None, "suppressed", f"withheld by the registry's disclosure control: {exc}")
    except Unavailable as exc:
        return Outcome(None, "unavailable", str(exc))


def definitions_text(sources: Mapping[str, Definition] = DEFINITIONS) -> dict[str, str]:
    return {code: d.definition for code, d in sources.items()}
