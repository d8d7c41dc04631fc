"""Webhook endpoint secrets encrypted at rest (AES-GCM, key ids), so a database dump cannot forge our webhooks.

A stored secret is `enc:<kid>:base64(nonce|ciphertext)`, bound to its endpoint id (AAD): a ciphertext
copied onto another endpoint's row does not open. Keys come from configuration
(`PUTOKAZ_WEBHOOK_SECRET_KEYS='{"w1": "<base64 32 bytes>"}'`, `PUTOKAZ_WEBHOOK_SECRET_ACTIVE_KEY=w1`);
outside production a dev key is generated into `var/webhook-secret-keys.json` on first use. Rows written
before encryption (plain `whsec_...`) still open, and `reseal_endpoint_secrets` rewrites them, and rows
under a retired key, under the active key at every start.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, or_, select, update

from putokaz.db import Database
from putokaz.events.outbox import EventTables
from putokaz.settings import VAR_DIR

PREFIX = "enc:"
KEY_BYTES = 32
NONCE_BYTES = 12
DEV_KEYS_FILE = VAR_DIR / "webhook-secret-keys.json"
# Column widths of webhook_endpoints.secret / previous_secret before and after sealing: an envelope
# (enc:<kid>:base64(nonce|ciphertext|tag)) is about 110 characters.
PLAIN_SECRET_LENGTH = 100
SEALED_SECRET_LENGTH = 255


class SecretKeyError(ValueError):
    """The webhook secret keys are missing or malformed, or a stored secret does not open."""


def _decode_key(kid: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SecretKeyError(f"webhook secret key {kid!r} is not base64") from None
    if len(raw) != KEY_BYTES:
        raise SecretKeyError(f"webhook secret key {kid!r} must be {KEY_BYTES} random bytes")
    return raw


@dataclass(frozen=True)
class SecretBox:
    keys: dict[str, bytes]
    active: str

    @classmethod
    def from_config(cls, keys: dict[str, str], active: str | None) -> SecretBox:
        if not keys:
            raise SecretKeyError("PUTOKAZ_WEBHOOK_SECRET_KEYS must name at least one key {kid: base64}")
        decoded = {}
        for kid, value in keys.items():
            # The kid is stored in every envelope: short, and never containing the separator.
            if not kid or len(kid) > 16 or ":" in kid:
                raise SecretKeyError("webhook secret key ids are 1-16 characters without ':'")
            decoded[kid] = _decode_key(kid, value)
        chosen = active or (next(iter(keys)) if len(keys) == 1 else None)
        if chosen not in decoded:
            raise SecretKeyError("PUTOKAZ_WEBHOOK_SECRET_ACTIVE_KEY names no key in PUTOKAZ_WEBHOOK_SECRET_KEYS")
        return cls(decoded, chosen)

    def seal(self, secret: str, endpoint_id: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, secret.encode(), endpoint_id.encode())
        return f"{PREFIX}{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, endpoint_id: str) -> str:
        """The secret in clear; a row from before encryption is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        kid, _, body = stored[len(PREFIX) :].partition(":")
        key = self.keys.get(kid)
        if key is None:
            raise SecretKeyError(f"a webhook secret is sealed under key {kid!r}, which is not configured")
        raw = base64.b64decode(body)
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], endpoint_id.encode()).decode()
        except InvalidTag:
            raise SecretKeyError("a stored webhook secret failed authentication") from None

    def current(self, stored: str | None) -> bool:
        """Sealed under the active key (nothing to re-seal)."""
        return stored is None or stored.startswith(f"{PREFIX}{self.active}:")


def load_or_create_dev_keys(path: Path = DEV_KEYS_FILE) -> dict[str, str]:
    """A random dev key kept in var/ (0600), never a constant in the code."""
    if path.exists():
        return dict(json.loads(path.read_text()))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = {"w0": base64.b64encode(os.urandom(KEY_BYTES)).decode()}
    # Written whole under another name, then linked into place: `make run`'s processes start together,
    # and none may read a half-written file or replace another's key.
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f)
    try:
        os.link(draft, path)
    except FileExistsError:
        return dict(json.loads(path.read_text()))
    finally:
        draft.unlink()
    return keys


def secret_box(keys: dict[str, str] | None, active: str | None, environment: str) -> SecretBox:
    """The configured box; outside production a dev key in var/ when none is configured."""
    if keys:
        return SecretBox.from_config(keys, active)
    if environment == "production":
        raise SecretKeyError("PUTOKAZ_WEBHOOK_SECRET_KEYS is required in production; refusing to start")
    return SecretBox.from_config(load_or_create_dev_keys(), None)


async def reseal_endpoint_secrets(db: Database, tables: EventTables, box: SecretBox, batch: int = 200) -> int:
    """Seal plain secrets (rows from before encryption) and re-seal ones under a retired key; idempotent.

    Safe with several replicas: each batch takes its rows with SKIP LOCKED, and a row already under the
    active key is never selected again.
    """
    e = tables.endpoints
    active = f"{PREFIX}{box.active}:%"
    stale = or_(
        ~e.c.secret.like(active),
        (e.c.previous_secret.is_not(None)) & ~e.c.previous_secret.like(active),
    )
    changed = 0
    while True:
        async with db.sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    select(e.c.id, e.c.secret, e.c.previous_secret)
                    .where(stale)
                    .order_by(e.c.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                values = {"secret": box.seal(box.open(row.secret, row.id), row.id)}
                if row.previous_secret is not None:
                    values["previous_secret"] = box.seal(box.open(row.previous_secret, row.id), row.id)
                await session.execute(update(e).where(e.c.id == row.id).values(**values))
        changed += len(rows)
        if len(rows) < batch:
            return changed


def resize_secret_columns(length: int, existing_length: int) -> None:
    """Alembic operation (called from each service's own migration): webhook_endpoints' two secret columns
    from `existing_length` to `length` characters. The rows themselves are sealed by `reseal_endpoint_secrets`
    at start, where the key is.
    """
    from alembic import op  # only inside a migration: the running service does not load Alembic

    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite does not enforce VARCHAR lengths
    for column, nullable in (("secret", False), ("previous_secret", True)):
        op.alter_column(
            "webhook_endpoints",
            column,
            type_=String(length=length),
            existing_type=String(length=existing_length),
            existing_nullable=nullable,
        )
