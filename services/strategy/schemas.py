"""Pydantic shapes of the strategy API: XCreate / XUpdate / XRead kept apart (no mass assignment)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from putokaz.schemas import StrictModel

Part = Literal["prevention", "protection", "prosecution", "partnership"]
PARTS: tuple[str, ...] = ("prevention", "protection", "prosecution", "partnership")
Frequency = Literal["annual", "semiannual", "quarterly", "once"]
IndicatorKind = Literal["computed", "reported"]
PlanStatus = Literal["draft", "active", "closed"]
MeasureStatus = Literal["open", "completed"]
ActivityStatus = Literal["planned", "in_progress", "done"]
ProgressStatus = Literal["on_track", "at_risk", "late", "done"]

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
OrgId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]
Number = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]
# A report period: a year, a half, a quarter, or "final" for once-only indicators.
Period = Annotated[str, StringConstraints(pattern=r"^(\d{4}(-H[12]|-Q[1-4])?|final)$")]


class Strict(StrictModel):
    """Unknown fields and NUL characters refused (the kernel's strict request model)."""


class IndicatorCreate(Strict):
    code: Code
    title: Title
    kind: IndicatorKind
    source: str | None = Field(default=None, max_length=60, description="computed indicators: its definition code")
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    baseline: Number
    target: Number
    frequency: Frequency = "annual"


class ActivityCreate(Strict):
    code: Code
    title: Title
    organisations: list[OrgId] = Field(default_factory=list, max_length=50)
    deadline: date


class MeasureCreate(Strict):
    code: Code
    title: Title
    description: str = Field(default="", max_length=5000)
    organisations: list[OrgId] = Field(min_length=1, max_length=50)
    deadline: date
    activities: list[ActivityCreate] = Field(default_factory=list, max_length=100)
    indicators: list[IndicatorCreate] = Field(default_factory=list, max_length=50)


class GoalCreate(Strict):
    code: Code
    part: Part
    title: Title
    measures: list[MeasureCreate] = Field(default_factory=list, max_length=200)


class PlanCreate(Strict):
    code: Code
    title: Title
    starts_on: date
    ends_on: date
    status: PlanStatus = "active"
    goals: list[GoalCreate] = Field(min_length=1, max_length=50)


class PlanUpdate(Strict):
    title: Title | None = None
    ends_on: date | None = None
    status: PlanStatus | None = None


class MeasureUpdate(Strict):
    title: Title | None = None
    description: str | None = Field(default=None, max_length=5000)
    organisations: list[OrgId] | None = Field(default=None, min_length=1, max_length=50)
    deadline: date | None = None
    status: MeasureStatus | None = None


class ActivityUpdate(Strict):
    status: ActivityStatus


class IndicatorUpdate(Strict):
    title: Title | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None = None
    baseline: Number | None = None
    target: Number | None = None
    frequency: Frequency | None = None


class EvidenceDocument(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    media_type: Literal["application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv"]
    content_base64: str = Field(min_length=4, description="the document, base64-encoded")


class ReportCreate(Strict):
    period: Period
    value: Number
    comment: str = Field(default="", max_length=5000)
    evidence_url: AnyHttpUrl | None = None
    evidence_document: EvidenceDocument | None = None


class ReviewCreate(Strict):
    decision: Literal["accept", "return"]
    comment: str = Field(default="", max_length=5000)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ComputedValueRead(ReadModel):
    period: str
    value: float | None
    status: Literal["ok", "suppressed", "unavailable"]
    note: str
    computed_at: datetime


class ReportRead(ReadModel):
    id: str
    indicator_id: str
    org_id: str
    period: str
    value: float
    comment: str
    evidence_url: str | None
    evidence_name: str | None
    evidence_type: str | None
    evidence_sha256: str | None
    status: Literal["submitted", "accepted", "returned"]
    submitted_at: datetime
    reviewed_at: datetime | None
    review_comment: str


class IndicatorRead(ReadModel):
    id: str
    measure_id: str
    code: str
    title: str
    kind: IndicatorKind
    source: str | None
    definition: str | None = None
    unit: str
    baseline: float
    target: float
    frequency: Frequency


class IndicatorDetail(IndicatorRead):
    values: list[ComputedValueRead] = []
    reports: list[ReportRead] = []
    reportable_periods: list[str] = Field(
        default=[],
        description="the periods a report may be sent for now: the plan's, less those awaiting review or accepted",
    )


class ActivityRead(ReadModel):
    id: str
    code: str
    title: str
    organisations: list[str]
    deadline: date
    status: ActivityStatus


class MeasureRead(ReadModel):
    id: str
    plan_id: str
    goal_id: str
    goal_code: str
    goal_title: str
    part: Part
    code: str
    title: str
    description: str
    organisations: list[str]
    deadline: date
    status: MeasureStatus
    activities: list[ActivityRead]
    indicators: list[IndicatorRead]


class GoalRead(ReadModel):
    id: str
    code: str
    part: Part
    title: str
    measures: list[MeasureRead]


class PlanSummary(ReadModel):
    id: str
    code: str
    title: str
    starts_on: date
    ends_on: date
    status: PlanStatus
    created_at: datetime
    updated_at: datetime


class PlanRead(PlanSummary):
    goals: list[GoalRead]


class RefreshRead(ReadModel):
    plan_id: str
    values: dict[str, list[ComputedValueRead]]


class IndicatorProgress(ReadModel):
    id: str
    code: str
    title: str
    kind: IndicatorKind
    unit: str
    baseline: float
    target: float
    latest_period: str | None
    latest_value: float | None
    achievement: float | None
    pending_reports: int
    overdue_periods: list[str]


class MeasureProgress(ReadModel):
    id: str
    code: str
    title: str
    organisations: list[str]
    deadline: date
    status: ProgressStatus
    reason: str
    achieved: float
    expected: float
    indicators: list[IndicatorProgress]


class GoalProgress(ReadModel):
    id: str
    code: str
    part: Part
    title: str
    status: ProgressStatus
    counts: dict[str, int]
    measures: list[MeasureProgress]


class ProgressRead(ReadModel):
    plan_id: str
    plan_code: str
    plan_title: str
    as_of: date
    rule: str
    goals: list[GoalProgress]
    counts: dict[str, int]


class AuditRead(ReadModel):
    seq: int
    at: datetime
    actor: str
    actor_org: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    hash: str
