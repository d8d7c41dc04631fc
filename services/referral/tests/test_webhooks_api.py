"""The partner webhook API: endpoints per organisation, secrets, test events, deliveries, attempts, replay."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any, NamedTuple

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from putokaz.clock import FakeClock
from putokaz.events import emit
from putokaz.events.config import EventSettings
from putokaz.events.dispatcher import Dispatcher
from putokaz.events.secrets import SecretBox, SecretKeyError, reseal_endpoint_secrets
from putokaz.events.testing import LoopbackReceiver, ScriptedAnswer, loopback_receiver
from putokaz.testing import auth, schema_cases
from services.referral.models import event_tables

BASE = "/api/v1/webhooks"


@pytest.fixture
async def receiver() -> AsyncIterator[LoopbackReceiver]:
    async with loopback_receiver() as r:
        yield r


@pytest.fixture
async def loopback_allowed(referral_app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[EventSettings]:
    """Loopback targets allowed (as in tests only) and the app's own dispatcher paused: tests drive delivery."""
    background = referral_app.state.dispatcher
    if background is not None:
        await background.stop()
    saved = referral_app.state.event_settings
    allowed = EventSettings(webhook_allow_private_targets=True, webhook_timeout_seconds=2)
    referral_app.state.event_settings = allowed
    yield allowed
    referral_app.state.event_settings = saved
    if background is not None:
        background.start()


@pytest.fixture
def org() -> str:
    return "partner-" + uuid.uuid4().hex[:10]


@pytest.fixture
def partner(make_token: Callable[..., str], org: str) -> dict[str, str]:
    return auth(make_token("partner", org=org))


async def deliver(
    referral_app: FastAPI, allowed: EventSettings, clock: FakeClock | None = None, box: SecretBox | None = None
) -> int:
    # The dispatcher shares the app's (manual) clock, so "due" means the same thing to both.
    clock = clock or FakeClock(referral_app.state.clock.now())
    dispatcher = Dispatcher(
        referral_app.state.db,
        event_tables,
        allowed,
        clock=clock,
        jitter=lambda: 1.0,
        box=box or referral_app.state.secret_box,
    )
    try:
        return await dispatcher.run_once()
    finally:
        await dispatcher.close()


async def emit_referral_event(referral_app: FastAPI, orgs: list[str], status: str = "accepted") -> str:
    async with referral_app.state.db.sessionmaker() as session, session.begin():
        return await emit(
            session,
            f"referral.{status}",
            {"referral_id": "ref-x", "status": status, "from_org": orgs[0], "to_org": orgs[-1]},
            aggregate_id="ref-x-" + uuid.uuid4().hex[:6],
            orgs=orgs,
        )


async def create(client: httpx.AsyncClient, headers: dict[str, str], url: str, **extra: Any) -> dict[str, Any]:
    body = {"url": url, "event_types": ["referral.*"], "description": "case system", **extra}
    r = await client.post(f"{BASE}/endpoints", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


class Wired(NamedTuple):
    """A partner's endpoint created on a loopback receiver, its delivery driven by the test."""

    client: httpx.AsyncClient
    partner: dict[str, str]
    org: str
    referral_app: FastAPI
    receiver: LoopbackReceiver
    loopback_allowed: EventSettings
    created: dict[str, Any]


@pytest.fixture
async def wired(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    org: str,
    referral_app: FastAPI,
    receiver: LoopbackReceiver,
    loopback_allowed: EventSettings,
) -> Wired:
    created = await create(client, partner, receiver.url())
    return Wired(client, partner, org, referral_app, receiver, loopback_allowed, created)


async def test_event_types_are_listed(client: httpx.AsyncClient, partner: dict[str, str]) -> None:
    r = await client.get(f"{BASE}/event-types", headers=partner)
    assert r.status_code == 200
    types = {t["type"] for t in r.json()["items"]}
    assert {"referral.requested", "referral.expired", "capacity.changed"} <= types
    assert not any(t.startswith("registry.") for t in types)


async def test_secret_is_shown_once_and_endpoint_listed_for_its_owner_only(
    client: httpx.AsyncClient, partner: dict[str, str], make_token: Callable[..., str], loopback_allowed: EventSettings
) -> None:
    created = await create(client, partner, "http://127.0.0.1:9/hook")
    assert created["secret"].startswith("whsec_") and len(base64.b64decode(created["secret"][6:])) == 32
    r = await client.get(f"{BASE}/endpoints/{created['id']}", headers=partner)
    assert r.status_code == 200 and "secret" not in r.json()
    assert [e["id"] for e in (await client.get(f"{BASE}/endpoints", headers=partner)).json()["items"]] == [
        created["id"]
    ]
    stranger = auth(make_token("partner", org="someone-else-" + uuid.uuid4().hex[:6]))
    assert created["id"] not in [
        e["id"] for e in (await client.get(f"{BASE}/endpoints", headers=stranger)).json()["items"]
    ]
    admin = auth(make_token("admin", org="org-admin"))
    assert created["id"] in [e["id"] for e in (await client.get(f"{BASE}/endpoints", headers=admin)).json()["items"]]


async def test_other_organisations_endpoint_is_404_everywhere(
    client: httpx.AsyncClient, partner: dict[str, str], make_token: Callable[..., str], loopback_allowed: EventSettings
) -> None:
    created = await create(client, partner, "http://127.0.0.1:9/hook")
    stranger = auth(make_token("partner", org="someone-else-" + uuid.uuid4().hex[:6]))
    ep = f"{BASE}/endpoints/{created['id']}"
    calls = [
        ("GET", ep, None),
        ("PATCH", ep, {"description": "mine now"}),
        ("DELETE", ep, None),
        ("POST", f"{ep}/rotate-secret", None),
        ("POST", f"{ep}/test", None),
        ("GET", f"{ep}/deliveries", None),
        ("GET", f"{ep}/deliveries/dlv_x/attempts", None),
        ("POST", f"{ep}/deliveries/dlv_x/replay", None),
        ("POST", f"{ep}/replay-failed", {"since": "2026-01-01T00:00:00Z"}),
    ]
    for method, path, body in calls:
        r = await client.request(method, path, json=body, headers=stranger)
        assert r.status_code == 404, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(ep, headers=partner)).json()["description"] == "case system"


