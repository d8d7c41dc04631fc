"""Protected identity: AES-GCM with a key id per value, blind index and registry pseudonym (keyed HMACs)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class KeyringError(ValueError):
    """The identity keys are missing or malformed; the service must not start."""


def _decode_key(name: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyringError(f"{name} is not base64") from exc
    if len(raw) != KEY_BYTES:
        raise KeyringError(f"{name} must be {KEY_BYTES} random bytes")
    return raw


def new_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


LEGACY_BLIND_KEY_ID = "b0"
# The id of the first pseudonym key (PUTOKAZ_IDENTITY_PSEUDONYM_KEY); later ones are named in the configuration.
LEGACY_PSEUDONYM_KEY_ID = "p0"


def _extra_keys(name: str, keys_json: str | None, what: str) -> dict[str, bytes]:
    """Further keys `{kid: base64}` of a rotation, beside the first one."""
    if not keys_json:
        return {}
    try:
        extra = json.loads(keys_json)
    except json.JSONDecodeError as exc:
        raise KeyringError(f"{name} is not JSON") from exc
    if not isinstance(extra, dict) or not all(
        isinstance(k, str) and k and len(k) <= 16 and isinstance(v, str) for k, v in extra.items()
    ):
        raise KeyringError(f"{name} must be a JSON object {{kid: base64 key}} (ids of at most 16 characters)")
    return {kid: _decode_key(f"{what} {kid!r}", value) for kid, value in extra.items()}


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id (one active), plus the blind-index and the pseudonym keys (each by id, one active)."""

    keys: dict[str, bytes]
    active: str
    blind_index_key: bytes
    pseudonym_key: bytes
    # Every blind-index key still in use, by id; `blind_index_key` is the active one (`blind_active`).
    blind_index_keys: dict[str, bytes] = field(default_factory=dict)
    blind_active: str = LEGACY_BLIND_KEY_ID
    # Every pseudonym key still configured, by id; `pseudonym_key` is the active one (`pseudonym_active`).
    # During a rotation the older ones only recognise a person's earlier pseudonym (never written anew).
    pseudonym_keys: dict[str, bytes] = field(default_factory=dict)
    pseudonym_active: str = LEGACY_PSEUDONYM_KEY_ID

    @classmethod
    def from_config(
        cls,
        keys_json: str,
        active: str,
        blind_index_key: str,
        pseudonym_key: str,
        blind_index_keys_json: str | None = None,
        blind_active: str | None = None,
        pseudonym_keys_json: str | None = None,
        pseudonym_active: str | None = None,
    ) -> Keyring:
        try:
            raw = json.loads(keys_json)
        except json.JSONDecodeError as exc:
            raise KeyringError("PUTOKAZ_IDENTITY_KEYS is not JSON") from exc
        if not isinstance(raw, dict) or not raw:
            raise KeyringError("PUTOKAZ_IDENTITY_KEYS must be a JSON object {kid: base64 key}")
        keys = {}
        for kid, value in raw.items():
            if not isinstance(kid, str) or not kid or ":" in kid or not isinstance(value, str):
                raise KeyringError("PUTOKAZ_IDENTITY_KEYS has a malformed entry")
            keys[kid] = _decode_key(f"identity key {kid!r}", value)
        if active not in keys:
            raise KeyringError("PUTOKAZ_IDENTITY_ACTIVE_KEY names no key in PUTOKAZ_IDENTITY_KEYS")
        blind_keys = {LEGACY_BLIND_KEY_ID: _decode_key("PUTOKAZ_IDENTITY_BLIND_INDEX_KEY", blind_index_key)}
        blind_keys |= _extra_keys("PUTOKAZ_IDENTITY_BLIND_INDEX_KEYS", blind_index_keys_json, "blind-index key")
        chosen = blind_active or LEGACY_BLIND_KEY_ID
        if chosen not in blind_keys:
            raise KeyringError("PUTOKAZ_IDENTITY_BLIND_INDEX_ACTIVE_KEY names no blind-index key")
        # The first key may be left out once a rotation has retired it.
        pseudonym_keys = (
            {LEGACY_PSEUDONYM_KEY_ID: _decode_key("PUTOKAZ_IDENTITY_PSEUDONYM_KEY", pseudonym_key)}
            if pseudonym_key or not pseudonym_keys_json
            else {}
        )
        pseudonym_keys |= _extra_keys("PUTOKAZ_IDENTITY_PSEUDONYM_KEYS", pseudonym_keys_json, "pseudonym key")
        pseudonym_chosen = pseudonym_active or LEGACY_PSEUDONYM_KEY_ID
        if pseudonym_chosen not in pseudonym_keys:
            raise KeyringError("PUTOKAZ_IDENTITY_PSEUDONYM_ACTIVE_KEY names no pseudonym key")
        if set(pseudonym_keys.values()) & set(blind_keys.values()):
            raise KeyringError("the blind-index and pseudonym keys must differ")
        return cls(
            keys,
            active,
            blind_keys[chosen],
            pseudonym_keys[pseudonym_chosen],
            blind_keys,
            chosen,
            pseudonym_keys,
            pseudonym_chosen,
        )

    def encrypt(self, plaintext: bytes, context: str) -> str:
        """`kid:base64(nonce|ciphertext)`; `context` (e.g. "screening:<id>:identity") is bound as AAD."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, context.encode())
        return f"{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, envelope: str, context: str) -> bytes:
        kid, _, body = envelope.partition(":")
        key = self.keys.get(kid)
        if key is None:
            raise KeyringError("a stored value uses a key id that is not configured")
        raw = base64.b64decode(body)
        try:
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except InvalidTag as exc:
            raise KeyringError("a stored value failed authentication") from exc

    def encrypt_json(self, value: Any, context: str) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), context)

    def decrypt_json(self, envelope: str, context: str) -> Any:
        return json.loads(self.decrypt(envelope, context))

    @staticmethod
    def key_id(envelope: str) -> str:
        return envelope.partition(":")[0]

    def blind_index(self, kind: str, normalised: str, key_id: str | None = None) -> str:
        """Under the active blind-index key, or the key `key_id` (a lookup tries every key during a re-index)."""
        keys = self.blind_index_keys or {self.blind_active: self.blind_index_key}
        key = self.blind_index_key if key_id is None else keys[key_id]
        return hmac.new(key, f"{kind}\x1f{normalised}".encode(), hashlib.sha256).hexdigest()

    def blind_key_ids(self) -> list[str]:
        return sorted(self.blind_index_keys or {self.blind_active: self.blind_index_key})

    def subject_key(self, normalised: str, key_id: str | None = None) -> str:
        """The registry pseudonym under the active pseudonym key, or under `key_id` (a person's earlier one)."""
        key = self.pseudonym_key if key_id is None else (self.pseudonym_keys or {})[key_id]
        return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()

    def retiring_pseudonym_key_ids(self) -> list[str]:
        """The pseudonym keys configured beside the active one: a rotation is under way while there are any."""
        return sorted(kid for kid in self.pseudonym_keys if kid != self.pseudonym_active)


def normalise_text(value: str) -> str:
    """Case, accents, spacing and punctuation removed, so "Đurić, Ana" and "djuric ana" agree.

    Compatibility forms are unified first (NFKC: full-width "Ａｎａ" is "Ana") and invisible format
    characters (zero-width space and joiners, byte-order mark, soft hyphen) are dropped, so a name pasted
    from a phone or a PDF still matches.
    """
    value = unicodedata.normalize("NFKC", value)
    value = "".join(c for c in value if unicodedata.category(c) != "Cf")
    value = value.strip().casefold().replace("đ", "dj").replace("ł", "l").replace("ø", "o")
    decomposed = unicodedata.normalize("NFKD", value)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in kept).split()
    return " ".join(words)


