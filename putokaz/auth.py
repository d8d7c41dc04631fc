"""Access-token verification (python-jose; HS256 for dev, JWKS for production) and role checks."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request
from jose import jwk, jwt
from jose.exceptions import JWTError

from putokaz.errors import Forbidden, Unauthorized
from putokaz.settings import ASYMMETRIC_ALGORITHMS, KernelSettings

ROLES = ("police", "social_worker", "service_provider", "coordinator", "partner", "admin")
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller: who (`sub`), in which organisation (`org`), with which roles."""

    sub: str
    org: str
    roles: frozenset[str]
    jti: str | None = None

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


class TokenVerifier:
    """Verifies access tokens against the configured algorithm allow-list and key source."""

    def __init__(self, settings: KernelSettings, cache_size: int = 10_000) -> None:
        self.algorithms = list(settings.jwt_algorithms)
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.asymmetric = bool(set(self.algorithms) & ASYMMETRIC_ALGORITHMS)
        self.secret = None if self.asymmetric else settings.resolved_jwt_secret()
        self.jwks = JwksCache(settings.jwks_url, settings.jwks_refresh_cooldown_seconds) if self.asymmetric else None
        # Verified tokens by their exact text: signature checks dominate gateway latency otherwise.
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        now = time.time()
        if cached is not None:
            principal, exp = cached
            if now < exp + self.leeway:
                return principal
            del self._cache[token]
        principal, exp = await self._verify_uncached(token)
        self._cache[token] = (principal, exp)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    async def _verify_uncached(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise InvalidToken("malformed token") from exc
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
    return Principal(sub=sub, org=org, roles=frozenset(r for r in roles if r in ROLES), jti=claims.get("jti"))


def bearer_token(authorization: str | None) -> str:
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