async def test_other_roles_are_forbidden(client: httpx.AsyncClient, make_token: Callable[..., str]) -> None:
    for role in ("police", "social_worker", "service_provider", "coordinator"):
        r = await client.get(f"{BASE}/endpoints", headers=auth(make_token(role, org="org-a")))
        assert r.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://partner.example/hook", "event_types": ["referral.*"]}, "url"),
        ({"url": "https://partner.example/hook", "event_types": ["referral.nonsense"]}, "event_types"),
        ({"url": "https://partner.example/hook", "event_types": ["registry.screening_fact"]}, "event_types"),
        ({"url": "https://partner.example/hook", "event_types": []}, "event_types"),
        ({"url": "http://127.0.0.1:8003/internal/events", "event_types": ["referral.*"]}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data", "event_types": ["referral.*"]}, "url"),
        ({"url": "https://10.1.2.3/hook", "event_types": ["referral.*"]}, "url"),
        ({"url": "https://[::1]/hook", "event_types": ["referral.*"]}, "url"),
        ({"url": "https://localhost/hook", "event_types": ["referral.*"]}, "url"),
        ({"url": "https://user:pw@partner.example/hook", "event_types": ["referral.*"]}, "url"),
        ({"url": "https://partner.example/hook", "event_types": ["referral.*"], "secret": "mine"}, "secret"),
    ],
)
async def test_bad_endpoint_is_422_naming_the_field(
    client: httpx.AsyncClient, partner: dict[str, str], body: dict[str, Any], field: str
) -> None:
    r = await client.post(f"{BASE}/endpoints", json=body, headers=partner)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(field in e["field"] for e in r.json()["errors"])


async def test_partner_cannot_register_for_another_organisation(
    client: httpx.AsyncClient, partner: dict[str, str], make_token: Callable[..., str]
) -> None:
    body = {"url": "https://partner.example/hook", "event_types": ["referral.*"], "org_id": "other-org"}
    assert (await client.post(f"{BASE}/endpoints", json=body, headers=partner)).status_code == 403
    admin = auth(make_token("admin", org="org-admin"))
    r = await client.post(f"{BASE}/endpoints", json=body, headers=admin)
    assert r.status_code == 201 and r.json()["org_id"] == "other-org"
    assert (await client.delete(f"{BASE}/endpoints/{r.json()['id']}", headers=admin)).status_code == 204


async def test_https_required_in_production(
    client: httpx.AsyncClient, partner: dict[str, str], referral_app: FastAPI, loopback_allowed: EventSettings
) -> None:
    referral_app.state.event_settings = EventSettings(webhook_require_https=True, webhook_allow_private_targets=True)
    body = {"url": "http://partner.example/hook", "event_types": ["referral.*"]}
    r = await client.post(f"{BASE}/endpoints", json=body, headers=partner)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url"


