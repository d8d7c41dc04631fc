"""Which address a request came from, trusting forwarded headers only from configured proxies.

uvicorn runs with `--no-proxy-headers` (it would otherwise trust `X-Forwarded-For` from 127.0.0.1, so
anyone on the host could pick any address and slip the failed-authentication throttle). The gateway
reads `X-Forwarded-For` itself, only when the peer is one of `PUTOKAZ_TRUSTED_PROXIES` (empty by
default), and takes the right-most address that is not itself a trusted proxy: the one the nearest
proxy we trust actually saw.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.168.1.7` → networks; a bad entry is a start-up error, not a silent skip."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())


class ClientAddress:
    def __init__(self, trusted: Sequence[Network]) -> None:
        self.trusted = tuple(trusted)

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def __call__(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not self.trusted or not self._is_trusted(peer):
            return peer
        forwarded: list[str] = []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded += [part.strip() for part in value.decode("latin-1").split(",") if part.strip()]
        for address in reversed(forwarded):
            if not self._is_trusted(address):
                try:
                    return str(ipaddress.ip_address(address))
                except ValueError:
                    return peer  # garbage from a trusted proxy's client: fall back to the proxy itself
        return peer
