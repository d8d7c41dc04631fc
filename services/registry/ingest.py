"""Ingest of the internal event feed: validate the anonymised fact, deduplicate, upsert by version;
re-key a person's facts in place on a pseudonym rotation."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.errors import Invalid
from putokaz.events.receiver import WebhookMessage, record_once
from services.registry import repository
from services.registry.facts import FEED_MODELS, SCREENING_FACT, SubjectKeyRotationIn, fact_errors

logger = logging.getLogger("putokaz.registry.ingest")

Outcome = Literal["stored", "superseded", "duplicate", "ignored"]


async def ingest_message(session: AsyncSession, message: WebhookMessage, now: datetime) -> Outcome:
    """Store one verified feed message in the caller's transaction.

    A fact outside the contract raises `Invalid` (422): the sender's dispatcher records the failure and
    the message can be replayed once the sender is fixed; nothing of it is stored or logged.
    """
    model = FEED_MODELS.get(message.type)
    if model is None:
        # Not a fact this registry keeps (e.g. a new event type): acknowledge so it is not retried forever.
        logger.info("feed event ignored", extra={"webhook_id": message.id, "event_type": message.type[:100]})
        return "ignored"
    try:
        fact = model.model_validate(message.data, context={"now": now})
    except ValidationError as exc:
        errors = fact_errors(exc)
        logger.warning(
            "feed fact rejected",
            extra={
                "webhook_id": message.id,
                "event_type": message.type,
                "fields": sorted({e["field"] for e in errors}),
            },
        )
        raise Invalid("The fact does not satisfy the anonymised fact contract", errors=errors) from None
    if not await record_once(session, message.id, message.type, now):
        return "duplicate"
    if isinstance(fact, SubjectKeyRotationIn):
        # Idempotent by itself too: once re-keyed, no fact carries the old pseudonym any more.
        await repository.rekey_person(session, fact.old_subject_key, fact.new_subject_key)
        return "stored"
    row = fact.row("feed", now)
    if message.type != SCREENING_FACT:
        written = await repository.upsert_facts(session, repository.REFERRALS, [row])
        return "stored" if written else "superseded"
    previous = await repository.stored_periods(session, [row["fact_id"]])
    # Before the fact's row is written: a re-keying of the same person waits for us, or we for it.
    await repository.lock_persons(session, {row["subject_key"] or row["fact_id"], *(p for p, _ in previous)})
    written = await repository.upsert_facts(session, repository.SCREENINGS, [row])
    if written:
        for person, year in {(row["subject_key"] or row["fact_id"], row["year"]), *previous}:
            await repository.refresh_person_periods(session, years=[year], person=person)
    return "stored" if written else "superseded"
