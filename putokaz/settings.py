"""Settings shared by every process; environment variables carry the prefix PUTOKAZ_."""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Where `make run` keeps its SQLite files and dev secrets; overridable so tests can use a temp dir.
VAR_DIR = Path(os.environ.get("PUTOKAZ_VAR_DIR") or PROJECT_ROOT / "var")
DEV_SECRET_FILE = VAR_DIR / "dev-jwt-secret"

SYMMETRIC_ALGORITHMS = {"HS256", "HS384", "HS512"}
ASYMMETRIC_ALGORITHMS = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
MIN_SECRET_BYTES = 32


class WeakSecretError(ValueError):
    """Raised at start-up when a secret would make tokens or signatures forgeable."""


def secret_strength_problem(secret: str | None) -> str | None:
    """Why a shared secret is too weak to sign tokens, or None when it is acceptable."""
    if not secret:
        return "is missing"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    counts = Counter(secret)
    entropy_per_char = -sum(c / len(secret) * math.log2(c / len(secret)) for c in counts.values())
    if entropy_per_char * len(secret) < 128:
        return "has too little entropy (use 32 random bytes, e.g. `openssl rand -base64 48`)"
    return None


class KernelSettings(BaseSettings):
    """What every Putokaz process needs: mode, database, token verification, logging."""

    model_config = SettingsConfigDict(env_prefix="PUTOKAZ_", extra="ignore", env_file=None)

    environment: Literal["dev", "test", "production"] = "dev"
    database_url: str | None = None
    # Connections each process keeps open to PostgreSQL, and how many more it may open at a peak.
    # Processes × (pool + overflow) must stay under the server's max_connections.
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=20, ge=0)

    # Retention (docs/data-protection.md): one job per service, every interval, in small batches.
    retention_enabled: bool = True
    retention_interval_seconds: float = 3600
    retention_delivered_events_days: int = 30
    retention_idempotency_hours: int = 24
    retention_processed_webhooks_days: int = 35

    # Tokens (docs/security.md). The allow-list comes from configuration, never from the token.
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_secret: str | None = None
    jwt_secret_file: Path | None = DEV_SECRET_FILE
    jwks_url: str | None = None
    jwks_refresh_cooldown_seconds: float = 30.0
    jwt_issuer: str = "putokaz-dev"
    jwt_audience: str = "putokaz"
    jwt_leeway_seconds: int = 30
    # A token living longer than this is refused even when signed (a leaked long-lived token is a key).
    jwt_max_lifetime_seconds: int = 12 * 3600
    # Verified tokens kept in memory per process: bounded by count and by bytes.
    token_cache_entries: int = 10_000
    token_cache_bytes: int = 8 * 1024 * 1024

    # Where revoked tokens are shared by every process (SQLAlchemy or redis:// URL). Unset: the SQLite file
    # var/revocations.db outside production, none in production (configure one there).
    revocation_url: str | None = None
    revocation_refresh_seconds: float = 2.0

    # Each service refuses bodies above this itself (the gateway's own, lower limits apply first).
    body_limit_bytes: int = 4 * 1024 * 1024

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _check_token_configuration(self) -> KernelSettings:
        algorithms = set(self.jwt_algorithms)
        if not algorithms:
            raise ValueError("PUTOKAZ_JWT_ALGORITHMS must name at least one algorithm")
        unknown = algorithms - SYMMETRIC_ALGORITHMS - ASYMMETRIC_ALGORITHMS
        if unknown:
            raise ValueError(f"unsupported JWT algorithms: {sorted(unknown)}")
        if algorithms & SYMMETRIC_ALGORITHMS and algorithms & ASYMMETRIC_ALGORITHMS:
            # Mixing families invites HS/RS key confusion (RFC 8725 §2.1).
            raise ValueError("PUTOKAZ_JWT_ALGORITHMS must not mix HMAC and public-key algorithms")
        if algorithms & ASYMMETRIC_ALGORITHMS and not self.jwks_url:
            raise ValueError("public-key JWT algorithms need PUTOKAZ_JWKS_URL")
        if self.environment == "production":
            if algorithms & SYMMETRIC_ALGORITHMS:
                problem = secret_strength_problem(self.jwt_secret)
                if problem:
                    raise WeakSecretError(f"PUTOKAZ_JWT_SECRET {problem}; refusing to start in production")
            if self.jwks_url and not self.jwks_url.startswith("https://"):
                raise WeakSecretError("PUTOKAZ_JWKS_URL must be https in production")
        return self

    def resolved_revocation_url(self) -> str | None:
        if self.revocation_url:
            return self.revocation_url
        if self.environment != "production":
            return f"sqlite+aiosqlite:///{VAR_DIR / 'revocations.db'}"
        return None

    def resolved_jwt_secret(self) -> str | None:
        """The HMAC secret: the variable if set, else the dev file written by `make run`."""
        if self.jwt_secret:
            return self.jwt_secret
        if self.environment != "production" and self.jwt_secret_file and self.jwt_secret_file.exists():
            return self.jwt_secret_file.read_text().strip()
        return None
