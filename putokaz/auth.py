"""Access-token verification (python-jose; HS256 for dev, JWKS for production) and role checks."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from cachetools import TLRUCache
from fastapi import Request
from jose import jwk, jwt
from jose.exceptions import JWTError

from putokaz.errors import Forbidden, HeaderTooLarge, Unauthorized
from putokaz.jws import MAX_AUTHORIZATION_BYTES, MalformedToken, check_compact, check_header, check_times
from putokaz.settings import ASYMMETRIC_ALGORITHMS, KernelSettings

ROLES = ("police", "social_worker", "service_provider", "coordinator", "partner", "admin", "reporter", "trainee")
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller: who (`sub`), in which organisation (`org`), with which roles."""

    sub: str
    org: str
    roles: frozenset[str]
    jti: str | None = None
    issued_at: float | None = None

    def has_any(self, roles: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
        return not self.roles.isdisjoint(roles)


class InvalidToken(Exception):
    """The token cannot be trusted; the reason is safe to show (never echoes the token)."""


class JwksCache:
    """Public keys by `kid`, refreshed on an unknown `kid` at most once per cooldown."""

    def __init__(self, url: str, cooldown: float, timeout: float = 5.0) -> None:
        self.url = url
        self.cooldown = cooldown
        self.timeout = timeout
        self._keys: dict[str, dict[str, Any]] = {}
        self._last_refresh = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def _refresh(self) -> None:
        self._last_refresh = time.monotonic()
        self.fetches += 1
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.get(self.url)
            response.raise_for_status()
            keys = response.json().get("keys", [])
        self._keys = {k["kid"]: k for k in keys if isinstance(k, dict) and "kid" in k}

    async def key_for(self, kid: str) -> dict[str, Any]:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._last_refresh >= self.cooldown:
                try:
                    await self._refresh()
                except (httpx.HTTPError, ValueError) as exc:
                    raise InvalidToken("signing keys are unavailable") from exc
        if kid not in self._keys:
            raise InvalidToken("unknown signing key")
        return self._keys[kid]


class RevocationCheck(Protocol):
    async def revoked(self, principal: Principal) -> bool:
        """True when the token was revoked (by its `jti`, or all of its subject's tokens issued before a time)."""


# What one cached entry costs beyond its strings: the key digest, tuple, dataclass and set overheads.
_ENTRY_OVERHEAD_BYTES = 512


def _entry_bytes(value: tuple[Principal, float]) -> int:
    principal = value[0]
    strings = (principal.sub, principal.org, principal.jti or "", *principal.roles)
    return _ENTRY_OVERHEAD_BYTES + sum(len(text) for text in strings)


class TokenVerifier:
    """Verifies access tokens against the configured algorithm allow-list and key source."""

    def __init__(self, settings: KernelSettings, revocations: RevocationCheck | None = None) -> None:
        self.algorithms = list(settings.jwt_algorithms)
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.asymmetric = bool(set(self.algorithms) & ASYMMETRIC_ALGORITHMS)
        self.secret = None if self.asymmetric else settings.resolved_jwt_secret()
        self.jwks = JwksCache(settings.jwks_url, settings.jwks_refresh_cooldown_seconds) if self.asymmetric else None
        self.max_lifetime = settings.jwt_max_lifetime_seconds
        self.revocations = revocations
        # Verified tokens by a digest of their text (signature checks dominate gateway latency otherwise),
        # bounded by entries and by bytes, each entry living until its token expires.
        self._max_entries = settings.token_cache_entries
        self._cache: TLRUCache[bytes, tuple[Principal, float]] = TLRUCache(
            maxsize=settings.token_cache_bytes,
            ttu=lambda _key, value, _now: value[1] + self.leeway,
            timer=time.time,
            getsizeof=_entry_bytes,
        )

    @property
    def cached_tokens(self) -> int:
        return len(self._cache)

    async def verify(self, token: str) -> Principal:
        key = hashlib.sha256(token.encode("latin-1", "replace")).digest()
        cached = self._cache.get(key)
        if cached is not None:
            principal = cached[0]
        else:
            principal, exp = await self._verify_uncached(token)
            while len(self._cache) >= self._max_entries:
                self._cache.popitem()
            self._cache[key] = (principal, exp)
        if self.revocations is not None and await self.revocations.revoked(principal):
            raise InvalidToken("token revoked")
        return principal

    async def _verify_uncached(self, token: str) -> tuple[Principal, float]:
        try:
            check_compact(token)
            header = jwt.get_unverified_header(token)
            check_header(header)
        except (MalformedToken, JWTError) as exc:
            raise InvalidToken(str(exc) if isinstance(exc, MalformedToken) else "malformed token") from exc
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise InvalidToken("token algorithm not allowed")
        if self.asymmetric:
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise InvalidToken("token has no key id")
            assert self.jwks is not None
            key: Any = await self.jwks.key_for(kid)
            if key.get("alg") and key["alg"] != alg:
                raise InvalidToken("token algorithm does not match its key")
            key = jwk.construct(key, alg)
        else:
            if not self.secret:
                raise InvalidToken("token verification is not configured")
            key = self.secret
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"leeway": self.leeway, **{f"require_{c}": True for c in REQUIRED_CLAIMS}},
            )
        except JWTError as exc:
            raise InvalidToken(_reason(exc)) from exc
        try:
            check_times(claims, now=time.time(), leeway=self.leeway, max_lifetime=self.max_lifetime)
        except MalformedToken as exc:
            raise InvalidToken(str(exc)) from exc
        return principal_from_claims(claims), float(claims["exp"])