async def test_update_disable_enable_and_delete(
    client: httpx.AsyncClient, partner: dict[str, str], loopback_allowed: EventSettings
) -> None:
    created = await create(client, partner, "http://127.0.0.1:9/hook")
    ep = f"{BASE}/endpoints/{created['id']}"
    assert (await client.patch(ep, json={}, headers=partner)).status_code == 422
    assert (await client.patch(ep, json={"enabled": None}, headers=partner)).status_code == 422
    assert (await client.patch(ep, json={"colour": "red"}, headers=partner)).status_code == 422
    r = await client.patch(ep, json={"enabled": False, "event_types": ["referral.accepted"]}, headers=partner)
    assert r.status_code == 200
    assert r.json()["enabled"] is False and r.json()["disabled_reason"] == "disabled by its owner"
    assert r.json()["event_types"] == ["referral.accepted"]
    assert (await client.post(f"{ep}/test", headers=partner)).status_code == 409
    r = await client.patch(ep, json={"enabled": True}, headers=partner)
    assert r.json()["enabled"] is True and r.json()["disabled_reason"] is None
    assert (await client.delete(ep, headers=partner)).status_code == 204
    assert (await client.get(ep, headers=partner)).status_code == 404


async def test_referral_event_is_delivered_signed_and_visible_with_its_attempts(wired: Wired) -> None:
    client, partner, org, referral_app, receiver, loopback_allowed, created = wired
    message_id = await emit_referral_event(referral_app, ["org-a", org])
    await emit_referral_event(referral_app, ["org-a", "not-" + org])  # another organisation's referral
    await deliver(referral_app, loopback_allowed)
    [request] = receiver.requests
    payload = Webhook(created["secret"]).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == message_id and payload["type"] == "referral.accepted"
    ep = f"{BASE}/endpoints/{created['id']}"
    [delivery] = (await client.get(f"{ep}/deliveries", headers=partner)).json()["items"]
    assert delivery["message_id"] == message_id and delivery["status"] == "delivered"
    [attempt] = (await client.get(f"{ep}/deliveries/{delivery['id']}/attempts", headers=partner)).json()["items"]
    assert attempt["succeeded"] and attempt["response_status"] == 200 and attempt["response_body"] == "ok"


async def test_test_event_rotation_and_replays(wired: Wired) -> None:
    client, partner, org, referral_app, receiver, loopback_allowed, created = wired
    ep = f"{BASE}/endpoints/{created['id']}"
    r = await client.post(f"{ep}/test", headers=partner)
    assert r.status_code == 202 and r.json()["event_type"] == "webhook.test"
    rotated = (await client.post(f"{ep}/rotate-secret", headers=partner)).json()
    await deliver(referral_app, loopback_allowed)
    [request] = receiver.requests
    for secret in (created["secret"], rotated["secret"]):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.test"

    # A receiver that keeps failing: the delivery fails for good, then is replayed one by one and since a time.
    receiver.default = ScriptedAnswer(status=500)
    clock = FakeClock(referral_app.state.clock.now())
    await emit_referral_event(referral_app, [org])
    await emit_referral_event(referral_app, [org], "completed")
    await deliver(referral_app, loopback_allowed, clock)
    for delay in (5, 300, 1800, 7200, 18000, 36000, 36000):
        clock.advance(timedelta(seconds=delay))
        await deliver(referral_app, loopback_allowed, clock)
    failed = (await client.get(f"{ep}/deliveries", params={"status": "failed"}, headers=partner)).json()["items"]
    assert len(failed) == 2
    receiver.default = ScriptedAnswer(status=200)
    r = await client.post(f"{ep}/deliveries/{failed[0]['id']}/replay", headers=partner)
    assert r.status_code == 202 and r.json()["status"] == "pending" and r.json()["attempt_count"] == 0
    assert (await client.post(f"{ep}/deliveries/dlv_unknown/replay", headers=partner)).status_code == 404
    await deliver(referral_app, loopback_allowed)
    assert (
        len((await client.get(f"{ep}/deliveries", params={"status": "failed"}, headers=partner)).json()["items"]) == 1
    )
    since = (referral_app.state.clock.now() - timedelta(hours=1)).isoformat()
    r = await client.post(f"{ep}/replay-failed", json={"since": since}, headers=partner)
    assert r.status_code == 202 and r.json() == {"replayed": 1}
    await deliver(referral_app, loopback_allowed)
    statuses = {d["status"] for d in (await client.get(f"{ep}/deliveries", headers=partner)).json()["items"]}
    assert statuses == {"delivered"}
    attempts = (await client.get(f"{ep}/deliveries/{failed[0]['id']}/attempts", headers=partner)).json()["items"]
    assert [a["response_status"] for a in attempts] == [500] * 8 + [200]


async def _stored(referral_app: FastAPI, endpoint_id: str) -> tuple[str, str | None]:
    e = event_tables.endpoints
    async with referral_app.state.db.engine.connect() as conn:
        row = (await conn.execute(select(e.c.secret, e.c.previous_secret).where(e.c.id == endpoint_id))).one()
    return row.secret, row.previous_secret


