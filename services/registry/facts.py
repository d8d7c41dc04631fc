"""The anonymised fact contract (registry.screening_fact / registry.referral_fact) and its validation,
and the pseudonym rotation message (registry.subject_key_rotated).

Every field is an enumeration, a number, a boolean, a uuid or a hex pseudonym: there is no field in
which a name, a date of birth or free text could travel, and unknown keys are refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from putokaz.schemas import StrictModel
from putokaz.vocabulary import (  # noqa: F401 - re-exported: the registry's dimensions are these codes
    AGE_BANDS,
    ENTITIES,
    EXPLOITATION_FORMS,
    REFERRAL_STATUSES,
    SERVICE_TYPES,
    SEXES,
    AgeBand,
    Entity,
    ExploitationForm,
    ReferralStatus,
    ServiceType,
    Sex,
)

SCREENING_FACT = "registry.screening_fact"
REFERRAL_FACT = "registry.referral_fact"
SUBJECT_KEY_ROTATED = "registry.subject_key_rotated"
PSEUDONYM = r"^[0-9a-f]{16,128}$"

CHILD_AGE_BANDS = frozenset({"0-8", "9-17"})
ScreeningStatus = Literal["none", "at_risk", "potential", "presumed", "identified", "not_confirmed"]
SCREENING_STATUSES: tuple[str, ...] = ScreeningStatus.__args__  # type: ignore[attr-defined]
# Highest wins when a person is counted once per period; a declined identification ranks below
# any indicator-based status so a later potential/presumed screening still counts.
STATUS_RANK = {"none": 0, "at_risk": 1, "not_confirmed": 2, "potential": 3, "presumed": 4, "identified": 5}
VICTIM_STATUSES = ("potential", "presumed", "identified")
VICTIM_MIN_RANK = STATUS_RANK["potential"]
RANK_STATUS = {rank: status for status, rank in STATUS_RANK.items()}
Form = ExploitationForm
FORMS = EXPLOITATION_FORMS
FORM_BITS = {form: 1 << i for i, form in enumerate(FORMS)}
Instrument = Literal["quick", "adult", "child"]
INSTRUMENTS: tuple[str, ...] = Instrument.__args__  # type: ignore[attr-defined]

UUID_PATTERN = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
MIN_YEAR = 2000


def clock_now(info: ValidationInfo) -> datetime:
    """The service clock's now, which every caller passes: `model_validate(data, context={"now": now})`
    (a test's clock decides what "in the future" is)."""
    if not info.context or "now" not in info.context:
        # Not a ValueError: a caller that forgot the clock is a bug (500), not a bad fact (422).
        raise RuntimeError('facts are validated with context={"now": <the clock\'s now>}')
    return info.context["now"]


class FactBase(StrictModel):
    # strict: a JSON string "2025" is not a year, "true" is not a boolean; extra: an unknown key
    # (a name, a date of birth, a note) rejects the whole fact.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    fact_id: str = Field(pattern=UUID_PATTERN)
    version: int = Field(ge=1, le=1_000_000)
    year: int = Field(ge=MIN_YEAR, le=2100)
    month: int = Field(ge=1, le=12)
    entity: Entity | None = None
    canton: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _check_place_and_time(self, info: ValidationInfo) -> FactBase:
        if self.canton is not None and self.entity != "FBIH":
            raise ValueError("canton is only valid with entity FBIH")
        now = clock_now(info)
        if (self.year, self.month) > (now.year, now.month):
            raise ValueError("a fact cannot be dated in the future")
        return self

    @property
    def quarter(self) -> int:
        return (self.month - 1) // 3 + 1


class ScreeningFactIn(FactBase):
    subject_key: str | None = Field(default=None, pattern=PSEUDONYM)
    age_band: AgeBand
    sex: Sex
    citizenship: str = Field(pattern=r"^([A-Z]{2}|UNK)$")
    status: ScreeningStatus
    forms: list[Form] = Field(default_factory=list, max_length=len(FORMS))
    instrument: Instrument
    child: bool
    anonymous: bool = False

    @model_validator(mode="after")
    def _check_consistency(self) -> ScreeningFactIn:
        if len(set(self.forms)) != len(self.forms):
            raise ValueError("forms must not repeat")
        if self.age_band in CHILD_AGE_BANDS and not self.child:
            raise ValueError("child must be true for a child age band")
        if self.age_band not in CHILD_AGE_BANDS and self.age_band != "unknown" and self.child:
            raise ValueError("child must be false for an adult age band")
        if self.subject_key is None and not self.anonymous:
            raise ValueError("subject_key is required unless the fact is anonymous")
        return self

    def row(self, source: str, now: datetime) -> dict[str, Any]:
        mask = 0
        for form in self.forms:
            mask |= FORM_BITS[form]
        return {
            "fact_id": self.fact_id.lower(),
            "version": self.version,
            "subject_key": self.subject_key,
            "year": self.year,
            "quarter": self.quarter,
            "month": self.month,
            "age_band": self.age_band,
            "sex": self.sex,
            "citizenship": self.citizenship,
            "entity": self.entity,
            "canton": self.canton,
            "status": self.status,
            "status_rank": STATUS_RANK[self.status],
            "forms_mask": mask,
            "instrument": self.instrument,
            "child": self.child,
            "anonymous": self.anonymous,
            "source": source,
            "updated_at": now,
        }


class ReferralFactIn(FactBase):
    service_type: ServiceType
    status: ReferralStatus
    hours_to_answer: float | None = Field(default=None, ge=0, le=24 * 366, allow_inf_nan=False)
    hours_to_placement: float | None = Field(default=None, ge=0, le=24 * 366, allow_inf_nan=False)
    # Hours from the screening's submission to this referral's request (none: made without a screening).
    hours_from_screening: float | None = Field(default=None, ge=0, le=24 * 366, allow_inf_nan=False)
    child: bool
    urgent: bool

    def row(self, source: str, now: datetime) -> dict[str, Any]:
        return {
            "fact_id": self.fact_id.lower(),
            "version": self.version,
            "year": self.year,
            "quarter": self.quarter,
            "month": self.month,
            "service_type": self.service_type,
            "status": self.status,
            "hours_to_answer": self.hours_to_answer,
            "hours_to_placement": self.hours_to_placement,
            "hours_from_screening": self.hours_from_screening,
            "entity": self.entity,
            "canton": self.canton,
            "child": self.child,
            "urgent": self.urgent,
            "source": source,
            "updated_at": now,
        }


class SubjectKeyRotationIn(StrictModel):
    """A person's pseudonym under the retiring key and under the new one: nothing else travels."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    old_subject_key: str = Field(pattern=PSEUDONYM)
    new_subject_key: str = Field(pattern=PSEUDONYM)

    @model_validator(mode="after")
    def _check_different(self) -> SubjectKeyRotationIn:
        if self.old_subject_key == self.new_subject_key:
            raise ValueError("old_subject_key and new_subject_key must differ")
        return self


FACT_MODELS: dict[str, type[ScreeningFactIn] | type[ReferralFactIn]] = {
    SCREENING_FACT: ScreeningFactIn,
    REFERRAL_FACT: ReferralFactIn,
}
# Every message of the feed the registry acts on.
FEED_MODELS: dict[str, type[ScreeningFactIn] | type[ReferralFactIn] | type[SubjectKeyRotationIn]] = {
    **FACT_MODELS,
    SUBJECT_KEY_ROTATED: SubjectKeyRotationIn,
}


def fact_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Field-level errors that never quote a value nor the name of an unknown key (either may be identity)."""
    out = []
    unknown = 0
    for err in exc.errors(include_input=False, include_url=False):
        if err["type"] == "extra_forbidden":
            unknown += 1
            continue
        loc = [str(part) for part in err.get("loc", ())]
        field = loc[0] if loc else "data"
        message = err["msg"] if err["type"] != "value_error" else str(err.get("ctx", {}).get("error", err["msg"]))
        out.append({"field": field, "message": message})
    if unknown:
        out.append({"field": "data", "message": f"{unknown} field(s) outside the anonymised fact contract"})
    return out
