"""Checks on an access token's form and claims that python-jose leaves to the caller (RFC 8725).

python-jose tolerates text it should not: junk after the signature, `=` padding, the `+/` alphabet,
non-numeric times. Anything but one canonical compact JWS is refused here, before any key is used.
"""

from __future__ import annotations

import base64
import re
from typing import Any

# The Authorization header is refused above this size before anything parses it.
MAX_AUTHORIZATION_BYTES = 8 * 1024
_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
ALLOWED_TYPES = {"jwt", "at+jwt", "application/jwt", "application/at+jwt"}
TIME_CLAIMS = ("exp", "iat", "nbf")


class MalformedToken(ValueError):
    """The reason is safe to show: it never echoes the token."""


def _canonical(segment: str) -> bool:
    """True when the segment is exactly how base64url without padding would write its bytes."""
    if len(segment) % 4 == 1:
        return False
    decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return base64.urlsafe_b64encode(decoded).rstrip(b"=").decode() == segment


def check_compact(token: str) -> None:
    """Three non-empty canonical base64url segments and nothing else (no padding, no `+/`, no junk)."""
    if not _COMPACT.match(token) or not all(_canonical(part) for part in token.split(".")):
        raise MalformedToken("malformed token")


def check_header(header: dict[str, Any]) -> None:
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ALLOWED_TYPES):
        raise MalformedToken("token type not accepted")
    if "crit" in header:
        # We understand no extension; RFC 7515 §4.1.11 says refuse rather than ignore it.
        raise MalformedToken("token has critical extensions")


def check_times(claims: dict[str, Any], *, now: float, leeway: float, max_lifetime: float) -> None:
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise MalformedToken(f"token {name} is not a number")
    issued, expires = claims.get("iat"), claims.get("exp")
    if isinstance(issued, int | float) and issued > now + leeway:
        raise MalformedToken("token issued in the future")
    if isinstance(issued, int | float) and isinstance(expires, int | float) and expires - issued > max_lifetime:
        raise MalformedToken("token lives too long")