async def _store(referral_app: FastAPI, endpoint_id: str, secret: str) -> None:
    e = event_tables.endpoints
    async with referral_app.state.db.engine.begin() as conn:
        await conn.execute(update(e).where(e.c.id == endpoint_id).values(secret=secret))


async def test_secrets_are_sealed_at_rest_old_rows_get_sealed_and_the_sealing_key_rotates(wired: Wired) -> None:
    client, partner, org, referral_app, receiver, loopback_allowed, created = wired
    ep_id, secret = created["id"], created["secret"]
    app_box: SecretBox = referral_app.state.secret_box
    stored, previous = await _stored(referral_app, ep_id)
    # What a dump of the database shows: a sealed value, nothing of the secret that signs.
    assert stored.startswith(f"enc:{app_box.active}:") and previous is None
    assert secret not in stored and secret[6:] not in stored
    # Bound to its endpoint: a sealed secret copied onto another endpoint's row does not open there.
    with pytest.raises(SecretKeyError):
        app_box.open(stored, "ep_someone_else")

    # A row written before encryption (the secret in clear) still signs, and the next start seals it.
    await _store(referral_app, ep_id, secret)
    await emit_referral_event(referral_app, ["org-a", org])
    await deliver(referral_app, loopback_allowed)
    assert Webhook(secret).verify(receiver.requests[-1].body, receiver.requests[-1].headers)
    assert await reseal_endpoint_secrets(referral_app.state.db, event_tables, app_box) >= 1
    assert (await _stored(referral_app, ep_id))[0].startswith(f"enc:{app_box.active}:")
    assert await reseal_endpoint_secrets(referral_app.state.db, event_tables, app_box) == 0  # idempotent

    # Rotating the sealing key: both keys configured, the new one active; every row is re-sealed at start,
    # after which the old key can be retired. The partner's secret itself does not change.
    old_key = base64.b64encode(app_box.keys[app_box.active]).decode()
    new_key = base64.b64encode(b"n" * 32).decode()
    both = SecretBox.from_config({app_box.active: old_key, "w9": new_key}, "w9")
    rotated = (await client.post(f"{BASE}/endpoints/{ep_id}/rotate-secret", headers=partner)).json()["secret"]
    assert await reseal_endpoint_secrets(referral_app.state.db, event_tables, both) >= 1
    stored, previous = await _stored(referral_app, ep_id)
    assert stored.startswith("enc:w9:") and previous is not None and previous.startswith("enc:w9:")
    only_new = SecretBox.from_config({"w9": new_key}, None)
    assert only_new.open(stored, ep_id) == rotated and only_new.open(previous, ep_id) == secret
    with pytest.raises(SecretKeyError):
        app_box.open(stored, ep_id)  # the retired key alone no longer opens it
    await emit_referral_event(referral_app, ["org-a", org])
    await deliver(referral_app, loopback_allowed, box=only_new)
    for signing in (secret, rotated):  # during the rotation overlap both signatures are sent
        assert Webhook(signing).verify(receiver.requests[-1].body, receiver.requests[-1].headers)
    # Back under the app's key, so the tests after this one deliver with the app's box.
    assert (
        await reseal_endpoint_secrets(
            referral_app.state.db,
            event_tables,
            SecretBox.from_config({app_box.active: old_key, "w9": new_key}, app_box.active),
        )
        >= 1
    )


@pytest.mark.parametrize(
    "body", [{"since": "2026-01-01T00:00:00"}, {"since": "soon"}, {}, {"since": "2999-01-01T00:00:00Z"}]
)
async def test_replay_failed_needs_a_past_aware_time(
    client: httpx.AsyncClient, partner: dict[str, str], body: dict[str, Any], loopback_allowed: EventSettings
) -> None:
    created = await create(client, partner, "http://127.0.0.1:9/hook")
    r = await client.post(f"{BASE}/endpoints/{created['id']}/replay-failed", json=body, headers=partner)
    assert r.status_code == 422


async def test_generated_requests_never_cause_a_server_error(
    client: httpx.AsyncClient, referral_app: FastAPI, partner: dict[str, str], loopback_allowed: EventSettings
) -> None:
    await create(client, partner, "http://127.0.0.1:9/hook")
    schema = schemathesis.openapi.from_dict(referral_app.openapi())
    planned: list[schemathesis.Case] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(BASE):
            continue
        planned.extend(schema_cases(operation, 5))
    assert len({(c.method, c.path) for c in planned}) == 12
    failures = []
    for case in planned:
        kwargs: dict[str, Any] = {"params": case.query or None, "headers": {**(case.headers or {}), **partner}}
        if case.body is not None and not isinstance(case.body, schemathesis.core.NotSet):
            kwargs["json"] = case.body
        response = await client.request(case.method, case.formatted_path, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
    assert failures == []
