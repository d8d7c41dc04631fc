"""Settings of the registry service (environment prefix PUTOKAZ_)."""

from putokaz.settings import VAR_DIR, KernelSettings


class Settings(KernelSettings):
    database_url: str | None = f"sqlite+aiosqlite:///{VAR_DIR / 'registry.db'}"
