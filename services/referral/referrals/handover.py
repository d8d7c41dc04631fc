"""What a provider needs at handover, and when it may see it: only once it has accepted the referral.

Before it answers, a provider sees what it needs to decide (the minimal profile and the care-need
codes); the referring professional's contact, the expected arrival, the interpreter language and the
note follow acceptance, and stop when the person's stay there ends, as a confidential address does
for the referrer.
"""

from __future__ import annotations

import re
from typing import Any

# While the person is (about to be) with the provider: the statuses in which it sees the handover.
HANDOVER_STATUSES = frozenset({"accepted", "in_progress"})

# A note is for preparing a room, not for identifying a person. What is refused looks like identity
# a careless note would carry: a document or personal number, a phone number, a date, an e-mail.
_IDENTITY_LIKE = (
    (re.compile(r"\d[\d .\-/]{4,}\d"), "a number of five digits or more (a document, personal or phone number)"),
    (re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-](\d{2}|\d{4})\b"), "a date (such as a date of birth)"),
    (re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE), "an e-mail address"),
)


def identity_in_note(note: str) -> str | None:
    """Why this note looks like it carries identity, or None."""
    for pattern, what in _IDENTITY_LIKE:
        if pattern.search(note):
            return what
    return None


def sees_handover(referral_status: str, *, sender: bool) -> bool:
    """The referring organisation always sees what it wrote; the provider only while it holds the person."""
    return sender or referral_status in HANDOVER_STATUSES


def stored(handover: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored form: fields left out stay out (nothing is kept as null)."""
    if not handover:
        return None
    return {k: v for k, v in handover.items() if v not in (None, [], "")} or None
