"""The screening events referral consumes (internal; never identity). Extra fields are ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from putokaz.vocabulary import Entity

ScreeningId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ConsentState = Literal["given", "declined", "not_required", "pending", "withdrawn"]


class FeedEvent(BaseModel):
    # The screening service may add fields; referral reads only what it needs.
    model_config = ConfigDict(extra="ignore")

    screening_id: ScreeningId
    org: OrgId


class ConsentRecorded(FeedEvent):
    """`screening.consent_recorded`: the consent to referral as the screening service now holds it."""

    child: bool = False
    consent_referral: ConsentState
    consent_text_version: Annotated[str, StringConstraints(max_length=40)] | None = None
    occurred_at: datetime | None = None


class PlaceData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entity: Entity | None = None
    canton: Annotated[int, Field(ge=1, le=10)] | None = None
    municipality: Annotated[str, StringConstraints(max_length=100)] | None = None


class Submitted(FeedEvent):
    """`screening.submitted`: the computed outcome, and where the person was met (no identity)."""

    outcome: str
    urgent: bool = False
    child: bool = False
    place: PlaceData = Field(default_factory=PlaceData)
    forms: list[str] = Field(default_factory=list)
    consent_referral: ConsentState | None = None
    submitted_at: datetime | None = None


class ConsentWithdrawn(FeedEvent):
    """`screening.consent_withdrawn`: the person withdrew consent; open referrals must stop."""

    occurred_at: datetime | None = None


class FeedAnswer(BaseModel):
    status: Literal["processed", "duplicate", "ignored"]
