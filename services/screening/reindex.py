"""Background re-index of the blind index after a blind-index key rotation (a task of the screening's job).

Rows under a key other than the active one are recomputed from the decrypted identity, one screening
at a time under its row lock (SKIP LOCKED: replicas share the work). Lookups try every configured key
meanwhile, so "screened before?" keeps answering throughout; retire the old key once no row uses it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.retention import Task
from services.screening.identity import normalise_document, normalise_person
from services.screening.models import BlindIndex, Screening
from services.screening.vault import Vault


def digests_of(vault: Vault, identity: dict[str, Any]) -> list[tuple[str, str]]:
    keyring = vault.keyring
    found = []
    normalised = normalise_person(
        identity.get("given_name"), identity.get("family_name"), identity.get("date_of_birth")
    )
    if normalised:
        found.append(("name_dob", keyring.blind_index("name_dob", normalised)))
    for document in identity.get("documents") or ():
        found.append(("document", keyring.blind_index("document", normalise_document(document["number"]))))
    return list(dict.fromkeys(found))


def blind_index_reindex_task(vault: Vault) -> Task:
    async def reindex(session: AsyncSession, now: datetime, batch: int) -> int:
        active = vault.keyring.blind_active
        stale = select(BlindIndex.screening_id).where(BlindIndex.key_id != active).distinct()
        rows = (
            await session.scalars(
                select(Screening)
                .where(Screening.id.in_(stale))
                .order_by(Screening.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            await session.execute(delete(BlindIndex).where(BlindIndex.screening_id == row.id))
            identity = await vault.open(row.id, "identity", row.identity_ct)
            for kind, digest in digests_of(vault, identity or {}):
                session.add(BlindIndex(screening_id=row.id, org_id=row.org_id, kind=kind, digest=digest, key_id=active))
        return len(rows)

    return Task("blind_index_reindex", reindex)


async def rows_under_other_keys(session: AsyncSession, active: str) -> int:
    return await session.scalar(select(func.count()).select_from(BlindIndex).where(BlindIndex.key_id != active)) or 0
