"""Request and response models of referrals: the sender sees its case details, the provider the minimum."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator

from putokaz.schemas import StrictModel
from services.referral.directory.schemas import CaseProfileIn, LocationRead, ObjectId, PlaceRead, ServiceType
from services.referral.referrals.handover import identity_in_note
from services.referral.referrals.lifecycle import ReasonCode, Status

UserTarget = Literal["accepted", "rejected", "in_progress", "completed", "failed", "cancelled"]
# BCP 47 language with an optional region or script: Dari interpreters are "fa-AF", not "fa".
InterpreterLanguage = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
ScreeningRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


@dataclass(frozen=True)
class ReferralFilter:
    """The filters of the referral list (`GET /referrals` query parameters, read as one dependency)."""

    box: Literal["sent", "received", "all"] = "all"
    status: Status | None = None
    service_type: ServiceType | None = None
    urgent: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class ConsentIn(StrictModel):
    recorded: bool = Field(description="The person agreed to this referral (adults: required)")
    text_version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,32}$")] | None = Field(
        default=None, description="Version of the consent text the person agreed to"
    )


# Care needs as codes, grouped by prefix: mobility, medical, child care. Codes, not prose, so nothing
# about the person slips in and every provider reads them in its own language.
CareNeed = Literal[
    "mobility_wheelchair",
    "mobility_reduced",
    "medical_urgent_care",
    "medical_regular_medication",
    "medical_pregnancy",
    "medical_mental_health",
    "childcare_accompanying_children",
    "childcare_infant",
]
NOT_IDENTITY = (
    "Never the person's identity: no name, date of birth, document or personal number, address, phone, "
    "photo or description that could single the person out."
)


class HandoverIn(StrictModel):
    """What the provider needs to receive the person. The provider sees it once it has accepted the referral."""

    contact_name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)] | None = Field(
        default=None, description="The referring professional's name (a work contact, never the person's)"
    )
    contact_phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()/-]{4,22}[0-9]$")] | None = Field(
        default=None, description="The referring professional's work phone (never the person's)"
    )
    expected_arrival: AwareDatetime | None = Field(default=None, description="When the person is expected to arrive")
    interpreter_language: InterpreterLanguage | None = Field(
        default=None, description="Language an interpreter is needed for (BCP 47, e.g. ar, fa-AF), if any"
    )
    needs: Annotated[list[CareNeed], Field(max_length=8)] = Field(
        default_factory=list, description="Mobility, medical and child-care needs as codes"
    )
    note: Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)] | None = Field(
        default=None, description="A short note to prepare the arrival (at most 500 characters). " + NOT_IDENTITY
    )

    @field_validator("expected_arrival")
    @classmethod
    def _in_utc(cls, when: datetime | None) -> datetime | None:
        return when.astimezone(UTC) if when is not None else None

    @field_validator("note")
    @classmethod
    def _no_identity(cls, note: str | None) -> str | None:
        what = identity_in_note(note) if note else None
        if what:
            raise ValueError(f"the note seems to hold {what}; describe needs, never the person's identity")
        return note


class ReferralCreate(StrictModel):
    screening_id: ScreeningRef = Field(description="Reference of the screening in the screening service")
    service_id: ObjectId
    profile: CaseProfileIn
    urgent: bool = False
    consent: ConsentIn | None = None
    handover: HandoverIn | None = Field(
        default=None,
        description="Contact, arrival and needs for the provider, shown to it once it accepts. " + NOT_IDENTITY,
    )


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
    care_needs: list[str] = Field(
        default_factory=list, description="Mobility, medical and child-care needs as codes: a provider decides on them"
    )


class HandoverRead(BaseModel):
    """Present for the referring organisation, and for the provider while the referral is accepted or in progress."""

    contact_name: str | None = None
    contact_phone: str | None = None
    expected_arrival: datetime | None = None
    interpreter_language: str | None = None
    needs: list[str] = Field(default_factory=list)
    note: str | None = None


class SenderDetails(BaseModel):
    """Only the referring organisation sees these."""

    screening_id: str
    age: int | None
    nationality: str | None
    place: PlaceRead
    consent_recorded: bool
    consent_text_version: str | None
    created_by: str


class DestinationRead(BaseModel):
    """Where the referrer brings the person: the service's address and contact, confidential ones included."""

    organisation_name: str
    service_name: str
    email: str | None = Field(description="The organisation's contact e-mail")
    website: str | None
    locations: list[LocationRead] = Field(description="Every location of the service, with its full address")


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
    handover: HandoverRead | None = Field(
        default=None,
        description="The referrer's contact, expected arrival, interpreter, needs and note: for the provider only "
        "once it has accepted (accepted, in_progress), always for the referring organisation",
    )
    destination: DestinationRead | None = Field(
        default=None,
        description="The service's address and contact: for the referring organisation's police officers and "
        "social workers only, and only while the referral is accepted or in_progress (they bring the person); "
        "never before acceptance, never to the provider's side or anyone else. Each confidential address "
        "shown is on the audit log (`reveal_address`)",
    )


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
