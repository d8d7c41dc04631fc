"""Settings of the registry service (environment prefix PUTOKAZ_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from putokaz.settings import VAR_DIR, KernelSettings, WeakSecretError
from services.registry.disclosure import MIN_SENSITIVE_THRESHOLD, MIN_THRESHOLD, check_threshold


class Settings(KernelSettings):
    database_url: str | None = f"sqlite+aiosqlite:///{VAR_DIR / 'registry.db'}"

    # Standard Webhooks secret (whsec_...) of the internal feed; the previous one is accepted during a rotation.
    registry_feed_secret: str | None = None
    registry_feed_previous_secret: str | None = None
    # Dev only: where `make run` may keep a generated feed secret shared with the senders.
    registry_feed_secret_file: Path | None = VAR_DIR / "registry-feed-secret"

    # Disclosure control (DESIGN.md §9): counts 1..threshold-1 are suppressed.
    stats_threshold: int = 5
    # Tables about children or at canton level.
    stats_sensitive_threshold: int = 10
    # Publish only periods that have ended (a period still filling up can be differenced over time).
    # None: on exactly in production.
    stats_closed_periods_only: bool | None = None
    # How long a period's protected tables are reused (seconds; 0: never). Facts stored by this process
    # clear it at once; another instance's writes show after at most this long.
    stats_cache_seconds: float = 30.0

    import_max_rows: int = 500_000
    # Files up to this many lines are imported within the request (201 / 422); larger ones answer 202
    # and run in the background, their progress visible at GET /api/v1/imports/{id}.
    import_inline_rows: int = 10_000
    import_max_bytes: int = 50 * 1_048_576
    # The service's own body cap must let a whole import through (the gateway limits other routes to 1 MiB).
    body_limit_bytes: int = 51 * 1_048_576

    @model_validator(mode="after")
    def _check_registry(self) -> Settings:
        check_threshold(self.stats_threshold, MIN_THRESHOLD, "PUTOKAZ_STATS_THRESHOLD")
        check_threshold(self.stats_sensitive_threshold, MIN_SENSITIVE_THRESHOLD, "PUTOKAZ_STATS_SENSITIVE_THRESHOLD")
        if self.stats_sensitive_threshold < self.stats_threshold:
            raise ValueError("PUTOKAZ_STATS_SENSITIVE_THRESHOLD must not be below PUTOKAZ_STATS_THRESHOLD")
        if self.environment == "production":
            secret = self.registry_feed_secret or ""
            if not secret.startswith("whsec_") or len(secret) < 40:
                raise WeakSecretError("PUTOKAZ_REGISTRY_FEED_SECRET must be a whsec_ secret of 32 random bytes")
        return self

    def closed_periods_only(self) -> bool:
        if self.stats_closed_periods_only is not None:
            return self.stats_closed_periods_only
        return self.environment == "production"

    def feed_secrets(self) -> list[str]:
        secrets = [s for s in (self.registry_feed_secret, self.registry_feed_previous_secret) if s]
        if not secrets and self.environment == "dev" and self.registry_feed_secret_file:
            if self.registry_feed_secret_file.exists():
                secrets.append(self.registry_feed_secret_file.read_text().strip())
        return secrets
