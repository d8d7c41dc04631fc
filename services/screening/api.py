"""HTTP routes of the screening service: thin, each naming its roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, status

from putokaz.auth import Authorize, Principal
from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.errors import NotFound
from putokaz.idempotency import IdempotencyKey
from putokaz.openapi import problem_answers
from putokaz.query import reject_unknown_query
from putokaz.roles import Admin, Frontline, FrontlineOrAdmin
from putokaz.schemas import Limit, Offset
from putokaz.vocabulary import RTL_LANGUAGES, UiLanguage
from services.screening import explain, instruments, protection, pseudonyms, repository, screenings
from services.screening.models import Decision, Screening
from services.screening.schemas import (
    AnswersUpdate,
    AuditPage,
    AuditRead,
    ConsentCreate,
    DataProtectionRead,
    DecisionCreate,
    DecisionList,
    DecisionRead,
    ErasureCreate,
    Language,
    LegalHoldCreate,
    LookupMatch,
    LookupRequest,
    LookupResult,
    PseudonymKeysRead,
    QuestionnaireList,
    QuestionnaireRead,
    ScreeningCreate,
    ScreeningPage,
    ScreeningRead,
    ScreeningSummary,
    SubjectAccessExport,
)
from services.screening.vault import Vault

router = APIRouter(prefix="/api/v1")
# Lists refuse a parameter they do not declare rather than ignore a misspelt filter.
KNOWN_QUERY_ONLY = [Depends(reject_unknown_query)]

Identifier = Annotated[Principal, Depends(Authorize("police", "admin"))]
Lang = Annotated[Language, Query(description="Language of the texts")]
Also = Annotated[
    Language | None, Query(description="A second language shown beside each text (the screener's, e.g. bs)")
]


async def ui_language(
    request: Request,
    ui: Annotated[UiLanguage | None, Query(description="The screener's language for the explanation")] = None,
) -> str:
    return explain.ui_language(ui, request.headers.get("accept-language"))


Ui = Annotated[str, Depends(ui_language)]
ScreeningId = Annotated[uuid.UUID, Path()]
InstrumentCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


async def vault(request: Request) -> Vault:
    # One per request (FastAPI caches a dependency within a request): a screening's key is read once.
    return request.app.state.vault.for_request()


Keys = Annotated[Vault, Depends(vault)]


# --- questionnaires ---


@router.get("/questionnaires", response_model=QuestionnaireList, tags=["questionnaires"], dependencies=KNOWN_QUERY_ONLY)
async def list_questionnaires(_: FrontlineOrAdmin, session: DbSession, lang: Lang = "en") -> dict[str, Any]:
    rows = await instruments.latest_of_each(session)
    return {
        "items": [
            instruments.localised(row, await instruments.definition_of(session, row), lang, full=False) for row in rows
        ]
    }


@router.post(
    "/questionnaires", response_model=QuestionnaireRead, status_code=status.HTTP_201_CREATED, tags=["questionnaires"]
)
async def publish_questionnaire(
    principal: Admin, session: DbSession, now: Now, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    definition = instruments.resolve(body)
    row = await instruments.publish(session, definition, published_by=principal.sub, now=now)
    return instruments.localised(row, await instruments.definition_of(session, row), "en")


@router.get("/questionnaires/{code}", response_model=QuestionnaireRead, tags=["questionnaires"])
async def get_questionnaire(
    _: FrontlineOrAdmin, session: DbSession, code: InstrumentCode, lang: Lang = "en", also: Also = None
) -> dict[str, Any]:
    row = await instruments.latest_version(session, code)
    if row is None:
        raise NotFound("No such instrument")
    return instruments.localised(row, await instruments.definition_of(session, row), lang, also=also)


@router.get("/questionnaires/{code}/versions/{version}", response_model=QuestionnaireRead, tags=["questionnaires"])
async def get_questionnaire_version(
    _: FrontlineOrAdmin,
    session: DbSession,
    code: InstrumentCode,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    lang: Lang = "en",
    also: Also = None,
) -> dict[str, Any]:
    row = await instruments.get_version(session, code, version)
    if row is None:
        raise NotFound("No such instrument version")
    return instruments.localised(row, await instruments.definition_of(session, row), lang, also=also)


# --- screenings ---


def summary(row: Screening) -> dict[str, Any]:
    return {
        "id": row.id,
        "instrument": row.instrument_code,
        "instrument_version": row.instrument_version,
        "instrument_kind": row.instrument_kind,
        "language": row.language,
        "direction": "rtl" if row.language in RTL_LANGUAGES else "ltr",
        "state": row.state,
        "outcome": row.outcome,
        "urgent": row.urgent,
        "child": row.child,
        "anonymous": row.anonymous,
        "place": {"entity": row.entity, "canton": row.canton, "municipality": row.municipality},
        "screener": row.screener_sub,
        "started_at": row.started_at,
        "submitted_at": row.submitted_at,
    }


def decision_read(row: Decision) -> dict[str, Any]:
    return {
        "id": row.id,
        "screening_id": row.screening_id,
        "outcome": row.outcome,
        "authority": row.authority,
        "decided_on": row.decided_on,
        "recorded_by": row.recorded_by,
        "recorded_at": row.recorded_at,
    }


async def full(
    session: DbSession, keys: Vault, row: Screening, ui: str = "en", *, decided: bool = True
) -> dict[str, Any]:
    """`decided=False`: the caller knows there are no decisions (the screening was a draft under its row lock)."""
    # Decisions are recorded only on a submitted screening, so a draft has none.
    no_decisions = row.state == "draft" or not decided
    decisions = [] if no_decisions else await repository.decisions_of(session, row.org_id, row.id)
    definition = await instruments.definition_for(session, row.instrument_code, row.instrument_version)
    consent: dict[str, Any] = {
        "text_version": row.consent_text_version,
        "referral": row.consent_referral,
        "anonymous": row.anonymous,
    }
    if row.consent_text_version == definition.consent.version:
        shown = definition.consent.text.get(row.language)
        consent |= {"text": shown.text, "text_status": shown.status}
    explanation = (
        explain.explain(row.result, definition, ui, child=row.child, anonymous=row.anonymous) if row.result else None
    )
    return {
        **summary(row),
        "org": row.org_id,
        "consent": consent,
        "explanation": explanation,
        "subject": None if row.anonymous or row.erased_at else (await screenings.identity_of(keys, row) or {}),
        "sex": row.sex,
        "citizenship": row.citizenship,
        "age_band": row.age_band,
        "answers": await screenings.answers_of(keys, row),
        "computed_outcome": row.computed_outcome,
        "result": row.result,
        "decisions": [decision_read(d) for d in decisions],
        "data_protection": protection.status(row),
    }


@router.get("/screenings/audit", response_model=AuditPage, tags=["audit"], dependencies=KNOWN_QUERY_ONLY)
async def screening_audit(
    _: Admin,
    session: DbSession,
    screening_id: Annotated[uuid.UUID | None, Query()] = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    action: Annotated[
        Literal[
            "create",
            "read",
            "list",
            "answer",
            "consent",
            "submit",
            "decide",
            "read_decisions",
            "lookup",
            "lookup_match",
        ]
        | None,
        Query(),
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows, total = await repository.list_audit(
        session,
        screening_id=str(screening_id) if screening_id else None,
        actor_sub=actor,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    items = [
        AuditRead(
            id=r["seq"],
            at=r["at"],
            actor_sub=r["actor_sub"],
            actor_org=r["actor_org"],
            actor_roles=[x for x in r["actor_roles"].split(",") if x],
            action=r["action"],
            screening_id=r["object_id"],
            outcome=r["outcome"],
        )
        for r in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/screenings/pseudonym-keys",
    response_model=PseudonymKeysRead,
    tags=["data protection"],
    dependencies=KNOWN_QUERY_ONLY,
)
async def pseudonym_keys(_: Admin, session: DbSession, keys: Keys) -> dict[str, Any]:
    """Pseudonym key rotation: how many screenings each key still keys, and which keys can be retired."""
    return await pseudonyms.key_status(session, keys.keyring)


@router.post("/screenings/lookup", response_model=LookupResult, tags=["screenings"])
async def lookup_screenings(
    principal: Frontline, session: DbSession, keys: Keys, body: LookupRequest
) -> dict[str, Any]:
    matches = await screenings.lookup(session, keys.keyring, principal, body)
    return {
        "matches": [
            LookupMatch(
                screening_id=row.id,
                started_at=row.started_at,
                state=row.state,  # type: ignore[arg-type]
                outcome=row.outcome,  # type: ignore[arg-type]
                matched_on=sorted(kinds),  # type: ignore[arg-type]
            )
            for row, kinds in matches
        ]
    }


@router.post("/screenings", response_model=ScreeningRead, status_code=status.HTTP_201_CREATED, tags=["screenings"])
async def start_screening(
    principal: Frontline,
    session: DbSession,
    keys: Keys,
    body: ScreeningCreate,
    idempotency_key: IdempotencyKey,
    now: Now,
    ui: Ui,
) -> dict[str, Any]:
    row = await screenings.start_once(session, keys, principal, body, idempotency_key, now=now)
    return await full(session, keys, row, ui)


@router.get("/screenings", response_model=ScreeningPage, tags=["screenings"], dependencies=KNOWN_QUERY_ONLY)
async def list_screenings(
    principal: Frontline,
    session: DbSession,
    state: Literal["draft", "submitted"] | None = None,
    outcome: Literal[
        "NO_INDICATORS", "AT_RISK", "POTENTIAL_VICTIM", "PRESUMED_VICTIM", "IDENTIFIED_VICTIM", "NOT_CONFIRMED"
    ]
    | None = None,
    instrument: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = None,
    language: Language | None = None,
    urgent: bool | None = None,
    child: bool | None = None,
    entity: Literal["FBIH", "RS", "BD"] | None = None,
    canton: Annotated[int | None, Query(ge=1, le=10)] = None,
    started_from: datetime | None = None,
    started_to: datetime | None = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = repository.ScreeningFilters(
        state, outcome, instrument, language, urgent, child, entity, canton, started_from, started_to
    )
    rows, total = await repository.list_screenings(session, principal.org, filters, limit, offset)
    for row in rows:
        repository.audit(session, principal, "list", row.id)
    return {"items": [ScreeningSummary(**summary(r)) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/screenings/{screening_id}", response_model=ScreeningRead, tags=["screenings"])
async def get_screening(
    principal: Frontline, session: DbSession, keys: Keys, screening_id: ScreeningId, ui: Ui
) -> dict[str, Any]:
    row = await screenings.load(session, principal, str(screening_id))
    repository.audit(session, principal, "read", row.id)
    return await full(session, keys, row, ui)


@router.patch(
    "/screenings/{screening_id}/answers",
    response_model=ScreeningRead,
    tags=["screenings"],
    responses=problem_answers(409),
)
async def save_answers(
    principal: Frontline,
    session: DbSession,
    keys: Keys,
    screening_id: ScreeningId,
    body: AnswersUpdate,
    now: Now,
    ui: Ui,
) -> dict[str, Any]:
    row = await screenings.save_answers(session, keys, principal, str(screening_id), body.answers, now=now)
    return await full(session, keys, row, ui)


@router.put("/screenings/{screening_id}/consent", response_model=ScreeningRead, tags=["screenings"])
async def record_consent(
    principal: Frontline,
    session: DbSession,
    keys: Keys,
    screening_id: ScreeningId,
    body: ConsentCreate,
    now: Now,
    ui: Ui,
) -> dict[str, Any]:
    """Record or change an adult's consent before submit; declining erases the identity at once."""
    row = await screenings.record_consent(session, principal, str(screening_id), body, now=now)
    return await full(session, keys, row, ui)


