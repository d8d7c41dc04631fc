"""Request and response models of the screening API (requests reject unknown fields)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from putokaz.gazetteer import KnownMunicipality, completed_place
from putokaz.schemas import Page, StrictModel
from putokaz.vocabulary import AgeBand, Entity, Language, Sex

ComputedOutcome = Literal["NO_INDICATORS", "AT_RISK", "POTENTIAL_VICTIM", "PRESUMED_VICTIM"]
AnyOutcome = Literal[
    "NO_INDICATORS", "AT_RISK", "POTENTIAL_VICTIM", "PRESUMED_VICTIM", "IDENTIFIED_VICTIM", "NOT_CONFIRMED"
]
# SQLite hands back naive datetimes; every time the API shows is UTC and says so.
UtcDatetime = Annotated[datetime, AfterValidator(lambda d: d if d.tzinfo else d.replace(tzinfo=UTC))]
# Plain (unencrypted) text columns refuse control characters; PostgreSQL text cannot even hold NUL.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Name = Field(default=None, min_length=1, max_length=100)


class Place(StrictModel):
    """Where the person was met, as stored (screenings made before the gazetteer may hold any text)."""

    entity: Entity | None = None
    canton: int | None = Field(default=None, ge=1, le=10)
    municipality: str | None = Field(default=None, min_length=1, max_length=100, pattern=PRINTABLE)

    @model_validator(mode="after")
    def _canton_in_fbih(self) -> Place:
        if self.canton is not None and self.entity != "FBIH":
            raise ValueError("canton is only used in the Federation of BiH (entity FBIH)")
        return self


class PlaceCreate(Place):
    """A new screening's place: the municipality must be one of the gazetteer's (docs/domain.md §2).

    Entity and canton are filled in from it when left out, and refused when they contradict it.
    """

    municipality: KnownMunicipality | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_from_municipality(cls, data: Any) -> Any:
        return completed_place(data)


class Document(StrictModel):
    type: Literal["passport", "id_card", "residence_permit", "travel_document", "other"]
    number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ./-]+$")


class SubjectCreate(StrictModel):
    """Who is screened. Names, date of birth, phone, documents and notes are encrypted at rest."""

    given_name: str | None = Name
    family_name: str | None = Name
    date_of_birth: date | None = None
    age_estimate: int | None = Field(default=None, ge=0, le=120)
    # Asked when age is unknown; anything but an explicit "no" presumes a child (presumption of minority).
    possibly_minor: bool | None = None
    sex: Sex = "UNK"
    citizenship: str = Field(default="UNK", pattern=r"^([A-Z]{2}|UNK)$")
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^\+?[0-9 ()/-]+$")
    documents: list[Document] = Field(default_factory=list, max_length=5)
    notes: str | None = Field(default=None, min_length=1, max_length=2000)

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        if value is not None and not (date(1900, 1, 1) <= value <= date.today()):
            raise ValueError("date_of_birth must be between 1900-01-01 and today")
        return value


class ConsentCreate(StrictModel):
    text_version: str = Field(min_length=1, max_length=40)
    referral: Literal["given", "declined"]


class ScreeningCreate(StrictModel):
    instrument: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    version: int | None = Field(default=None, ge=1, le=1_000_000)
    language: Language
    place: PlaceCreate = Field(default_factory=PlaceCreate)
    subject: SubjectCreate = Field(default_factory=SubjectCreate)
    consent: ConsentCreate | None = None


class AnswersUpdate(StrictModel):
    """Answers by question id; `null` removes an answer. Each value is checked against its question."""

    answers: dict[str, Any] = Field(min_length=1, max_length=300)


class DecisionCreate(StrictModel):
    outcome: Literal["IDENTIFIED_VICTIM", "NOT_CONFIRMED"]
    authority: str = Field(min_length=2, max_length=200, pattern=PRINTABLE)
    decided_on: date

    @field_validator("decided_on")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        # A field validator, so the error names body.decided_on rather than the whole body.
        if value > date.today() or value < date(2000, 1, 1):
            raise ValueError("decided_on must be a past date (2000 or later)")
        return value


class LookupRequest(StrictModel):
    given_name: str | None = Name
    family_name: str | None = Name
    date_of_birth: date | None = None
    document_number: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ./-]+$")

    @model_validator(mode="after")
    def _something_to_look_up(self) -> LookupRequest:
        if not (self.given_name or self.family_name or self.document_number):
            raise ValueError("give a name or a document number")
        return self


class SubjectRead(BaseModel):
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    age_estimate: int | None = None
    possibly_minor: bool | None = None
    phone: str | None = None
    documents: list[Document] = Field(default_factory=list)
    notes: str | None = None


class ConsentRead(BaseModel):
    text_version: str | None
    # pending: an adult's consent not yet recorded (PUT …/consent before submit).
    referral: Literal["given", "declined", "not_required", "pending"]
    anonymous: bool
    # The consent text of that version in the person's language, as it was shown.
    text: str | None = None
    text_status: Literal["reviewed", "draft"] | None = None


class DimensionRead(BaseModel):
    dimension: str
    positive: bool
    strong: int
    medium: int
    weak: int
    indicators: list[str]
    # Project additions among `indicators` (not ILO/EC indicators; EU Directive forms of exploitation).
    additions: list[str] = Field(default_factory=list)
    rule: str | None


class ListOutcome(BaseModel):
    list: str
    outcome: ComputedOutcome
    rule: str


class ResultRead(BaseModel):
    outcome: ComputedOutcome
    rule: str
    # Who states the tier: the presumption is the ILO/EC rule; POTENTIAL_VICTIM and AT_RISK are ours.
    rule_source: str | None = None
    # The ILO/EC list (adult_labour, adult_sexual, child_labour, child_sexual) that produced the outcome,
    # and every list scored; None for the quick screen. Results stored before lists existed have none.
    ilo_list: str | None = None
    ilo_lists: list[ListOutcome] = Field(default_factory=list)
    reasons: list[str]
    dimensions: list[DimensionRead]
    act_recorded: bool
    vulnerability_factors: list[str]
    unsure: list[str]
    forms: list[str]
    urgent: bool
    recommended_service_types: list[str]
    recommended_actions: list[str]


class ExplainedIndicator(BaseModel):
    code: str
    text: str
    addition: bool


class ExplainedDimension(BaseModel):
    dimension: str
    name: str
    holds: bool
    indicators: list[ExplainedIndicator]


class Condition(BaseModel):
    name: str
    met: bool


class NextStep(BaseModel):
    who: str
    # 0 = now; null = no deadline.
    within_hours: int | None
    text: str


class Explanation(BaseModel):
    """The result in plain words in the screener's language (`?ui=` or Accept-Language)."""

    language: str
    outcome: str
    summary: str
    tier: str
    conditions: list[Condition]
    dimensions: list[ExplainedDimension]
    next_steps: list[NextStep]


