"""IPv6 forms that wrap an IPv4 address are judged by the address they lead to, at save and connect time."""

from __future__ import annotations

import ipaddress

import pytest

from putokaz.events.ssrf import GuardedResolver, TargetRefused, address_allowed, check_url_shape, validate_target_url

WRAPPED_PRIVATE = {
    "nat64 loopback": "64:ff9b::7f00:1",
    "nat64 cloud metadata": "64:ff9b::a9fe:a9fe",
    "nat64 local-use prefix": "64:ff9b:1::a00:1",
    "6to4 loopback": "2002:7f00:1::1",
    "6to4 private": "2002:a00:1::1",
    "ipv4-compatible loopback": "::127.0.0.1",
    "ipv4-compatible private": "::10.0.0.1",
    "teredo, client loopback": "2001:0:4136:e378:8000:63bf:80ff:fffe",
}
WRAPPED_PUBLIC = {"nat64 public": "64:ff9b::808:808", "6to4 public": "2002:808:808::1"}


@pytest.mark.parametrize("address", WRAPPED_PRIVATE.values(), ids=WRAPPED_PRIVATE.keys())
async def test_wrapped_private_addresses_are_refused_at_save_and_connect_time(address):
    assert not address_allowed(ipaddress.ip_address(address), allow_private=False)
    with pytest.raises(TargetRefused):
        check_url_shape(f"https://[{address}]/hook", allow_private=False, require_https=True)
    with pytest.raises(TargetRefused):
        await validate_target_url(f"https://[{address}]/hook", allow_private=False, require_https=True)
    resolver = GuardedResolver(allow_private=False)
    try:
        with pytest.raises(OSError):
            await resolver.resolve(address, 443, 0)
    finally:
        await resolver.close()


@pytest.mark.parametrize("address", WRAPPED_PUBLIC.values(), ids=WRAPPED_PUBLIC.keys())
async def test_wrapped_public_addresses_stay_allowed(address):
    assert address_allowed(ipaddress.ip_address(address), allow_private=False)
    assert check_url_shape(f"https://[{address}]/hook", allow_private=False, require_https=True)
