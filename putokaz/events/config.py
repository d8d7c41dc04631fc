"""Configuration of event delivery: internal subscriptions, SSRF policy and the dispatcher loop."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class InternalSubscription(BaseModel):
    """An operator-configured receiver (the registry feed): trusted URL, its secret, the types it gets."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2048)
    secret: str = Field(min_length=10)
    event_types: list[str] = Field(default_factory=lambda: ["registry.*"], min_length=1)

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: str) -> str:
        if not value.startswith("whsec_"):
            raise ValueError("internal subscription secrets are Standard Webhooks secrets (whsec_...)")
        return value


class EventSettings(BaseSettings):
    """Read from PUTOKAZ_* variables, e.g. PUTOKAZ_INTERNAL_SUBSCRIPTIONS='[{"url": ..., "secret": ...}]'."""

    model_config = SettingsConfigDict(env_prefix="PUTOKAZ_", extra="ignore", env_file=None)

    internal_subscriptions: list[InternalSubscription] = Field(default_factory=list)
    # Partner URLs on loopback/private/link-local networks are refused unless this is set (tests, dev).
    webhook_allow_private_targets: bool = False
    # None: https is required exactly when PUTOKAZ_ENVIRONMENT=production.
    webhook_require_https: bool | None = None
    dispatcher_enabled: bool = True
    dispatcher_poll_seconds: float = Field(default=0.25, gt=0, le=60)
    # After a round that found a few events (no backlog), wait this long so the next round takes several.
    dispatcher_gather_seconds: float = Field(default=0.05, ge=0, le=5)
    dispatcher_batch_size: int = Field(default=100, ge=1, le=1000)
    dispatcher_concurrency: int = Field(default=16, ge=1, le=256)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    # Upper bound on the wait between retries to internal subscriptions (None: the schedule as is). Our own
    # services come back within seconds of a restart; a small installation may not want the feed to wait
    # for the 5-minute retry.
    internal_retry_cap_seconds: float | None = Field(default=None, gt=0, le=36_000)
    # How long the previous secret keeps signing after a rotation.
    webhook_rotation_overlap_hours: float = Field(default=24.0, ge=0, le=24 * 7)
    # Keys sealing endpoint secrets at rest ({kid: base64 32 bytes}) and the one that seals; the others
    # only open, until every row is re-sealed at the next start (putokaz/events/secrets.py).
    webhook_secret_keys: dict[str, str] = Field(default_factory=dict)
    webhook_secret_active_key: str | None = None

    def https_required(self, environment: str) -> bool:
        if self.webhook_require_https is not None:
            return self.webhook_require_https
        return environment == "production"
