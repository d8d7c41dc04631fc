"""Request and response models of referrals: the sender sees its case details, the provider the minimum."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from putokaz.schemas import StrictModel
from services.referral.directory.schemas import CaseProfileIn, ObjectId, PlaceRead
from services.referral.referrals.lifecycle import ReasonCode

UserTarget = Literal["accepted", "rejected", "in_progress", "completed", "failed", "cancelled"]
ScreeningRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class ConsentIn(StrictModel):
    recorded: bool = Field(description="The person agreed to this referral (adults: required)")
    text_version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,32}$")] | None = Field(
        default=None, description="Version of the consent text the person agreed to"
    )


class ReferralCreate(StrictModel):
    screening_id: ScreeningRef = Field(description="Reference of the screening in the screening service")
    service_id: ObjectId
    profile: CaseProfileIn
    urgent: bool = False
    consent: ConsentIn | None = None


class TransitionCreate(StrictModel):
    status: UserTarget
    reason_code: ReasonCode | None = None


class ProfileRead(BaseModel):
    """What the receiving provider needs to prepare: no age in years, place, nationality or screening."""

    age_band: str
    child: bool
    sex: str
    languages: list[str]
    forms: list[str]
    needs_wheelchair_access: bool
    lgbtqia: bool


class SenderDetails(BaseModel):
    """Only the referring organisation sees these."""

    screening_id: str
    age: int | None
    nationality: str | None
    place: PlaceRead
    consent_recorded: bool
    consent_text_version: str | None
    created_by: str


class ReferralRead(BaseModel):
    id: str
    status: str
    from_org: str
    to_org: str
    service_id: str
    service_type: str
    urgent: bool
    profile: ProfileRead
    reason_code: str | None
    suggested_service_id: str | None
    place_reserved: bool
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime
    answered_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    sender: SenderDetails | None = Field(description="Present only for the referring organisation")


class TransitionRead(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    actor_org: str
    actor_sub: str | None = Field(description="Shown only to the actor's own organisation")
    reason_code: str | None


class HistoryEntry(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime
    actor_org: str
    reason_code: str | None


class SubjectReferral(BaseModel):
    referral: ReferralRead
    history: list[HistoryEntry]


class KnownConsent(BaseModel):
    consent_referral: Literal["given", "declined", "not_required", "pending", "withdrawn"]
    consent_text_version: str | None
    recorded_at: datetime
    child: bool


class ReferralAccess(BaseModel):
    at: datetime
    actor_org: str
    action: str
    outcome: Literal["ok", "refused"]
    referral_id: str | None


class ReferralSubjectAccess(BaseModel):
    """Everything the referral service holds on the person of one screening (the referral side of a request)."""

    generated_at: datetime
    service: Literal["referral"]
    screening_id: str
    consent: KnownConsent | None = Field(description="Consent to referral as the screening service last told it")
    referrals: list[SubjectReferral]
    accesses: list[ReferralAccess] = Field(description="Who read or moved these referrals (organisation, action)")
