"""Security headers every answer of the gateway carries, API and web app alike."""

from __future__ import annotations

# Never sniffed, never framed, no referrer leaves, HTTPS only for two years, no cross-origin reads.
BASE_SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
