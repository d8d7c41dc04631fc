"""The person's rights on a screening: consent withdrawal, erasure by crypto-shredding, legal hold."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.auth import Principal
from putokaz.errors import Conflict
from putokaz.events import emit
from services.screening import repository
from services.screening.models import BlindIndex, Screening
from services.screening.screenings import load
from services.screening.vault import Vault


def status(row: Screening) -> dict[str, Any]:
    return {
        "screening_id": row.id,
        "consent_withdrawn_at": row.consent_withdrawn_at,
        "consent_withdrawn_by": row.consent_withdrawn_by,
        "erased_at": row.erased_at,
        "erasure_reason": row.erasure_reason,
        "legal_hold": row.legal_hold,
        "legal_hold_reason": row.legal_hold_reason,
    }


async def erase(session: AsyncSession, vault: Vault, screening: Screening, reason: str, now: datetime) -> bool:
    """Destroy the screening's data key, drop its blind index and ciphertext; False when held or already erased.

    The data key goes first, in the key store's own transaction: from that moment no copy of the
    ciphertext (this row, a dump, a replica) can be read, even if this transaction then fails.
    """
    if screening.legal_hold or screening.erased_at is not None:
        return False
    await vault.shred(screening.id)
    await session.execute(delete(BlindIndex).where(BlindIndex.screening_id == screening.id))
    screening.identity_ct = None
    screening.answers_ct = None
    # The pseudonym could be recomputed from a guessed identity with the pseudonym key: sever the link.
    # Facts already in the registry keep their pseudonym (it holds no key and no identity).
    screening.subject_key = secrets.token_hex(32)
    screening.subject_key_id = None
    screening.erased_at = now
    screening.erasure_reason = reason
    return True


async def erase_on_request(
    session: AsyncSession, vault: Vault, principal: Principal, screening_id: str, reason: str, *, now: datetime
) -> Screening:
    screening = await load(session, principal, screening_id, for_update=True, action="erase")
    if screening.legal_hold:
        raise Conflict("The screening is under legal hold; release the hold before erasing")
    if await erase(session, vault, screening, reason, now):
        repository.audit_detail(session, principal, "erase", screening.id, {"reason": reason})
    return screening


async def withdraw_consent(
    session: AsyncSession, vault: Vault, principal: Principal, screening_id: str, *, now: datetime
) -> Screening:
    """Recorded once (a repeat answers the first record); open referrals are cancelled by the referral service."""
    screening = await load(session, principal, screening_id, for_update=True, action="withdraw_consent")
    if screening.consent_withdrawn_at is not None:
        return screening
    screening.consent_withdrawn_at = now
    screening.consent_withdrawn_by = principal.sub
    screening.updated_at = now
    await emit(
        session,
        "screening.consent_withdrawn",
        {
            "screening_id": screening.id,
            "org": screening.org_id,
            "occurred_at": now.isoformat().replace("+00:00", "Z"),
        },
        aggregate_id=screening.id,
    )
    repository.audit(session, principal, "withdraw_consent", screening.id)
    if await erase(session, vault, screening, "consent_withdrawn", now):
        repository.audit_detail(session, principal, "erase", screening.id, {"reason": "consent_withdrawn"})
    return screening


async def set_legal_hold(
    session: AsyncSession, principal: Principal, screening_id: str, reason: str | None
) -> Screening:
    """Place (`reason`) or release (None) a legal hold; both are audited."""
    action = "place_legal_hold" if reason else "release_legal_hold"
    screening = await load(session, principal, screening_id, for_update=True, action=action)
    if reason is not None and screening.erased_at is not None:
        raise Conflict("The screening's personal data is already erased; there is nothing left to hold")
    screening.legal_hold = reason is not None
    screening.legal_hold_reason = reason
    repository.audit_detail(session, principal, action, screening.id, {"reason": reason} if reason else None)
    return screening
