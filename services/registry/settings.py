"""Settings of the registry service (environment prefix PUTOKAZ_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from putokaz.settings import VAR_DIR, KernelSettings, WeakSecretError
from services.registry.ckm import PTable, PTableParameters, ptable

MIN_THRESHOLD = 3
MIN_SENSITIVE_THRESHOLD = 5


def check_threshold(value: int, minimum: int, name: str) -> int:
    """Thresholds are settings, but never below a safe floor."""
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum} (got {value})")
    return value


class Settings(KernelSettings):
    database_url: str | None = f"sqlite+aiosqlite:///{VAR_DIR / 'registry.db'}"

    # Standard Webhooks secret (whsec_...) of the internal feed; the previous one is accepted during a rotation.
    registry_feed_secret: str | None = None
    registry_feed_previous_secret: str | None = None
    # Dev only: where `make run` may keep a generated feed secret shared with the senders.
    registry_feed_secret_file: Path | None = VAR_DIR / "registry-feed-secret"

    # The explorer's cell key method (docs/statistics.md): the ptable's largest deviation D, target
    # variance V and smallest published non-zero count js. Defaults suit tables of ~100 victims a year.
    stats_ptable_max_deviation: int = 2
    stats_ptable_variance: float = 1.0
    stats_ptable_smallest_count: int = 3
    # The release: cells 1..threshold-1 are hidden (primary suppression); the sensitive threshold
    # applies to tables about children or at canton level.
    stats_threshold: int = 5
    stats_sensitive_threshold: int = 10
    # Publish only periods that have ended (a period still filling up can be differenced over time).
    # None: on exactly in production.
    stats_closed_periods_only: bool | None = None

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
        self.ptable_parameters()  # refuses parameters outside their ranges at start-up (the table: on first use)
        if self.environment == "production":
            secret = self.registry_feed_secret or ""
            if not secret.startswith("whsec_") or len(secret) < 40:
                raise WeakSecretError("PUTOKAZ_REGISTRY_FEED_SECRET must be a whsec_ secret of 32 random bytes")
        return self

    def ptable_parameters(self) -> PTableParameters:
        return PTableParameters(
            self.stats_ptable_max_deviation, self.stats_ptable_variance, self.stats_ptable_smallest_count
        )

    def ptable(self) -> PTable:
        return ptable(self.ptable_parameters())

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
