"""Demo data for `make run`: an illustrative [DEMO] action plan in the four usual parts, with demo reporters."""

from __future__ import annotations

from putokaz.auth import Principal
from putokaz.clock import SYSTEM_CLOCK
from putokaz.db import Database
from services.strategy import repository, service
from services.strategy.schemas import ActivityUpdate, PlanCreate, ReportCreate, ReviewCreate

DEMO_CODE = "DEMO-AP-2024-2027"
# Demo reporter organisations (stable slugs, like the other demo organisations).
MINISTRY = "demo-ministry-security"
SIPA = "demo-sipa"
PROSECUTOR = "demo-prosecutor-state"
CSW = "demo-csw-sarajevo"
NGO = "demo-partner-ngo"
COORDINATOR = Principal(sub="demo-seed", org="demo-state-coordinator", roles=frozenset({"coordinator"}))


def _indicator(code: str, title: str, unit: str, baseline: float, target: float, **kw: str) -> dict:
    return {"code": code, "title": title, "unit": unit, "baseline": baseline, "target": target, **kw}


DEMO_PLAN = {
    "code": DEMO_CODE,
    "title": "[DEMO] Action plan against trafficking in human beings 2024-2027 (illustrative)",
    "starts_on": "2024-01-01",
    "ends_on": "2027-12-31",
    "goals": [
        {
            "code": "1",
            "part": "prevention",
            "title": "[DEMO] Fewer people recruited into exploitation",
            "measures": [
                {
                    "code": "1.1",
                    "title": "[DEMO] Awareness in schools of the risks of recruitment online",
                    "organisations": [MINISTRY, NGO],
                    "deadline": "2026-06-30",
                    "activities": [
                        {
                            "code": "a",
                            "title": "Teaching module written",
                            "organisations": [NGO],
                            "deadline": "2024-12-31",
                        },
                        {
                            "code": "b",
                            "title": "Module taught in 100 schools",
                            "organisations": [MINISTRY],
                            "deadline": "2026-06-30",
                        },
                    ],
                    "indicators": [
                        _indicator("1.1.1", "Pupils reached by the module", "pupils", 0, 20000, kind="reported"),
                    ],
                },
                {
                    "code": "1.2",
                    "title": "[DEMO] Labour inspections in high-risk sectors",
                    "organisations": [MINISTRY],
                    "deadline": "2027-12-31",
                    "indicators": [
                        _indicator("1.2.1", "Joint labour inspections", "inspections", 10, 60, kind="reported"),
                    ],
                },
            ],
        },
        {
            "code": "2",
            "part": "protection",
            "title": "[DEMO] Every presumed victim identified and protected quickly",
            "measures": [
                {
                    "code": "2.1",
                    "title": "[DEMO] Identify more victims through screening",
                    "organisations": [SIPA, CSW],
                    "deadline": "2027-12-31",
                    "indicators": [
                        _indicator(
                            "2.1.1",
                            "Identified victims",
                            "persons",
                            60,
                            90,
                            kind="computed",
                            source="identified_victims",
                        ),
                        _indicator(
                            "2.1.2",
                            "Children screened referred to a CSW within 24 h",
                            "%",
                            50,
                            95,
                            kind="computed",
                            source="children_referred_to_csw_within_24h",
                        ),
                    ],
                },
                {
                    "code": "2.2",
                    "title": "[DEMO] Referrals answered and placements made in time",
                    "organisations": [CSW, NGO],
                    "deadline": "2027-06-30",
                    "indicators": [
                        _indicator(
                            "2.2.1",
                            "Referrals answered within their deadline",
                            "%",
                            70,
                            95,
                            kind="computed",
                            source="referrals_answered_within_deadline",
                        ),
                        _indicator(
                            "2.2.2",
                            "Placements within 24 h",
                            "%",
                            50,
                            80,
                            kind="computed",
                            source="placements_within_24h",
                        ),
                        _indicator(
                            "2.2.3",
                            "Referrals accepted within their deadline",
                            "%",
                            60,
                            90,
                            kind="computed",
                            source="referrals_accepted_within_deadline",
                        ),
                        _indicator(
                            "2.2.4",
                            "Median hours from screening to placement",
                            "hours",
                            72,
                            24,
                            kind="computed",
                            source="median_hours_screening_to_placement",
                        ),
                    ],
                },
            ],
        },
        {
            "code": "3",
            "part": "prosecution",
            "title": "[DEMO] Traffickers prosecuted and convicted",
            "measures": [
                {
                    "code": "3.1",
                    "title": "[DEMO] Specialised prosecutors trained in financial investigation",
                    "organisations": [PROSECUTOR],
                    "deadline": "2025-12-31",
                    "indicators": [
                        _indicator(
                            "3.1.1", "Prosecutors trained", "prosecutors", 0, 40, kind="reported", frequency="once"
                        ),
                    ],
                },
                {
                    "code": "3.2",
                    "title": "[DEMO] Indictments for trafficking",
                    "organisations": [PROSECUTOR, SIPA],
                    "deadline": "2027-12-31",
                    "indicators": [_indicator("3.2.1", "Indictments", "indictments", 12, 25, kind="reported")],
                },
            ],
        },
        {
            "code": "4",
            "part": "partnership",
            "title": "[DEMO] Institutions and NGOs work as one referral mechanism",
            "measures": [
                {
                    "code": "4.1",
                    "title": "[DEMO] Regional monitoring teams meet and report",
                    "organisations": [MINISTRY, CSW, NGO],
                    "deadline": "2027-12-31",
                    "activities": [
                        {
                            "code": "a",
                            "title": "Team terms of reference agreed",
                            "organisations": [CSW],
                            "deadline": "2024-06-30",
                        },
                    ],
                    "indicators": [
                        _indicator(
                            "4.1.1",
                            "Monitoring team meetings held",
                            "meetings",
                            0,
                            16,
                            kind="reported",
                            frequency="semiannual",
                        )
                    ],
                },
            ],
        },
    ],
}

