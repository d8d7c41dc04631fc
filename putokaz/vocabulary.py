"""The codes every part shares, defined once so the services and the feed never drift (docs/domain.md)."""

from __future__ import annotations

from typing import Literal, get_args

# A person's language (the questionnaire's). Serbian as written in BiH is Ijekavian in both scripts;
# `sr` is an alias of sr-Cyrl (Cyrillic is in official use in Republika Srpska). fa is Persian as
# written in Iran, fa-AF Dari (most Persian speakers in BiH reception centres are Afghans).
Language = Literal["en", "bs", "hr", "sr", "sr-Cyrl", "sr-Latn", "ar", "fa", "fa-AF", "ps", "ur", "fr", "bn"]
LANGUAGES: tuple[str, ...] = get_args(Language)
# The languages a questionnaire text is written in (an alias has no text of its own).
TEXT_LANGUAGES: tuple[str, ...] = tuple(lang for lang in LANGUAGES if lang != "sr")
RTL_LANGUAGES = frozenset({"ar", "fa", "fa-AF", "ps", "ur"})
# The screener's (user interface) languages, separate from the person's; `sr` is served as sr-Cyrl.
UiLanguage = Literal["en", "bs", "hr", "sr", "sr-Latn", "sr-Cyrl"]
UI_LANGUAGES: tuple[str, ...] = get_args(UiLanguage)
LANGUAGE_ALIASES = {"sr": "sr-Cyrl"}

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

# Upper bound (inclusive) of each CTDC age band; 48 and over is the last.
_AGE_BAND_UPPER = (
    (8, "0-8"),
    (17, "9-17"),
    (20, "18-20"),
    (23, "21-23"),
    (26, "24-26"),
    (29, "27-29"),
    (38, "30-38"),
    (47, "39-47"),
)


def age_band(age: int | None) -> AgeBand:
    """The CTDC age band of an age in years (`unknown` when the age is not known)."""
    if age is None:
        return "unknown"
    return next((band for upper, band in _AGE_BAND_UPPER if age <= upper), "48+")  # type: ignore[return-value]
