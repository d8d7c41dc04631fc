"""Settings of the referral service (environment prefix PUTOKAZ_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import model_validator

from putokaz.settings import VAR_DIR, KernelSettings, WeakSecretError


class Settings(KernelSettings):
    database_url: str | None = f"sqlite+aiosqlite:///{VAR_DIR / 'referral.db'}"
    # How often the scheduler looks for unanswered referrals past their deadline (0 disables it).
    expiry_sweep_seconds: float = 60.0

    # Standard Webhooks secret (whsec_...) of the screening service's internal feed to this service
    # (consent states, submitted screenings, consent withdrawals); the previous one is accepted during a rotation.
    referral_feed_secret: str | None = None
    referral_feed_previous_secret: str | None = None
    # Dev only: where `make run` keeps a generated feed secret shared with the screening service.
    referral_feed_secret_file: Path | None = VAR_DIR / "referral-feed-secret"

    @model_validator(mode="after")
    def _check_feed_secret(self) -> Settings:
        if self.environment == "production":
            secret = self.referral_feed_secret or ""
            if not secret.startswith("whsec_") or len(secret) < 40:
                raise WeakSecretError("PUTOKAZ_REFERRAL_FEED_SECRET must be a whsec_ secret of 32 random bytes")
        return self

    def feed_secrets(self) -> list[str]:
        secrets = [s for s in (self.referral_feed_secret, self.referral_feed_previous_secret) if s]
        if not secrets and self.environment == "dev" and self.referral_feed_secret_file:
            if self.referral_feed_secret_file.exists():
                secrets.append(self.referral_feed_secret_file.read_text().strip())
        return secrets
