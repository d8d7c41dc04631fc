"""SSRF guard for partner webhook URLs: checked when an endpoint is saved and again at every connection."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the reason is safe to show to its owner."""


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: the IPv4 address is the last 32 bits
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215 local use: where the IPv4 sits is site-defined


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address reaches through a translation or tunnel, if any.

    IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`), 6to4
    (`2002:AABB:CCDD::`) and Teredo (`2001:0::/32`, server and client) all lead to an IPv4 host; each
    must pass the same check as if it were written plainly.
    """
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    value = int(address)
    if 1 < value < 2**32:
        found.append(ipaddress.IPv4Address(value))
    if address in NAT64:
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def address_allowed(address: IPAddress, *, allow_private: bool) -> bool:
    """Public unicast only, unless private targets are explicitly allowed (tests, a closed network)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if address.ipv4_mapped is not None:
            return address_allowed(address.ipv4_mapped, allow_private=allow_private)
        if inner and not all(address_allowed(v4, allow_private=allow_private) for v4 in inner):
            return False
        if address in NAT64_LOCAL and not allow_private:
            return False
    if address.is_multicast or address.is_unspecified:
        return False
    if allow_private:
        return True
    # is_global is False for loopback, RFC 1918, link-local (cloud metadata), CGNAT, reserved, documentation.
    return address.is_global


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url_shape(url: str, *, allow_private: bool, require_https: bool) -> str:
    """Static checks (no DNS): scheme, credentials, host, port, literal addresses and `localhost`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("the URL is not valid") from None
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("the URL must use https")
    if require_https and parts.scheme != "https":
        raise TargetRefused("the URL must use https")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry credentials")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise TargetRefused("the URL has no host")
    if port == 0:
        raise TargetRefused("the URL has an invalid port")
    if parts.fragment:
        raise TargetRefused("the URL must not have a fragment")
    literal = literal_address(host)
    if literal is not None and not address_allowed(literal, allow_private=allow_private):
        raise TargetRefused("the URL points to a private, loopback or reserved address")
    if (
        literal is None
        and not allow_private
        and (host == "localhost" or host.endswith(".localhost") or "." not in host)
    ):
        raise TargetRefused("the URL must name a public host")
    return url


async def validate_target_url(
    url: str, *, allow_private: bool, require_https: bool, resolve_timeout: float = 2.0
) -> str:
    """Checks at save time: the shape, then every address the host resolves to now.

    A name that does not resolve yet is accepted (delivery re-checks every connection), so that
    partners can register an endpoint before their DNS is live.
    """
    check_url_shape(url, allow_private=allow_private, require_https=require_https)
    host = (urlsplit(url).hostname or "").rstrip(".")
    if allow_private or literal_address(host) is not None:
        return url
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), resolve_timeout)
    except (OSError, TimeoutError):
        return url
    for info in infos:
        address = literal_address(str(info[4][0]).split("%", 1)[0])
        if address is None or not address_allowed(address, allow_private=False):
            raise TargetRefused("the URL's host resolves to a private, loopback or reserved address")
    return url


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that drops disallowed addresses, so DNS rebinding after the save-time check fails."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = []
        for result in results:
            address = literal_address(result["host"].split("%", 1)[0])
            if address is not None and address_allowed(address, allow_private=self.allow_private):
                allowed.append(result)
        if not allowed:
            raise OSError(f"webhook host resolves only to refused addresses (port {port})")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
