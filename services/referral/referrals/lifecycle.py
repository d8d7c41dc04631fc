"""The referral lifecycle (HL7 FHIR Task status values): which move is legal, and which side makes it."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Literal


class Side(StrEnum):
    SENDER = "sender"
    RECIPIENT = "recipient"
    SYSTEM = "system"


Status = Literal["requested", "accepted", "rejected", "in_progress", "completed", "failed", "cancelled", "expired"]
STATUSES: tuple[str, ...] = (
    "requested",
    "accepted",
    "rejected",
    "in_progress",
    "completed",
    "failed",
    "cancelled",
    "expired",
)
TERMINAL = frozenset({"rejected", "completed", "failed", "cancelled", "expired"})

# (from, to) -> the side allowed to make the move.
TRANSITIONS: dict[tuple[str, str], Side] = {
    ("requested", "accepted"): Side.RECIPIENT,
    ("requested", "rejected"): Side.RECIPIENT,
    ("accepted", "in_progress"): Side.RECIPIENT,
    ("in_progress", "completed"): Side.RECIPIENT,
    ("in_progress", "failed"): Side.RECIPIENT,
    ("requested", "cancelled"): Side.SENDER,
    ("accepted", "cancelled"): Side.SENDER,
    ("in_progress", "cancelled"): Side.SENDER,
    ("requested", "expired"): Side.SYSTEM,
}

# Which side a requested target status belongs to, whatever the current status.
SIDE_OF_TARGET: dict[str, Side] = {to: side for (_, to), side in TRANSITIONS.items()}

# Reasons are codes, never free text: free text invites identity data into partner events.
REASON_REQUIRED = frozenset({"rejected", "failed"})
ReasonCode = Literal[
    "no_capacity",
    "not_eligible",
    "not_specialised",
    "outside_area",
    "safety_concern",
    "person_declined",
    "person_left",
    "placed_elsewhere",
    "no_longer_needed",
    "duplicate",
    "other",
]

URGENT_DEADLINE = timedelta(hours=2)
ROUTINE_DEADLINE = timedelta(hours=48)


def answer_deadline(urgent: bool) -> timedelta:
    return URGENT_DEADLINE if urgent else ROUTINE_DEADLINE


def is_legal(current: str, target: str) -> bool:
    return (current, target) in TRANSITIONS


def holds_place(status: str) -> bool:
    """A reserved accommodation place is held from acceptance until the referral ends."""
    return status in ("accepted", "in_progress")