@router.post(
    "/screenings/{screening_id}/submit",
    response_model=ScreeningRead,
    tags=["screenings"],
    responses=problem_answers(409),
)
async def submit_screening(
    principal: Frontline, session: DbSession, keys: Keys, screening_id: ScreeningId, now: Now, ui: Ui
) -> dict[str, Any]:
    row = await screenings.submit(session, keys, principal, str(screening_id), now=now)
    return await full(session, keys, row, ui, decided=False)


@router.post(
    "/screenings/{screening_id}/decisions",
    response_model=DecisionRead,
    status_code=status.HTTP_201_CREATED,
    tags=["decisions"],
    responses=problem_answers(409),
)
async def record_decision(
    principal: Identifier, session: DbSession, keys: Keys, screening_id: ScreeningId, body: DecisionCreate, now: Now
) -> dict[str, Any]:
    decision = await screenings.decide(session, keys, principal, str(screening_id), body, now=now)
    return decision_read(decision)


@router.get("/screenings/{screening_id}/decisions", response_model=DecisionList, tags=["decisions"])
async def list_decisions(principal: FrontlineOrAdmin, session: DbSession, screening_id: ScreeningId) -> dict[str, Any]:
    row = await screenings.load(session, principal, str(screening_id), action="read_decisions")
    repository.audit(session, principal, "read_decisions", row.id)
    return {"items": [decision_read(d) for d in await repository.decisions_of(session, principal.org, row.id)]}


