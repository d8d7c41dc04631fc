"""Request and response models of the partner webhook API (thin: ids, status, times; never identity)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator, model_validator

from putokaz.events.catalogue import is_known_partner_pattern
from putokaz.schemas import StrictModel

EndpointId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,40}$")]
DeliveryId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,40}$")]
OrgId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Url = Annotated[str, StringConstraints(min_length=8, max_length=2048, pattern=r"^https?://\S+$")]
EventTypePattern = Annotated[str, StringConstraints(min_length=1, max_length=100)]
DeliveryStatus = Literal["pending", "delivered", "failed"]


ItemT = TypeVar("ItemT")


class Items(BaseModel, Generic[ItemT]):
    """A JSON object around every list, so lists can grow fields (paging) without breaking clients."""

    items: list[ItemT]


class DeliveryPage(Items["DeliveryRead"]):
    limit: int
    offset: int


def _known_types(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    unknown = [v for v in values if not is_known_partner_pattern(v)]
    if unknown:
        raise ValueError("unknown event type; see GET /api/v1/webhooks/event-types")
    return values


class EventTypeRead(BaseModel):
    type: str
    description: str


class EndpointCreate(StrictModel):
    url: Url
    event_types: list[EventTypePattern] = Field(min_length=1, max_length=20)
    description: str = Field(default="", max_length=500)
    # Admins may register an endpoint for a partner organisation; partners only for their own.
    org_id: OrgId | None = None

    _types = field_validator("event_types")(_known_types)


class EndpointUpdate(StrictModel):
    url: Url | None = None
    event_types: list[EventTypePattern] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    _types = field_validator("event_types")(_known_types)

    @model_validator(mode="after")
    def _something(self) -> EndpointUpdate:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


class EndpointRead(BaseModel):
    id: str
    org_id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointRead):
    secret: str = Field(description="Shown only now: keep it to verify webhook signatures")


class SecretRotated(BaseModel):
    secret: str = Field(description="The new secret, shown only now")
    previous_secret_valid_until: datetime


class DeliveryRead(BaseModel):
    id: str
    endpoint_id: str
    message_id: str = Field(description="The webhook-id header of every attempt")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class AttemptRead(BaseModel):
    id: int
    attempted_at: datetime
    succeeded: bool
    response_status: int | None
    response_body: str | None = Field(description="First 2 KB of the receiver's answer")
    error: str | None
    duration_ms: int


class ReplayFailed(StrictModel):
    since: AwareDatetime


class ReplayResult(BaseModel):
    replayed: int
