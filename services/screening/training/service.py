"""Practice screenings and trainers' groups: the one place that keeps practice apart from real work.

Practice runs the real published instrument and the real scoring engine, but it writes only the
training tables: never a screening row, the blind index, the outbox (so never the registry, a
referral or a partner webhook), identity encryption or the subject pseudonym.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit, idempotency
from putokaz.auth import Principal
from putokaz.errors import Conflict, Invalid, NotFound
from services.screening import instruments
from services.screening.answers import merge_answers
from services.screening.definitions import InstrumentDefinition
from services.screening.models import audit_tables
from services.screening.training import repository
from services.screening.training.feedback import compare
from services.screening.training.models import Practice, TrainingGroup, training_idempotency_keys
from services.screening.training.vignettes import Vignette, all_vignettes, score

BANNER = {
    "en": "TRAINING: a fictional case. Nothing here is a real person or ever counted.",
    "bs": "OBUKA: izmišljen slučaj. Ništa ovdje nije stvarna osoba niti se ikad broji.",
}


def banner(language: str) -> str:
    return BANNER["bs"] if language in ("bs", "hr", "sr") else BANNER["en"]


def _audit(session: AsyncSession, principal: Principal, action: str, object_type: str, object_id: str) -> None:
    """Training actions go into the service's one audit chain, marked as training by their object type."""
    audit.record_for(session, audit_tables, principal, action, object_type, object_id)


def vignette(vignette_id: str) -> Vignette:
    found = all_vignettes().get(vignette_id)
    if found is None:
        raise NotFound("No such vignette")
    return found


async def _definition(session: AsyncSession, code: str, version: int | None = None) -> tuple[int, InstrumentDefinition]:
    row = await (
        instruments.get_version(session, code, version) if version else instruments.latest_version(session, code)
    )
    if row is None:
        raise NotFound("The vignette's instrument is not published")
    return row.version, await instruments.definition_of(session, row)


async def start(
    session: AsyncSession, principal: Principal, vignette_id: str, language: str, now: datetime
) -> Practice:
    case = all_vignettes().get(vignette_id)
    if case is None:
        raise Invalid("No such vignette", field="body.vignette")
    version, _ = await _definition(session, case.instrument)
    row = Practice(
        id=str(uuid.uuid4()),
        org_id=principal.org,
        trainee_sub=principal.sub,
        vignette_id=case.id,
        instrument_code=case.instrument,
        instrument_version=version,
        language=language,
        state="open",
        answers={},
        asked=[],
        started_at=now,
    )
    session.add(row)
    await session.flush()
    _audit(session, principal, "start", "training_practice", row.id)
    return row


async def start_once(
    session: AsyncSession, principal: Principal, vignette_id: str, language: str, key: str | None, now: datetime
) -> Practice:
    """`start`, unless this trainee already started a practice with this Idempotency-Key: then that one."""
    if key is None:
        return await start(session, principal, vignette_id, language, now)
    print_ = idempotency.fingerprint({"start": vignette_id, "language": language})
    earlier = await idempotency.claim(session, training_idempotency_keys, principal, key, print_, now)
    if earlier is None:
        row = await start(session, principal, vignette_id, language, now)
        await idempotency.remember(session, training_idempotency_keys, principal, key, row.id)
        return row
    return await _earlier(session, principal, earlier)


async def _earlier(session: AsyncSession, principal: Principal, practice_id: str) -> Practice:
    row = await repository.get_practice(session, principal.org, principal.sub, practice_id)
    if row is None:  # purged by retention since; the key is older than any answer worth repeating
        raise Conflict("The practice made with this Idempotency-Key no longer exists")
    return row


async def load(session: AsyncSession, principal: Principal, practice_id: str, *, for_update: bool = False) -> Practice:
    row = await repository.get_practice(session, principal.org, principal.sub, practice_id, for_update=for_update)
    if row is None:
        raise NotFound("No such practice screening")
    return row


def _open(row: Practice) -> None:
    if row.state != "open":
        raise Conflict("This practice screening is finished; start a new one to practise again")


async def ask(session: AsyncSession, principal: Principal, practice_id: str, question_id: str) -> tuple[Practice, Any]:
    """The fictional person's answer to one question, as they would give it when asked."""
    row = await load(session, principal, practice_id, for_update=True)
    _, definition = await _definition(session, row.instrument_code, row.instrument_version)
    if question_id not in definition.question_map():
        raise Invalid("This instrument version has no such question", field="body.question")
    # Remembered while the practice is open, so the feedback can say which questions were never asked.
    if row.state == "open" and question_id not in row.asked:
        row.asked = [*row.asked, question_id]
    return row, vignette(row.vignette_id).answer_to(question_id)


