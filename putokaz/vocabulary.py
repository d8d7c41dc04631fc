"""The codes every part shares (DESIGN.md §6–9): one definition, so the services and the feed never drift."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["en", "bs", "hr", "sr", "ar", "fa", "ps", "ur"]
LANGUAGES: tuple[str, ...] = get_args(Language)
RTL_LANGUAGES = frozenset({"ar", "fa", "ps", "ur"})

Sex = Literal["F", "M", "X", "UNK"]
SEXES: tuple[str, ...] = get_args(Sex)

Entity = Literal["FBIH", "RS", "BD"]
ENTITIES: tuple[str, ...] = get_args(Entity)

AgeBand = Literal["0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+", "unknown"]
AGE_BANDS: tuple[str, ...] = get_args(AgeBand)

ExploitationForm = Literal[
    "sexual",
    "forced_labour",
    "begging",
    "forced_criminality",
    "forced_marriage",
    "domestic_servitude",
    "organ_removal",
    "illegal_adoption",
    "other",
]
EXPLOITATION_FORMS: tuple[str, ...] = get_args(ExploitationForm)

ServiceType = Literal[
    "safe_house",
    "shelter_children",
    "shelter_families",
    "medical",
    "mhpss",
    "legal_aid",
    "social_welfare",
    "avrr",
    "interpretation",
    "other",
]
SERVICE_TYPES: tuple[str, ...] = get_args(ServiceType)

# HL7 FHIR Task status values used by referrals.
ReferralStatus = Literal[
    "requested", "accepted", "rejected", "in_progress", "completed", "failed", "cancelled", "expired"
]
REFERRAL_STATUSES: tuple[str, ...] = get_args(ReferralStatus)
