"""Pseudonym key rotation: re-key every screening's registry pseudonym and tell the registry old → new.

The registry counts a person once per period by `subject_key` and keeps, per fact, the record keys of
the cell key method. So a rotation never re-sends facts (every cell would get a second perturbation to
average with the first): for each person it announces `registry.subject_key_rotated` with the two
pseudonyms and nothing else, and the registry rewrites `subject_key` of that person's facts in place,
their record keys unchanged.

- New screenings are keyed with the active key at once. A person screened before under a key being
  retired is announced as they are screened again, before their new fact, so the registry never holds
  them under two pseudonyms at once.
- A fact about to be sent for a screening still under an older key is re-keyed (and announced) first.
- The background job (a task of the screening's job) re-keys the rest from the decrypted identity, a
  batch per run under row locks (SKIP LOCKED: replicas share the work; a second run finds nothing).

An announcement goes out under the screening's fact id as aggregate: the feed delivers one aggregate's
events in order, so the registry always has that fact's earlier versions before it re-keys them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.events import emit
from putokaz.retention import Task
from services.screening.identity import Keyring, normalise_person
from services.screening.models import Screening
from services.screening.vault import Vault

SUBJECT_KEY_ROTATED = "registry.subject_key_rotated"


async def announce(session: AsyncSession, old: str, new: str, fact_id: str) -> None:
    """Only the two pseudonyms travel: never an identity, a screening id or a key id."""
    await emit(session, SUBJECT_KEY_ROTATED, {"old_subject_key": old, "new_subject_key": new}, aggregate_id=fact_id)


def _normalised(identity: dict[str, Any] | None) -> str | None:
    if not identity:
        return None
    return normalise_person(identity.get("given_name"), identity.get("family_name"), identity.get("date_of_birth"))


async def rekey(session: AsyncSession, vault: Vault, screening: Screening) -> None:
    """Move one screening (locked by the caller) under the active pseudonym key, announcing the change."""
    keyring = vault.keyring
    normalised = _normalised(await vault.open(screening.id, "identity", screening.identity_ct))
    if normalised is None:
        # No name: its pseudonym was random from the start, and stays so.
        screening.subject_key_id = None
        return
    new = keyring.subject_key(normalised)
    if new != screening.subject_key:
        await announce(session, screening.subject_key, new, screening.fact_id)
        screening.subject_key = new
    screening.subject_key_id = keyring.pseudonym_active


async def ensure_active_key(session: AsyncSession, vault: Vault, screening: Screening) -> None:
    """Before a fact is sent: a screening still under an older pseudonym key is re-keyed first."""
    if screening.subject_key_id is not None and screening.subject_key_id != vault.keyring.pseudonym_active:
        await rekey(session, vault, screening)


async def announce_earlier_pseudonyms(
    session: AsyncSession, keyring: Keyring, normalised: str, new: str, fact_id: str
) -> None:
    """A person screened during a rotation whose earlier screenings are still under a retiring key."""
    for key_id in keyring.retiring_pseudonym_key_ids():
        old = keyring.subject_key(normalised, key_id)
        known = await session.scalar(
            select(Screening.id).where(Screening.subject_key == old, Screening.subject_key_id == key_id).limit(1)
        )
        if known is not None:
            await announce(session, old, new, fact_id)


def pseudonym_rotation_task(vault: Vault) -> Task:
    async def rotate(session: AsyncSession, now: datetime, batch: int) -> int:
        active = vault.keyring.pseudonym_active
        rows = (
            await session.scalars(
                select(Screening)
                .where(Screening.subject_key_id.is_not(None), Screening.subject_key_id != active)
                .order_by(Screening.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            await rekey(session, vault, row)
        return len(rows)

    return Task("pseudonym_rotation", rotate)


async def key_status(session: AsyncSession, keyring: Keyring) -> dict[str, Any]:
    """How many screenings each pseudonym key still keys; a configured key keying none can be retired."""
    counts = dict(
        (await session.execute(select(Screening.subject_key_id, func.count()).group_by(Screening.subject_key_id))).all()
    )
    by_key = {kid: int(n) for kid, n in counts.items() if kid is not None}
    retiring = keyring.retiring_pseudonym_key_ids()
    return {
        "active_key": keyring.pseudonym_active,
        "configured_keys": sorted(keyring.pseudonym_keys),
        "screenings_by_key": dict(sorted(by_key.items())),
        "random_pseudonyms": int(counts.get(None, 0)),
        "rotation_done": not any(kid != keyring.pseudonym_active for kid in by_key),
        "retirable_keys": [kid for kid in retiring if by_key.get(kid, 0) == 0],
    }
