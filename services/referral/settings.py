"""Settings of the referral service (environment prefix PUTOKAZ_)."""

from putokaz.settings import VAR_DIR, KernelSettings


class Settings(KernelSettings):
    database_url: str | None = f"sqlite+aiosqlite:///{VAR_DIR / 'referral.db'}"
    # How often the scheduler looks for unanswered referrals past their deadline (0 disables it).
    expiry_sweep_seconds: float = 60.0
