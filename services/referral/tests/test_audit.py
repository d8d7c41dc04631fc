"""Who read a referral, who saw a confidential address, who changed the directory: on the hash-chained audit log."""

from __future__ import annotations

import httpx

from services.referral.tests.conftest import World, referral_body


async def _entries(client: httpx.AsyncClient, world: World, **params: str) -> list[tuple[str, str, str, str]]:
    admin = world.headers("admin", "org-admin")
    response = await client.get("/api/v1/audit/referral", params={"limit": 500, **params}, headers=admin)
    assert response.status_code == 200, response.text
    return [(e["action"], e["actor_org"], e["outcome"], e["object_type"]) for e in reversed(response.json()["items"])]


async def test_reads_refusals_reveals_and_directory_changes_are_audited(
    client: httpx.AsyncClient, world: World
) -> None:
    police = world.headers("police", "org-a")
    provider = world.headers("service_provider", "org-p")
    stranger = world.headers("police", "org-b")
    rid = (await client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=police)).json()["id"]
    assert (await client.get(f"/api/v1/referrals/{rid}", headers=provider)).status_code == 200
    assert (await client.get(f"/api/v1/referrals/{rid}", headers=stranger)).status_code == 404
    moved = await client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "accepted"}, headers=stranger)
    assert moved.status_code == 404
    await client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "accepted"}, headers=provider)
    await client.get(f"/api/v1/referrals/{rid}/history", headers=police)
    assert await _entries(client, world, object_id=rid) == [
        ("create", "org-a", "ok", "referral"),
        ("read", "org-p", "ok", "referral"),
        ("read", "org-b", "refused", "referral"),
        ("transition.accepted", "org-b", "refused", "referral"),
        ("transition.accepted", "org-p", "ok", "referral"),
        ("read_history", "org-a", "ok", "referral"),
    ]

    location = f"/api/v1/locations/{world.safe_house_location}"
    assert (await client.get(location, headers=police)).json()["address"] is not None
    assert (await client.get(location, headers=stranger)).json()["address"] is None
    # The admin who created the house saw it; then the referrer, to whom the accepted placement revealed it.
    # The stranger saw the redacted form: nothing to record.
    assert await _entries(client, world, object_id=world.safe_house_location, action="reveal_address") == [
        ("reveal_address", "org-admin", "ok", "location"),
        ("reveal_address", "org-a", "ok", "location"),
    ]

    admin = world.headers("admin", "org-admin")
    changed = await client.patch(location, json={"address_1": "New 1"}, headers=admin)
    assert changed.status_code == 200
    admin_log = await _entries(client, world, object_id=world.safe_house_location, action="update_location")
    assert admin_log == [("update_location", "org-admin", "ok", "location")]
    verdict = (await client.get("/api/v1/audit/referral/verify", headers=admin)).json()
    assert verdict["ok"] is True