# --- data protection: consent withdrawal, erasure, legal hold ---


@router.post("/screenings/{screening_id}/consent/withdraw", response_model=DataProtectionRead, tags=["data protection"])
async def withdraw_consent(
    principal: Frontline, session: DbSession, keys: Keys, screening_id: ScreeningId, now: Now
) -> dict[str, Any]:
    """The person withdraws consent: recorded, announced to referral (which cancels open referrals), identity erased."""
    row = await protection.withdraw_consent(session, keys, principal, str(screening_id), now=now)
    return protection.status(row)


@router.post(
    "/screenings/{screening_id}/erasure",
    response_model=DataProtectionRead,
    tags=["data protection"],
    responses=problem_answers(409),  # under legal hold
)
async def erase_screening(
    principal: Admin, session: DbSession, keys: Keys, screening_id: ScreeningId, body: ErasureCreate, now: Now
) -> dict[str, Any]:
    """Crypto-shred the screening's identity and answers (its data key is destroyed); refused under legal hold."""
    row = await protection.erase_on_request(session, keys, principal, str(screening_id), body.reason, now=now)
    return protection.status(row)


@router.put(
    "/screenings/{screening_id}/legal-hold",
    response_model=DataProtectionRead,
    tags=["data protection"],
    responses=problem_answers(409),  # already erased: nothing left to hold
)
async def place_legal_hold(
    principal: Admin, session: DbSession, screening_id: ScreeningId, body: LegalHoldCreate
) -> dict[str, Any]:
    """Keep the screening's data (e.g. criminal proceedings): erasure and retention skip it until released."""
    row = await protection.set_legal_hold(session, principal, str(screening_id), body.reason)
    return protection.status(row)


