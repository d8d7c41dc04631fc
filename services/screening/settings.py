"""Settings of the screening service (environment prefix PUTOKAZ_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from putokaz.settings import VAR_DIR, KernelSettings
from services.screening.identity import Keyring, KeyringError, load_or_create_dev_keys

DEV_KEYS_FILE = VAR_DIR / "screening-identity-keys.json"


class Settings(KernelSettings):
    database_url: str | None = f"sqlite+aiosqlite:///{VAR_DIR / 'screening.db'}"

    # Identity protection (docs/screening.md). Production must set all four; dev generates them into var/.
    identity_keys: str | None = None  # JSON {kid: base64 32-byte key}
    identity_active_key: str | None = None
    identity_blind_index_key: str | None = None
    # Blind-index rotation: further keys {kid: base64} beside the first ("b0"), and which one writes.
    identity_blind_index_keys: str | None = None
    identity_blind_index_active_key: str | None = None
    identity_pseudonym_key: str | None = None
    # Pseudonym rotation: further keys {kid: base64} beside the first ("p0"), and which one writes.
    identity_pseudonym_keys: str | None = None
    identity_pseudonym_active_key: str | None = None
    identity_dev_keys_file: Path = DEV_KEYS_FILE
    # Where the per-screening data keys live (crypto-shredding). A database apart from the screening
    # database, so its dumps and replicas hold no data key; see docs/data-protection.md.
    keystore_database_url: str | None = None
    # Its own pool: connections kept open to the key store, and how many more at a peak (one short
    # statement per request, so far fewer than the service database's).
    keystore_pool_size: int = Field(default=2, ge=1)
    keystore_max_overflow: int = Field(default=8, ge=0)
    # Identity retention: NO_INDICATORS after 12 months; every other screening 10 years after its last activity.
    retention_no_indicators_days: int = 365
    retention_identity_days: int = 3653
    # Training records (practices, groups): a year after they were made; they hold no real person.
    retention_training_days: int = 365

    @model_validator(mode="after")
    def _check_identity_keys(self) -> Settings:
        if self.environment == "production":
            # Fail at start, not at the first screening.
            self.keyring()
        return self

    def keystore_url(self) -> str:
        """The configured key store; by default a SQLite file beside a SQLite database, else the same database."""
        if self.keystore_database_url:
            return self.keystore_database_url
        if self.database_url and self.database_url.startswith("sqlite"):
            return f"sqlite+aiosqlite:///{VAR_DIR / 'screening-keystore.db'}"
        return self.database_url or ""

    def _configured(self) -> bool:
        return any(
            (
                self.identity_keys,
                self.identity_active_key,
                self.identity_blind_index_key,
                self.identity_pseudonym_key,
                self.identity_pseudonym_keys,
            )
        )

    def keyring(self) -> Keyring:
        if self._configured() or self.environment == "production":
            if not all(
                (
                    self.identity_keys,
                    self.identity_active_key,
                    self.identity_blind_index_key,
                    # The first pseudonym key ("p0") may go once a rotation has retired it.
                    self.identity_pseudonym_key or self.identity_pseudonym_keys,
                )
            ):
                raise KeyringError(
                    "PUTOKAZ_IDENTITY_KEYS, PUTOKAZ_IDENTITY_ACTIVE_KEY, PUTOKAZ_IDENTITY_BLIND_INDEX_KEY and "
                    "PUTOKAZ_IDENTITY_PSEUDONYM_KEY (or, after a rotation, PUTOKAZ_IDENTITY_PSEUDONYM_KEYS) are all "
                    "required; refusing to start"
                )
            return Keyring.from_config(
                self.identity_keys or "",
                self.identity_active_key or "",
                self.identity_blind_index_key or "",
                self.identity_pseudonym_key or "",
                self.identity_blind_index_keys,
                self.identity_blind_index_active_key,
                self.identity_pseudonym_keys,
                self.identity_pseudonym_active_key,
            )
        dev = load_or_create_dev_keys(self.identity_dev_keys_file)
        return Keyring.from_config(
            dev["identity_keys"],
            dev["identity_active_key"],
            dev["identity_blind_index_key"],
            dev["identity_pseudonym_key"],
            self.identity_blind_index_keys,
            self.identity_blind_index_active_key,
            self.identity_pseudonym_keys,
            self.identity_pseudonym_active_key,
        )
