"""The journeys a new user meets, driven only through the gateway; shared by the PostgreSQL and SQLite runs."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

Token = Callable[..., str]

PRESUMED_ADULT_ANSWERS = {
    "dr_job_nature": "yes",
    "dr_wages": "yes",
    "worked_for_someone": "yes",
    "ex_excessive_hours": "yes",
    "ex_low_pay": "yes",
    "cd_documents": "yes",
    "cd_isolation": "yes",
    "forms_of_exploitation": ["forced_labour"],
}
CONSENT_VERSION = "2026-1"
YEAR = datetime.now(UTC).year


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class PartnerReceiver:
    """A partner's webhook receiver on loopback, recording every request it gets."""

    url: str
    received: list[Received] = field(default_factory=list)

    def events(self, secret: str) -> list[dict[str, Any]]:
        """Every received message, each verified with the standardwebhooks verifier (raises if forged)."""
        verifier = Webhook(secret)
        return [verifier.verify(r.body, r.headers) for r in list(self.received)]


@contextmanager
def partner_receiver() -> Iterator[PartnerReceiver]:
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PartnerReceiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", received)
    finally:
        server.shutdown()
        server.server_close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def refer(client: httpx.Client, token: str, body: dict[str, Any], timeout: float = 15.0) -> httpx.Response:
    """POST a referral, waiting while referral has not yet learnt the screening from the feed (422 on
    `screening_id` for a screening started a moment ago); any other answer is returned at once."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.post("/api/v1/referrals", headers=bearer(token), json=body)
        errors = response.json().get("errors", []) if response.status_code == 422 else []
        waiting = any(str(e.get("field", "")).endswith("screening_id") for e in errors)
        if not waiting or time.monotonic() > deadline:
            return response
        time.sleep(0.25)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text[:500]}"
    return response.json() if response.content else None


def unique_person() -> dict[str, Any]:
    marker = uuid.uuid4().hex[:10]
    return {
        "given_name": f"Zarmina{marker}",
        "family_name": f"Testperson{marker}",
        "date_of_birth": "1994-03-17",
        "sex": "F",
        "citizenship": "AF",
        "phone": "+387 61 555 0199",
        "documents": [{"type": "passport", "number": f"P{marker.upper()}"}],
        "notes": f"Met near the bus station, note {marker}",
    }


def screen(
    client: httpx.Client,
    token: str,
    subject: dict[str, Any],
    answers: dict[str, Any],
    *,
    language: str = "en",
    place: dict[str, Any] | None = None,
    consent: str | None = "given",
    instrument: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "language": language,
        "subject": subject,
        "place": place or {"entity": "FBIH", "canton": 9, "municipality": "Sarajevo"},
    }
    if consent is not None:
        body["consent"] = {"text_version": CONSENT_VERSION, "referral": consent}
    if instrument:
        body["instrument"] = instrument
    screening = ok(client.post("/api/v1/screenings", json=body, headers=bearer(token)), 201)
    ok(client.patch(f"/api/v1/screenings/{screening['id']}/answers", json={"answers": answers}, headers=bearer(token)))
    return ok(client.post(f"/api/v1/screenings/{screening['id']}/submit", headers=bearer(token)))


def subscribe(client: httpx.Client, partner_token: str, url: str) -> dict[str, Any]:
    return ok(
        client.post(
            "/api/v1/webhooks/endpoints",
            json={"url": url, "event_types": ["referral.*"], "description": "e2e partner system"},
            headers=bearer(partner_token),
        ),
        201,
    )


def safe_houses(client: httpx.Client, token: str, **person: Any) -> list[dict[str, Any]]:
    """The matches for a person in forced labour, screened in Sarajevo, who needs a safe house."""
    body = {
        "forms": ["forced_labour"],
        "place": {"entity": "FBIH", "canton": 9, "municipality": "Sarajevo"},
        "needs": ["safe_house"],
        **person,
    }
    return ok(client.post("/api/v1/matches", headers=bearer(token), json=body))["matches"]


def statistics(client: httpx.Client, coordinator: str, table: str, **params: Any) -> dict[str, Any]:
    return ok(client.get(f"/api/v1/stats/{table}", params=params, headers=bearer(coordinator)))


def grand_total(table: dict[str, Any]) -> Any:
    """The cell whose every breakdown key is "total" (or the single cell of an unbroken table)."""
    for cell in table["cells"]:
        if all(cell.get(b) == "total" for b in table["breakdowns"]):
            return cell["count"]
    raise AssertionError(f"no grand total in {table}")


def adult_journey(client: httpx.Client, make_token: Token) -> None:
    """Screen an adult, match, refer, the safe house accepts and completes; partner and coordinator see it."""
    social_worker = make_token("social_worker", org="demo-csw-sarajevo")
    coordinator = make_token("coordinator", org="demo-state-coordinator")

    person = unique_person()
    screening = screen(client, social_worker, person, PRESUMED_ADULT_ANSWERS, language="en")
    assert screening["outcome"] == "PRESUMED_VICTIM"
    assert "safe_house" in screening["result"]["recommended_service_types"]

    offered = safe_houses(client, social_worker, age=32, sex="F", nationality="AF", languages=["fa", "en"])
    assert offered, "a safe house must be offered"
    top = offered[0]
    provider_org = top["organisation_id"]
    # Confidential address: the referrer sees a redacted location before any accepted referral.
    assert top["location"] is None or top["location"]["location_type"] == "redacted"

    partner = make_token("partner", org=provider_org)
    provider = make_token("service_provider", org=provider_org)
    with partner_receiver() as receiver:
        endpoint = subscribe(client, partner, receiver.url)
        referral = ok(
            refer(
                client,
                social_worker,
                {
                    "screening_id": screening["id"],
                    "service_id": top["service_id"],
                    "urgent": False,
                    "profile": {
                        "age": 32,
                        "sex": "F",
                        "nationality": "AF",
                        "languages": ["fa", "en"],
                        "forms": ["forced_labour"],
                        "place": {"entity": "FBIH", "canton": 9},
                    },
                    "consent": {"recorded": True, "text_version": CONSENT_VERSION},
                },
            ),
            201,
        )
        assert referral["status"] == "requested"
        for status in ("accepted", "in_progress", "completed"):
            moved = ok(
                client.post(
                    f"/api/v1/referrals/{referral['id']}/transitions", headers=bearer(provider), json={"status": status}
                )
            )
            assert moved["status"] == status

        def referral_events() -> list[dict]:
            events = [e for e in receiver.events(endpoint["secret"]) if e["data"].get("referral_id") == referral["id"]]
            return events if len(events) >= 4 else []

        events = wait_for(referral_events)
        assert [e["type"] for e in events] == [
            "referral.requested",
            "referral.accepted",
            "referral.in_progress",
            "referral.completed",
        ]
        raw = b"".join(r.body for r in receiver.received).decode()
        for value in (person["given_name"], person["family_name"], person["documents"][0]["number"], "1994-03-17"):
            assert value not in raw
        assert {r.headers["webhook-id"] for r in receiver.received} and all(
            r.headers["webhook-signature"].startswith("v1,") for r in receiver.received
        )

    # The coordinator's figures are perturbed (cell key method): one more person may or may not change
    # a published count, so the journey checks what the coordinator is told, not a difference. That the
    # fact reached the registry is checked against its database (test_e2e) and in the registry's tests.
    table = statistics(client, coordinator, "victims", period="year", year=YEAR)
    assert table["perturbed"] is True and table["additive"] is False
    assert isinstance(grand_total(table), int) and grand_total(table) not in (1, 2)
    referrals = statistics(client, coordinator, "referrals", period="year", year=YEAR)
    assert isinstance(grand_total(referrals), int) and referrals["ptable"]["method"] == "cell_key"