@router.delete("/screenings/{screening_id}/legal-hold", response_model=DataProtectionRead, tags=["data protection"])
async def release_legal_hold(principal: Admin, session: DbSession, screening_id: ScreeningId) -> dict[str, Any]:
    row = await protection.set_legal_hold(session, principal, str(screening_id), None)
    return protection.status(row)


@router.get("/screenings/{screening_id}/subject-access", response_model=SubjectAccessExport, tags=["data protection"])
async def subject_access_export(
    principal: Admin, session: DbSession, keys: Keys, screening_id: ScreeningId, now: Now
) -> dict[str, Any]:
    """Everything this service holds on the person of one screening, as one JSON document (audited).

    Referrals and their history are exported by the referral service under the same screening id.
    """
    row = await screenings.load(session, principal, str(screening_id), action="subject_access_export")
    repository.audit(session, principal, "subject_access_export", row.id)
    accesses, _ = await repository.list_audit(
        session, screening_id=row.id, actor_sub=None, action=None, since=None, until=None, limit=10_000, offset=0
    )
    return {
        "generated_at": now,
        "service": "screening",
        "screening_id": row.id,
        "screening": await full(session, keys, row),
        "accesses": [
            {"at": a["at"], "actor_org": a["actor_org"], "action": a["action"], "outcome": a["outcome"]}
            for a in reversed(accesses)
        ],
    }
