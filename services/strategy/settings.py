"""Settings of the strategy service (environment prefix PUTOKAZ_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from putokaz.settings import VAR_DIR, KernelSettings, WeakSecretError


class Settings(KernelSettings):
    database_url: str | None = f"sqlite+aiosqlite:///{VAR_DIR / 'strategy.db'}"

    # The registry's statistics API, read with a service credential holding the coordinator role.
    registry_url: str = "http://127.0.0.1:8003"
    # The credential: a bearer token, or a file re-read on every use (so a sidecar can rotate it).
    # Without either, dev and test mint a short-lived coordinator token with the dev signing secret.
    strategy_registry_token: str | None = None
    strategy_registry_token_file: Path | None = None
    registry_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # A report for a period is due this many days after the period ends; later it is overdue.
    report_grace_days: int = Field(default=30, ge=0, le=365)
    # How often overdue reports are looked for (seconds; 0: never, e.g. in tests that sweep by hand).
    overdue_sweep_seconds: float = Field(default=300.0, ge=0)
    # Base64 adds a third: 700 kB stays under the gateway's 1 MiB body limit.
    evidence_max_bytes: int = Field(default=700_000, gt=0)
    plan_import_max_bytes: int = Field(default=2 * 1_048_576, gt=0)

    @model_validator(mode="after")
    def _check_registry_credential(self) -> Settings:
        if self.environment == "production" and not (self.strategy_registry_token or self.strategy_registry_token_file):
            raise WeakSecretError(
                "PUTOKAZ_STRATEGY_REGISTRY_TOKEN or PUTOKAZ_STRATEGY_REGISTRY_TOKEN_FILE is required in production"
            )
        return self

    def registry_token(self) -> str | None:
        if self.strategy_registry_token:
            return self.strategy_registry_token
        if self.strategy_registry_token_file and self.strategy_registry_token_file.exists():
            return self.strategy_registry_token_file.read_text().strip() or None
        return None
