"""A screening's identity and answers under the screening's own data key, so erasure is crypto-shredding.

New values are sealed as `dk:base64(nonce|ciphertext)` with AES-GCM under the screening's data key
(kept wrapped by the master keyring in the separate key store, `putokaz.keystore`). Values written
before data keys existed are `kid:…` under the master keyring itself; they stay readable and
`rotate_keys` moves them under a data key.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError

from putokaz.keystore import DataKeyStore
from services.screening.identity import NONCE_BYTES, Keyring, KeyringError

DATA_KEY_PREFIX = "dk:"


def context(screening_id: str, field: str) -> str:
    return f"screening:{screening_id}:{field}"


class Vault:
    """Seals and opens a screening's values; `for_request()` gives a copy that remembers keys for one request.

    A request reads a screening's data key once however many values it opens or seals (a screening read
    opens identity and answers; an answer update opens, seals and reads back), because each key store read
    is a round trip to another database. Keys are never kept beyond the request: erasure destroys the key
    in the store, and no process holds it on after the request that read it.
    """

    def __init__(self, keyring: Keyring, store: DataKeyStore, *, remember: bool = False) -> None:
        self.keyring = keyring
        self.store = store
        self._keys: dict[str, bytes] | None = {} if remember else None

    def for_request(self) -> Vault:
        return Vault(self.keyring, self.store, remember=True)

    async def _key(self, screening_id: str, *, create: bool, new: bool = False) -> bytes | None:
        if self._keys is not None and screening_id in self._keys:
            return self._keys[screening_id]
        key = None if new else await self.store.get(screening_id)
        if key is None and create:
            try:
                key = await self.store.create(screening_id)
            except IntegrityError:
                # Another writer created it first.
                key = await self.store.get(screening_id)
        if key is not None and self._keys is not None:
            self._keys[screening_id] = key
        return key

    async def seal(self, screening_id: str, field: str, value: Any, *, new: bool = False) -> str:
        """`new`: the screening id was just generated, so no key can exist yet (no read before the create)."""
        key = await self._key(screening_id, create=True, new=new)
        assert key is not None
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = AESGCM(key).encrypt(nonce, plaintext, context(screening_id, field).encode())
        return DATA_KEY_PREFIX + base64.b64encode(nonce + sealed).decode()

    async def open(self, screening_id: str, field: str, envelope: str | None) -> Any | None:
        """The value, or None when there is none or its data key has been destroyed (erased)."""
        if envelope is None:
            return None
        if not envelope.startswith(DATA_KEY_PREFIX):
            return self.keyring.decrypt_json(envelope, context(screening_id, field))
        key = await self._key(screening_id, create=False)
        if key is None:
            return None
        raw = base64.b64decode(envelope[len(DATA_KEY_PREFIX) :])
        try:
            plaintext = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context(screening_id, field).encode())
        except InvalidTag as exc:
            raise KeyringError("a stored value failed authentication") from exc
        return json.loads(plaintext)

    async def shred(self, screening_id: str) -> bool:
        if self._keys is not None:
            self._keys.pop(screening_id, None)
        return await self.store.destroy(screening_id)