def normalise_person(given_name: str | None, family_name: str | None, date_of_birth: str | None) -> str | None:
    """`names|dob`: every name word normalised and sorted together, so given and family names swapped
    (as often happens between Arabic, Persian and Latin records) still match; None without a name."""
    words = normalise_text(f"{given_name or ''} {family_name or ''}").split()
    if not words:
        return None
    return f"{' '.join(sorted(words))}|{date_of_birth or ''}"


def legacy_normalise_person(given_name: str | None, family_name: str | None, date_of_birth: str | None) -> str | None:
    """The earlier `given|family|dob` form, still looked up so screenings indexed before keep matching."""
    if not (given_name and given_name.strip()) and not (family_name and family_name.strip()):
        return None
    given = " ".join(sorted(normalise_text(given_name or "").split()))
    family = " ".join(sorted(normalise_text(family_name or "").split()))
    return f"{given}|{family}|{date_of_birth or ''}"


def normalise_document(number: str) -> str:
    return "".join(c for c in normalise_text(number) if c.isalnum()).upper()


def load_or_create_dev_keys(path: Path) -> dict[str, str]:
    """Dev/test only: keys generated on first use into var/ (never a constant in the code)."""
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    kid = "dev-" + os.urandom(4).hex()
    config = {
        "identity_keys": json.dumps({kid: new_key()}),
        "identity_active_key": kid,
        "identity_blind_index_key": new_key(),
        "identity_pseudonym_key": new_key(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle)
    return config
