"""Per-object data keys kept apart from the data they protect, so destroying one is crypto-shredding.

Each protected object (a screening's identity and answers) is encrypted under its own random data
key. The data key is stored wrapped (encrypted) by the service's master keyring, in a key store that
is a separate database from the service's own: a dump, backup or replica of the service database
holds ciphertext and no data keys. Destroying the object's data key makes every copy of its
ciphertext unreadable, wherever that copy is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, inspect, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from putokaz.clock import SYSTEM_CLOCK
from putokaz.db import Database

DATA_KEY_BYTES = 32

metadata = MetaData()
data_keys = Table(
    "data_keys",
    metadata,
    Column("object_id", String(64), primary_key=True),
    # `kid:base64(nonce|ciphertext)` of the master keyring; the key id tells a rotation what to re-wrap.
    Column("wrapped", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class Wrapper(Protocol):
    """The master keyring (AES-GCM with key ids); see services' identity keyrings."""

    active: str

    def encrypt(self, plaintext: bytes, context: str) -> str: ...

    def decrypt(self, envelope: str, context: str) -> bytes: ...


def _context(object_id: str) -> str:
    return f"data-key:{object_id}"


class DataKeyStore:
    """Creates, reads, destroys and re-wraps data keys; each call is its own committed transaction.

    `create`, `get` and `destroy` are one statement each, run in autocommit: a single statement is its
    own transaction, and without BEGIN and COMMIT around it a key read or written is one round trip to
    the key store instead of three (the screening path reads or creates a key on every request).
    """

    def __init__(self, db: Database, wrapper: Wrapper) -> None:
        self.db = db
        self.wrapper = wrapper

    async def ensure_schema(self) -> None:
        """The store has one table and no history to migrate; it is created when missing."""
        try:
            async with self.db.engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
        except DBAPIError:
            # Another replica created it at the same moment; anything else is a real failure.
            async with self.db.engine.connect() as conn:
                if not await conn.run_sync(lambda sync: inspect(sync).has_table("data_keys")):
                    raise

    async def create(self, object_id: str) -> bytes:
        """A new random key for `object_id`, durable before it is used to encrypt anything."""
        key = os.urandom(DATA_KEY_BYTES)
        async with self._autocommit() as conn:
            await conn.execute(
                data_keys.insert().values(
                    object_id=object_id,
                    wrapped=self.wrapper.encrypt(key, _context(object_id)),
                    # When the key really came to be (bookkeeping; nothing is decided by it).
                    created_at=SYSTEM_CLOCK.now(),
                )
            )
        return key

    async def get(self, object_id: str) -> bytes | None:
        """The key, or None once destroyed (or never created)."""
        async with self._autocommit() as conn:
            wrapped = await conn.scalar(select(data_keys.c.wrapped).where(data_keys.c.object_id == object_id))
        return None if wrapped is None else self.wrapper.decrypt(wrapped, _context(object_id))

    async def destroy(self, object_id: str) -> bool:
        async with self._autocommit() as conn:
            result = await conn.execute(delete(data_keys).where(data_keys.c.object_id == object_id))
        return bool(result.rowcount)

    @contextlib.asynccontextmanager
    async def _autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits on its own (durable when `execute` returns)."""
        async with self.db.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def rewrap(self, batch_size: int = 500) -> int:
        """Re-wrap every key not under the master keyring's active key; returns how many changed."""
        prefix = f"{self.wrapper.active}:"
        changed = 0
        while True:
            async with self.db.sessionmaker() as session, session.begin():
                rows = (
                    await session.execute(
                        select(data_keys.c.object_id, data_keys.c.wrapped)
                        .where(~data_keys.c.wrapped.startswith(prefix))
                        .limit(batch_size)
                        .with_for_update()
                    )
                ).all()
                for object_id, wrapped in rows:
                    key = self.wrapper.decrypt(wrapped, _context(object_id))
                    await session.execute(
                        update(data_keys)
                        .where(data_keys.c.object_id == object_id)
                        .values(wrapped=self.wrapper.encrypt(key, _context(object_id)))
                    )
            changed += len(rows)
            if len(rows) < batch_size:
                return changed