async def save_answers(
    session: AsyncSession, principal: Principal, practice_id: str, update: dict[str, Any]
) -> Practice:
    row = await load(session, principal, practice_id, for_update=True)
    _open(row)
    _, definition = await _definition(session, row.instrument_code, row.instrument_version)
    row.answers = merge_answers(definition, row.answers, update)
    return row


async def finish(session: AsyncSession, principal: Principal, practice_id: str, now: datetime) -> Practice:
    """Score the trainee's answers with the real engine and set them beside the expert key."""
    row = await load(session, principal, practice_id, for_update=True)
    _open(row)
    case = vignette(row.vignette_id)
    _, definition = await _definition(session, row.instrument_code, row.instrument_version)
    evaluation = score(definition, row.answers, child=case.child, language=row.language)
    row.feedback = compare(case, evaluation, row.asked, row.language)
    row.outcome = evaluation.decision.outcome.value
    row.score = row.feedback["score"]
    row.state = "finished"
    row.finished_at = now
    _audit(session, principal, "finish", "training_practice", row.id)
    return row


async def finish_once(
    session: AsyncSession, principal: Principal, practice_id: str, key: str | None, now: datetime
) -> Practice:
    """`finish`; a retry with the same Idempotency-Key (its answer was lost) answers the same feedback, not 409."""
    if key is None:
        return await finish(session, principal, practice_id, now)
    # The practice must be the caller's before a key is claimed for it.
    await load(session, principal, practice_id)
    print_ = idempotency.fingerprint({"finish": practice_id})
    earlier = await idempotency.claim(session, training_idempotency_keys, principal, key, print_, now)
    if earlier is None:
        row = await finish(session, principal, practice_id, now)
        await idempotency.remember(session, training_idempotency_keys, principal, key, row.id)
        return row
    return await _earlier(session, principal, earlier)


async def create_group(
    session: AsyncSession, principal: Principal, name: str, members: list[str], vignettes: list[str], now: datetime
) -> TrainingGroup:
    unknown = [i for i, v in enumerate(vignettes) if v not in all_vignettes()]
    if unknown:
        raise Invalid(
            "No such vignette",
            errors=[{"field": f"body.vignettes.{i}", "message": "no such vignette"} for i in unknown],
        )
    row = TrainingGroup(
        id=str(uuid.uuid4()),
        org_id=principal.org,
        name=name,
        members=list(dict.fromkeys(members)),
        vignettes=list(dict.fromkeys(vignettes)),
        created_by=principal.sub,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    _audit(session, principal, "create", "training_group", row.id)
    return row


async def group_results(session: AsyncSession, principal: Principal, group_id: str) -> dict[str, Any]:
    """Who completed which assigned vignette (latest score, best score), and the indicators most often missed."""
    group = await repository.get_group(session, principal.org, group_id)
    if group is None:
        raise NotFound("No such group")
    practices = await repository.finished_practices(session, group.org_id, group.members, group.vignettes)
    _audit(session, principal, "read_results", "training_group", group.id)
    cells: dict[tuple[str, str], list[Practice]] = {}
    missed: Counter[str] = Counter()
    for p in practices:
        cells.setdefault((p.trainee_sub, p.vignette_id), []).append(p)
        missed.update(m["indicator"] for m in (p.feedback or {}).get("missed", []))
    members = []
    for member in group.members:
        results = []
        for vignette_id in group.vignettes:
            done = cells.get((member, vignette_id), [])
            results.append(
                {
                    "vignette": vignette_id,
                    "completed": bool(done),
                    "attempts": len(done),
                    "latest_score": done[-1].score if done else None,
                    "best_score": max(p.score or 0 for p in done) if done else None,
                    "latest_outcome_right": (done[-1].feedback or {}).get("outcome_right") if done else None,
                }
            )
        members.append({"trainee": member, "results": results})
    return {
        "training": True,
        "group": group,
        "members": members,
        "most_missed": [{"indicator": c, "times": n} for c, n in sorted(missed.items(), key=lambda x: (-x[1], x[0]))][
            :10
        ],
    }


async def assignments_of(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """The vignettes the caller's groups (at their own organisation) assign to them."""
    out = []
    for group in await repository.groups_of(session, principal.org):
        if principal.sub in group.members:
            out.append({"group_id": group.id, "group": group.name, "vignettes": group.vignettes})
    return out