def _reason(exc: JWTError) -> str:
    text = str(exc).lower()
    for needle, reason in (
        ("expired", "token expired"),
        ("audience", "wrong audience"),
        ("issuer", "wrong issuer"),
        ("signature", "bad signature"),
        ("missing required", "token lacks a required claim"),
        ("iat", "bad issued-at"),
    ):
        if needle in text:
            return reason
    return "invalid token"


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles")
    org = claims.get("org")
    sub = claims.get("sub")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("token roles must be a list")
    if not isinstance(org, str) or not org:
        raise InvalidToken("token lacks an organisation")
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("token lacks a subject")
    jti = claims.get("jti")
    issued = claims.get("iat")
    return Principal(
        sub=sub,
        org=org,
        roles=frozenset(r for r in roles if r in ROLES),
        jti=jti if isinstance(jti, str) else None,
        issued_at=float(issued) if isinstance(issued, int | float) else None,
    )


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer` header; an oversize header is refused before any parsing."""
    if authorization is not None and len(authorization) > MAX_AUTHORIZATION_BYTES:
        raise HeaderTooLarge(f"The Authorization header exceeds {MAX_AUTHORIZATION_BYTES} bytes")
    if not authorization:
        raise Unauthorized("A bearer token is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'")
    return token.strip()


class Authorize:
    """Route dependency naming the roles allowed to call it; returns the verified Principal.

    Every route declares one (a test walks `app.routes`); the roles are also compared with the
    gateway's policy table.
    """

    def __init__(self, *roles: str) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown or not roles:
            raise ValueError(f"Authorize needs known roles, got {roles}")
        self.roles = frozenset(roles)

    async def __call__(self, request: Request) -> Principal:
        verifier: TokenVerifier = request.app.state.verifier
        token = bearer_token(request.headers.get("authorization"))
        try:
            principal = await verifier.verify(token)
        except InvalidToken as exc:
            raise Unauthorized(f"Invalid token: {exc}") from None
        if not principal.has_any(self.roles):
            raise Forbidden("Your role may not call this endpoint")
        request.state.principal = principal
        return principal


class Public:
    """Marks a route that needs no token (health, metrics) so the route walk can tell it is deliberate."""

    roles: frozenset[str] = frozenset()

    async def __call__(self) -> None:
        return None


def issue_token(
    secret: str,
    *,
    sub: str,
    roles: list[str],
    org: str,
    issuer: str = "putokaz-dev",
    audience: str = "putokaz",
    ttl_seconds: int = 3600,
    algorithm: str = "HS256",
    extra: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> str:
    """Mint an access token (dev and tests; production tokens come from the OIDC provider)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": roles,
        "org": org,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm=algorithm, headers=headers)


def new_secret() -> str:
    return secrets.token_urlsafe(48)