class DecisionRead(BaseModel):
    id: str
    screening_id: str
    outcome: Literal["IDENTIFIED_VICTIM", "NOT_CONFIRMED"]
    authority: str
    decided_on: date
    recorded_by: str
    recorded_at: UtcDatetime


class ScreeningSummary(BaseModel):
    id: str
    instrument: str
    instrument_version: int
    instrument_kind: str
    language: Language
    direction: Literal["ltr", "rtl"]
    state: Literal["draft", "submitted"]
    outcome: AnyOutcome | None
    urgent: bool
    child: bool
    anonymous: bool
    place: Place
    screener: str
    started_at: UtcDatetime
    submitted_at: UtcDatetime | None


ErasureReason = Literal["subject_request", "consent_withdrawn", "retention", "court_order", "other"]
LegalHoldReason = Literal["criminal_proceedings", "court_order", "other"]


class DataProtectionRead(BaseModel):
    screening_id: str
    consent_withdrawn_at: UtcDatetime | None
    consent_withdrawn_by: str | None
    erased_at: UtcDatetime | None
    erasure_reason: ErasureReason | None
    legal_hold: bool
    legal_hold_reason: LegalHoldReason | None


class ErasureCreate(StrictModel):
    reason: ErasureReason


class LegalHoldCreate(StrictModel):
    reason: LegalHoldReason


class ScreeningRead(ScreeningSummary):
    org: str
    consent: ConsentRead
    subject: SubjectRead | None
    sex: Sex
    citizenship: str
    age_band: AgeBand
    answers: dict[str, Any]
    computed_outcome: ComputedOutcome | None
    result: ResultRead | None
    explanation: Explanation | None = None
    decisions: list[DecisionRead]
    data_protection: DataProtectionRead


class AccessRead(BaseModel):
    at: UtcDatetime
    actor_org: str
    action: str
    outcome: Literal["ok", "refused"]


class SubjectAccessExport(BaseModel):
    generated_at: UtcDatetime
    service: Literal["screening"]
    screening_id: str
    screening: ScreeningRead
    accesses: list[AccessRead]


ScreeningPage = Page[ScreeningSummary]


class LookupMatch(BaseModel):
    screening_id: str
    started_at: UtcDatetime
    state: Literal["draft", "submitted"]
    outcome: AnyOutcome | None
    matched_on: list[Literal["name_dob", "document"]]


class LookupResult(BaseModel):
    matches: list[LookupMatch]


class AuditRead(BaseModel):
    id: int
    at: UtcDatetime
    actor_sub: str
    actor_org: str
    actor_roles: list[str]
    action: str
    screening_id: str | None
    outcome: Literal["ok", "refused"]


AuditPage = Page[AuditRead]


class AlsoText(BaseModel):
    language: Language
    text: str
    text_status: Literal["reviewed", "draft"]


class ConsentTextRead(BaseModel):
    version: str
    text: str
    text_status: Literal["reviewed", "draft"]
    also: AlsoText | None = None


class AlsoHeading(BaseModel):
    """The second language asked with `also` (the screener's, beside the person's)."""

    language: Language
    direction: Literal["ltr", "rtl"]
    title: str


class QuestionnaireSummary(BaseModel):
    code: str
    version: int
    kind: Literal["quick", "adult", "child"]
    language: Language
    direction: Literal["ltr", "rtl"]
    title: str
    published_at: UtcDatetime
    languages: list[str]
    also: AlsoHeading | None = None


class QuestionnaireRead(QuestionnaireSummary):
    description: str | None = None
    consent: ConsentTextRead
    sections: list[dict[str, Any]]


class QuestionnaireList(BaseModel):
    items: list[QuestionnaireSummary]


class DecisionList(BaseModel):
    items: list[DecisionRead]


class PseudonymKeysRead(BaseModel):
    """Progress of a pseudonym key rotation: a retiring key keying no screening can be removed."""

    active_key: str
    configured_keys: list[str]
    screenings_by_key: dict[str, int] = Field(description="screenings whose registry pseudonym each key made")
    random_pseudonyms: int = Field(description="anonymous, unnamed or erased screenings: nothing to re-key")
    rotation_done: bool
    retirable_keys: list[str] = Field(description="configured keys beside the active one that key no screening")
