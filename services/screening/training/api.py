"""HTTP routes of training mode under /api/v1/training: every answer says it is TRAINING."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status

from putokaz.auth import Authorize, Principal
from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.idempotency import IdempotencyKey
from putokaz.roles import FRONTLINE
from services.screening import instruments
from services.screening.training import repository, service
from services.screening.training.models import Practice, TrainingGroup
from services.screening.training.schemas import (
    AskQuestion,
    GroupCreate,
    PracticeAnswers,
    PracticeCreate,
    TrainingLanguage,
)
from services.screening.training.vignettes import Vignette, all_vignettes

router = APIRouter(prefix="/api/v1/training", tags=["training"])

# Who practises: trainees and the frontline roles; who runs sessions: admins and coordinators.
PRACTITIONERS = ("trainee", *FRONTLINE)
TRAINERS = ("admin", "coordinator")
Practitioner = Annotated[Principal, Depends(Authorize(*PRACTITIONERS))]
Trainer = Annotated[Principal, Depends(Authorize(*TRAINERS))]
Anyone = Annotated[Principal, Depends(Authorize(*PRACTITIONERS, *TRAINERS))]
Lang = Annotated[TrainingLanguage, Query(description="Language of the texts (bs or en)")]
PracticeId = Annotated[uuid.UUID, Path()]
GroupId = Annotated[uuid.UUID, Path()]
VignetteId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{0,63}$")]


def vignette_view(v: Vignette, lang: str, *, full: bool, with_key: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "training": True,
        "banner": service.banner(lang),
        "id": v.id,
        "status": v.status,
        "instrument": v.instrument,
        "title": v.title.get(lang),
    }
    if full:
        out["person"] = v.person.model_dump()
        out["place"] = v.place.model_dump()
        out["scenes"] = [s.get(lang) for s in v.scenes]
    if with_key:
        out["key"] = {
            "outcome": v.key.outcome,
            "indicators": list(v.key.indicators),
            "recommended_actions": list(v.key.actions),
            "why": {code: text.get(lang) for code, text in v.key.why.items()},
            "next_steps": v.key.next_steps.get(lang),
        }
    return out


async def practice_view(session: DbSession, row: Practice, *, questionnaire: bool = False) -> dict[str, Any]:
    case = service.vignette(row.vignette_id)
    out: dict[str, Any] = {
        "training": True,
        "banner": service.banner(row.language),
        "id": row.id,
        "vignette": vignette_view(case, row.language, full=True, with_key=row.state == "finished"),
        "instrument": row.instrument_code,
        "instrument_version": row.instrument_version,
        "language": row.language,
        "state": row.state,
        "answers": row.answers,
        "asked": row.asked,
        "outcome": row.outcome,
        "score": row.score,
        "feedback": row.feedback,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
    }
    if questionnaire:
        q = await instruments.get_version(session, row.instrument_code, row.instrument_version)
        if q is not None:
            out["questionnaire"] = instruments.localised(q, await instruments.definition_of(session, q), row.language)
    return out


def group_view(g: TrainingGroup) -> dict[str, Any]:
    return {
        "training": True,
        "id": g.id,
        "name": g.name,
        "members": g.members,
        "vignettes": g.vignettes,
        "created_by": g.created_by,
        "created_at": g.created_at,
    }


@router.get("/vignettes")
async def list_vignettes(principal: Anyone, lang: Lang = "bs") -> dict[str, Any]:
    trainer = bool(principal.roles & set(TRAINERS))
    return {
        "training": True,
        "items": [vignette_view(v, lang, full=False, with_key=trainer) for v in all_vignettes().values()],
    }


@router.get("/vignettes/{vignette_id}")
async def get_vignette(principal: Anyone, vignette_id: VignetteId, lang: Lang = "bs") -> dict[str, Any]:
    # The key is for trainers; a trainee sees it beside their own answers once they finish.
    trainer = bool(principal.roles & set(TRAINERS))
    return vignette_view(service.vignette(vignette_id), lang, full=True, with_key=trainer)


@router.get("/assignments")
async def my_assignments(principal: Practitioner, session: DbSession) -> dict[str, Any]:
    return {"training": True, "items": await service.assignments_of(session, principal)}


@router.post("/practices", status_code=status.HTTP_201_CREATED)
async def start_practice(
    principal: Practitioner, session: DbSession, body: PracticeCreate, idempotency_key: IdempotencyKey, now: Now
) -> dict[str, Any]:
    row = await service.start_once(session, principal, body.vignette, body.language, idempotency_key, now)
    return await practice_view(session, row, questionnaire=True)


@router.get("/practices")
async def my_practices(principal: Practitioner, session: DbSession) -> dict[str, Any]:
    rows = await repository.practices_of(session, principal.org, principal.sub)
    return {
        "training": True,
        "items": [
            {
                "training": True,
                "id": r.id,
                "vignette": r.vignette_id,
                "state": r.state,
                "outcome": r.outcome,
                "score": r.score,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
            }
            for r in rows
        ],
    }


@router.get("/practices/{practice_id}")
async def get_practice(principal: Practitioner, session: DbSession, practice_id: PracticeId) -> dict[str, Any]:
    row = await service.load(session, principal, str(practice_id))
    return await practice_view(session, row, questionnaire=True)


@router.post("/practices/{practice_id}/ask")
async def ask_question(
    principal: Practitioner, session: DbSession, practice_id: PracticeId, body: AskQuestion
) -> dict[str, Any]:
    row, answer = await service.ask(session, principal, str(practice_id), body.question)
    return {"training": True, "banner": service.banner(row.language), "question": body.question, "answer": answer}


@router.patch("/practices/{practice_id}/answers")
async def save_practice_answers(
    principal: Practitioner, session: DbSession, practice_id: PracticeId, body: PracticeAnswers
) -> dict[str, Any]:
    row = await service.save_answers(session, principal, str(practice_id), body.answers)
    return await practice_view(session, row)


@router.post("/practices/{practice_id}/finish")
async def finish_practice(
    principal: Practitioner, session: DbSession, practice_id: PracticeId, idempotency_key: IdempotencyKey, now: Now
) -> dict[str, Any]:
    row = await service.finish_once(session, principal, str(practice_id), idempotency_key, now)
    return await practice_view(session, row)


@router.post("/groups", status_code=status.HTTP_201_CREATED)
async def create_group(principal: Trainer, session: DbSession, body: GroupCreate, now: Now) -> dict[str, Any]:
    return group_view(await service.create_group(session, principal, body.name, body.members, body.vignettes, now))


@router.get("/groups")
async def list_groups(principal: Trainer, session: DbSession) -> dict[str, Any]:
    return {"training": True, "items": [group_view(g) for g in await repository.groups_of(session, principal.org)]}


@router.get("/groups/{group_id}/results")
async def get_group_results(principal: Trainer, session: DbSession, group_id: GroupId) -> dict[str, Any]:
    results = await service.group_results(session, principal, str(group_id))
    results["group"] = group_view(results["group"])
    return results
