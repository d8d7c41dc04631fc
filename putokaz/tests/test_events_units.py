"""Pure parts of event delivery (schedule, Retry-After, type patterns, SSRF) and the dispatcher on SQLite."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from putokaz.clock import FakeClock
from putokaz.db import Database, new_metadata
from putokaz.events import define_event_tables, emit
from putokaz.events.catalogue import is_known_partner_pattern, type_matches
from putokaz.events.config import EventSettings
from putokaz.events.dispatcher import Dispatcher
from putokaz.events.endpoints import EndpointStore
from putokaz.events.schedule import (
    JITTER,
    MAX_RETRY_AFTER,
    RETRY_DELAYS,
    parse_retry_after,
    random_jitter,
    retry_delay,
)
from putokaz.events.secrets import secret_box
from putokaz.events.ssrf import TargetRefused, address_allowed, check_url_shape, validate_target_url
from putokaz.events.testing import loopback_receiver


@settings(max_examples=200)
@given(failures=st.integers(min_value=1, max_value=len(RETRY_DELAYS)), retry_after=st.integers(0, 10**7) | st.none())
def test_retry_delay_is_the_schedule_jittered_and_respects_retry_after(failures: int, retry_after: int | None) -> None:
    asked = timedelta(seconds=retry_after) if retry_after is not None else None
    delay = retry_delay(failures, asked, random_jitter)
    assert delay is not None
    base = RETRY_DELAYS[failures - 1]
    assert delay >= base * (1 - JITTER)
    if asked is None or asked <= base * (1 - JITTER):
        assert delay <= base * (1 + JITTER)
    else:
        assert delay >= min(asked, MAX_RETRY_AFTER)
        assert delay <= max(base * (1 + JITTER), MAX_RETRY_AFTER)


def test_schedule_is_exactly_design_8_and_then_gives_up() -> None:
    assert [d.total_seconds() for d in RETRY_DELAYS] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert retry_delay(len(RETRY_DELAYS) + 1) is None
    assert retry_delay(0) is None


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == timedelta(seconds=120)
    assert parse_retry_after("Tue, 24 Nov 2026 07:10:00 GMT", now) == timedelta(minutes=10)
    assert parse_retry_after("Tue, 24 Nov 2026 06:00:00 GMT", now) == timedelta(0)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_type_patterns() -> None:
    assert type_matches("referral.*", "referral.accepted")
    assert not type_matches("referral.*", "registry.referral_fact")
    assert type_matches("*", "capacity.changed")
    assert not type_matches("referral.accepted", "referral.accepted_later")
    assert is_known_partner_pattern("referral.*") and is_known_partner_pattern("capacity.changed")
    assert not is_known_partner_pattern("registry.*") and not is_known_partner_pattern("*")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "https://127.1.2.3/hook",
        "https://10.0.0.1/",
        "https://172.16.5.4/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://0.0.0.0/",
        "https://localhost/",
        "https://api.localhost/",
        "https://intranet/",
        "https://user:secret@partner.example/",
        "gopher://partner.example/",
        "file:///etc/passwd",
        "https://partner.example:0/",
        "https://partner.example:99999/",
    ],
)
def test_private_and_malformed_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url_shape(url, allow_private=False, require_https=False)


def test_public_https_targets_pass_and_https_is_required_when_asked() -> None:
    assert check_url_shape("https://8.8.8.8/hook", allow_private=False, require_https=True)
    assert check_url_shape("https://partner.example/hook", allow_private=False, require_https=True)
    with pytest.raises(TargetRefused):
        check_url_shape("http://partner.example/hook", allow_private=False, require_https=True)
    assert check_url_shape("http://127.0.0.1:9/hook", allow_private=True, require_https=False)
    assert not address_allowed(ipaddress.ip_address("224.0.0.1"), allow_private=True)


async def test_a_name_resolving_to_loopback_is_refused_at_save_time() -> None:
    # `localhost.` style names are caught statically; a real resolver answer is checked too.
    with pytest.raises(TargetRefused):
        await validate_target_url("https://localhost/hook", allow_private=False, require_https=True)
    assert EventSettings().https_required("production") and not EventSettings().https_required("dev")


async def test_dispatcher_delivers_on_sqlite(tmp_path: Path) -> None:
    """The dev setup runs on SQLite: the same dispatcher code must work there (no SKIP LOCKED)."""
    metadata = new_metadata()
    tables = define_event_tables(metadata)
    db = Database(f"sqlite:///{tmp_path / 'events.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with loopback_receiver() as receiver:
        async with db.sessionmaker() as session, session.begin():
            _, secret = await EndpointStore(tables).create_endpoint(
                session,
                org_id="org-a",
                url=receiver.url(),
                event_types=["referral.*"],
                description="",
                now=datetime.now(UTC),
                box=secret_box({}, None, "test"),
            )
            first = await emit(session, "referral.requested", {"referral_id": "r"}, aggregate_id="r", orgs=["org-a"])
        async with db.sessionmaker() as session, session.begin():
            second = await emit(session, "referral.accepted", {"referral_id": "r"}, aggregate_id="r", orgs=["org-a"])
        clock = FakeClock()
        dispatcher = Dispatcher(db, tables, EventSettings(webhook_allow_private_targets=True), clock=clock)
        await dispatcher.run_once()
        await dispatcher.run_once()
        await dispatcher.close()
        assert receiver.ids() == [first, second]
        for request in receiver.requests:
            assert Webhook(secret).verify(request.body, request.headers)
    await db.dispose()


def test_production_refuses_to_start_without_webhook_secret_keys_and_bad_keys_are_named() -> None:
    import base64

    import pytest

    from putokaz.events.secrets import SecretBox, SecretKeyError

    with pytest.raises(SecretKeyError, match="PUTOKAZ_WEBHOOK_SECRET_KEYS is required in production"):
        secret_box({}, None, "production")
    with pytest.raises(SecretKeyError, match="must be 32 random bytes"):
        SecretBox.from_config({"w1": base64.b64encode(b"short").decode()}, "w1")
    key = base64.b64encode(b"k" * 32).decode()
    with pytest.raises(SecretKeyError, match="ACTIVE_KEY names no key"):
        SecretBox.from_config({"w1": key, "w2": key}, None)  # two keys: which one seals must be said
    box = SecretBox.from_config({"w1": key}, None)
    sealed = box.seal("whsec_abc", "ep_1")
    assert sealed.startswith("enc:w1:") and "abc" not in sealed and box.open(sealed, "ep_1") == "whsec_abc"
    assert box.open("whsec_plain", "ep_1") == "whsec_plain"  # a row from before encryption
