"""Forwarded headers are believed only from configured proxies; a rotating X-Forwarded-For buys nothing."""

from __future__ import annotations

import httpx

from gateway.forwarded import ClientAddress, parse_networks
from putokaz.testing import UvicornProcess, auth


def test_failed_authentications_are_throttled_despite_a_rotating_forwarded_for(kernel_env, tmp_path):
    env = {**kernel_env, "PUTOKAZ_RATE_LIMIT_PER_MINUTE": "60", "PUTOKAZ_RATE_LIMIT_BURST": "3"}
    gateway = UvicornProcess("gateway.app:create_app", env, log_path=tmp_path / "gateway.log").start()
    try:
        with httpx.Client(base_url=gateway.url, timeout=10) as client:
            statuses = [
                client.get(
                    "/api/v1/screenings", headers={**auth("guess.guess.guess"), "X-Forwarded-For": f"203.0.113.{i}"}
                ).status_code
                for i in range(6)
            ]
    finally:
        gateway.stop()
    assert statuses == [401, 401, 401, 429, 429, 429]


def _scope(peer: str, forwarded: str | None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": (peer, 1234), "headers": headers}


def test_nobody_is_trusted_by_default():
    address = ClientAddress(parse_networks(""))
    assert address(_scope("127.0.0.1", "198.51.100.7")) == "127.0.0.1"


def test_a_trusted_proxy_names_the_client_and_the_right_most_untrusted_hop_wins():
    address = ClientAddress(parse_networks("10.0.0.0/8, 192.168.1.7"))
    assert address(_scope("10.1.2.3", "198.51.100.7")) == "198.51.100.7"
    # The client wrote the first entry itself; only what our proxies appended counts.
    assert address(_scope("10.1.2.3", "1.1.1.1, 198.51.100.7, 192.168.1.7")) == "198.51.100.7"
    assert address(_scope("203.0.113.9", "198.51.100.7")) == "203.0.113.9"  # not a proxy of ours
    assert address(_scope("10.1.2.3", "not-an-address")) == "10.1.2.3"
    assert address(_scope("10.1.2.3", None)) == "10.1.2.3"