# Demo reports: (indicator code, reporter organisation, period, value, accepted?)
DEMO_REPORTS = (
    ("1.1.1", NGO, "2024", 4200, True),
    ("1.1.1", MINISTRY, "2025", 11800, False),
    ("1.2.1", MINISTRY, "2024", 18, True),
    ("3.1.1", PROSECUTOR, "final", 41, True),
    ("3.2.1", PROSECUTOR, "2024", 14, True),
    ("4.1.1", CSW, "2024-H1", 2, True),
    ("4.1.1", NGO, "2024-H2", 2, True),
    ("4.1.1", MINISTRY, "2025-H1", 1, True),
)


async def load_demo_data(db: Database) -> None:
    async with db.sessionmaker() as session, session.begin():
        if await repository.plan_code_taken(session, DEMO_CODE):
            return
        now = SYSTEM_CLOCK.now()  # run by the deployment before any service (and its clock) is up
        plan = await service.create_plan(session, PlanCreate.model_validate(DEMO_PLAN), COORDINATOR, now)
        indicators = {i.code: i for i in await repository.plan_indicators(session, plan.id)}
        for code, org, period, value, accepted in DEMO_REPORTS:
            reporter = Principal(sub=f"demo-reporter-{org}", org=org, roles=frozenset({"reporter"}))
            report = await service.submit_report(
                session,
                indicators[code],
                ReportCreate(
                    period=period,
                    value=value,
                    comment="[DEMO] illustrative figure",
                    evidence_url="https://example.org/demo-evidence",  # type: ignore[arg-type]
                ),
                reporter,
                now,
                evidence_max_bytes=1,
            )
            if accepted:
                await service.review_report(
                    session, report, indicators[code], ReviewCreate(decision="accept"), COORDINATOR, now
                )
        measure = next(m for g in plan.goals for m in g.measures if m.code == "1.1")
        await service.update_activity(
            session, measure, measure.activities[0].id, ActivityUpdate(status="done"), COORDINATOR, now
        )
