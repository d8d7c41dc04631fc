"""The dispatcher: fans outbox events out to endpoints and delivers them as signed Standard Webhooks requests.

Several dispatchers may run against one PostgreSQL database: outbox rows and deliveries are claimed
with `FOR UPDATE SKIP LOCKED` (SQLite ignores the clause; there a single process runs). A claimed
delivery is leased by pushing `next_attempt_at` past the request timeout, so a dispatcher killed
mid-delivery loses nothing: the lease expires and another dispatcher retries (the receiver may then
see a duplicate, which `webhook-id` lets it ignore).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import Row, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.clock import SYSTEM_CLOCK, Clock
from putokaz.db import Database
from putokaz.events.catalogue import INTERNAL_ONLY_PREFIX, any_matches
from putokaz.events.config import EventSettings
from putokaz.events.outbox import EventTables, emit
from putokaz.events.schedule import (
    FAILURE_WINDOW,
    RETRY_DELAYS,
    Jitter,
    parse_retry_after,
    random_jitter,
    retry_delay,
)
from putokaz.events.secrets import SecretBox, secret_box
from putokaz.events.signing import signed_headers
from putokaz.events.ssrf import GuardedResolver, address_allowed, literal_address

logger = logging.getLogger("putokaz.events.dispatcher")

RESPONSE_KEEP_BYTES = 2048
LEASE_MARGIN = timedelta(seconds=45)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def new_delivery_id() -> str:
    return "dlv_" + uuid.uuid4().hex


def internal_endpoint_id(url: str) -> str:
    """Stable id for a configured subscription, so restarts keep its delivery history."""
    return "int_" + hashlib.sha256(url.encode()).hexdigest()[:28]


@dataclass(frozen=True)
class DeliveryJob:
    delivery_id: str
    endpoint_id: str
    kind: str
    url: str
    message_id: str
    payload: str
    signing_secrets: tuple[str, ...]
    attempt_number: int


@dataclass(frozen=True)
class AttemptOutcome:
    status: int | None
    body: str | None
    error: str | None
    duration_ms: int
    retry_after: str | None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Dispatcher:
    """One per service process; `start()` in the app lifespan, `stop()` on shutdown, `run_once()` in tests."""

    def __init__(
        self,
        db: Database,
        tables: EventTables,
        settings: EventSettings | None = None,
        *,
        environment: str = "dev",
        clock: Clock | None = None,
        jitter: Jitter = random_jitter,
        box: SecretBox | None = None,
    ) -> None:
        self.db = db
        self.t = tables
        self.settings = settings or EventSettings()
        self.environment = environment
        # Endpoint secrets are stored sealed; the dispatcher opens them only to sign a request.
        self.box = box or secret_box(
            self.settings.webhook_secret_keys, self.settings.webhook_secret_active_key, environment
        )
        self.clock = clock or SYSTEM_CLOCK
        self.jitter = jitter
        self.allow_private = self.settings.webhook_allow_private_targets
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._partner_http: aiohttp.ClientSession | None = None
        self._internal_http: aiohttp.ClientSession | None = None
        self._synced = False
        # Successful attempts waiting to be written together (see `_record_delivered`).
        self._delivered: list[tuple[DeliveryJob, AttemptOutcome, asyncio.Future[None]]] = []
        self._recorder: asyncio.Task[None] | None = None
        # Deliveries whose request is over, waiting for their record: they no longer hold a slot of the loop.
        self._recording: set[asyncio.Task[Any]] = set()

    # --- lifecycle -------------------------------------------------------------------------------

    def _open_http(self) -> None:
        if self._partner_http is None:
            # Partner connections resolve through the SSRF guard; internal ones go to configured hosts.
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private=self.allow_private), limit=100)
            self._partner_http = aiohttp.ClientSession(connector=connector, auto_decompress=False)
            self._internal_http = aiohttp.ClientSession(auto_decompress=False)

    async def close(self) -> None:
        for http in (self._partner_http, self._internal_http):
            if http is not None:
                await http.close()
        self._partner_http = self._internal_http = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="putokaz-dispatcher")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inflight or self._recording:
            # Unfinished deliveries keep their lease and are retried by the next dispatcher.
            _, pending = await asyncio.wait(self._inflight | self._recording, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._recorder is not None:
            self._recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recorder
            self._recorder = None
        await self.close()

    async def run(self) -> None:
        """The background loop: keeps up to `dispatcher_concurrency` deliveries in flight."""
        poll = self.settings.dispatcher_poll_seconds
        failures = 0
        while True:
            try:
                if not self._synced:
                    await self.sync_internal_subscriptions()
                free = self.settings.dispatcher_concurrency - len(self._inflight)
                fanned, jobs = await self.fan_out_and_claim(free)
                for job in jobs:
                    task = asyncio.create_task(self.deliver(job))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The database may be restarting: back off, never die.
                failures += 1
                logger.error("dispatcher cycle failed", extra={"error_type": type(exc).__name__})
                await asyncio.sleep(min(poll * 2**failures, 30.0))
                continue
            if fanned >= self.settings.dispatcher_batch_size or (jobs and len(jobs) >= free):
                await asyncio.sleep(0)  # a backlog: the next batch at once
            elif jobs or fanned:
                # Events trickle in from concurrent requests: looping at once would cost a transaction per
                # event or two. A short wait gathers the next ones into one fan-out, one claim and one record.
                await asyncio.sleep(self.settings.dispatcher_gather_seconds)
            elif self._inflight and free <= 0:
                await asyncio.wait(set(self._inflight), timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(poll)

    async def run_once(self) -> int:
        """Fan out, then deliver everything due now and wait for it (tests and the benchmark)."""
        if not self._synced:
            await self.sync_internal_subscriptions()
        await self.fan_out()
        jobs = await self.claim_due(self.settings.dispatcher_batch_size)
        semaphore = asyncio.Semaphore(self.settings.dispatcher_concurrency)

        async def limited(job: DeliveryJob) -> None:
            async with semaphore:
                await self.deliver(job)

        await asyncio.gather(*(limited(job) for job in jobs))
        return len(jobs)

    # --- configuration ---------------------------------------------------------------------------

    async def sync_internal_subscriptions(self) -> None:
        """Mirror the configured internal subscriptions into the endpoints table (deliveries need a row)."""
        e = self.t.endpoints
        now = self.clock.now()
        wanted = {internal_endpoint_id(s.url): s for s in self.settings.internal_subscriptions}
        async with self.db.sessionmaker() as session, session.begin():
            existing = {
                row.id: row
                for row in (await session.execute(select(e.c.id, e.c.enabled).where(e.c.kind == "internal")))
            }
            for endpoint_id, sub in wanted.items():
                values = {
                    "url": sub.url,
                    "secret": self.box.seal(sub.secret, endpoint_id),
                    "event_types": json.dumps(sub.event_types),
                    "enabled": True,
                    "disabled_reason": None,
                    "updated_at": now,
                }
                if endpoint_id in existing:
                    await session.execute(update(e).where(e.c.id == endpoint_id).values(**values))
                else:
                    await session.execute(
                        insert(e).values(
                            id=endpoint_id,
                            kind="internal",
                            org_id=None,
                            description="internal subscription",
                            created_at=now,
                            **values,
                        )
                    )
            for endpoint_id, row in existing.items():
                if endpoint_id not in wanted and row.enabled:
                    await session.execute(
                        update(e)
                        .where(e.c.id == endpoint_id)
                        .values(enabled=False, disabled_reason="removed from configuration", updated_at=now)
                    )
        self._synced = True

    # --- fan-out ---------------------------------------------------------------------------------

    async def fan_out_and_claim(self, limit: int) -> tuple[int, list[DeliveryJob]]:
        """`fan_out`, then `claim_due(limit)`, in one transaction: the loop's two steps cost one BEGIN and COMMIT."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            fanned = await self._fan_out(session, now)
            rows = await self._claim(session, limit, now)
        return fanned, self._jobs(rows, now)

    async def fan_out(self) -> int:
        """Create one delivery per (new outbox event × matching enabled endpoint); returns events handled."""
        async with self.db.sessionmaker() as session, session.begin():
            return await self._fan_out(session, self.clock.now())

    async def _fan_out(self, session: AsyncSession, now: datetime) -> int:
        o, e, d = self.t.outbox, self.t.endpoints, self.t.deliveries
        events = (
            await session.execute(
                select(o.c.position, o.c.message_id, o.c.event_type, o.c.aggregate_id, o.c.orgs)
                .where(o.c.fanned_out_at.is_(None))
                .order_by(o.c.position)
                .limit(self.settings.dispatcher_batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not events:
            return 0
        endpoints = [
            (row, json.loads(row.event_types))
            for row in await session.execute(
                select(e.c.id, e.c.kind, e.c.org_id, e.c.event_types).where(e.c.enabled.is_(True))
            )
        ]
        rows = []
        for event in events:
            orgs = set(json.loads(event.orgs)) if event.orgs else set()
            for endpoint, patterns in endpoints:
                if not any_matches(patterns, event.event_type):
                    continue
                if endpoint.kind == "partner" and (
                    event.event_type.startswith(INTERNAL_ONLY_PREFIX) or endpoint.org_id not in orgs
                ):
                    continue
                rows.append(
                    {
                        "id": new_delivery_id(),
                        "endpoint_id": endpoint.id,
                        "message_position": event.position,
                        "message_id": event.message_id,
                        "event_type": event.event_type,
                        "aggregate_id": event.aggregate_id,
                        "status": PENDING,
                        "attempt_count": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
        if rows:
            await session.execute(insert(d), rows)
        await session.execute(
            update(o).where(o.c.position.in_([ev.position for ev in events])).values(fanned_out_at=now)
        )
        return len(events)

    # --- claiming --------------------------------------------------------------------------------

    async def claim_due(self, limit: int) -> list[DeliveryJob]:
        """Lease up to `limit` due deliveries, oldest first, never overtaking an earlier event of the same aggregate."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            rows = await self._claim(session, limit, now)
        return self._jobs(rows, now)

    async def _claim(self, session: AsyncSession, limit: int, now: datetime) -> Sequence[Row[Any]]:
        if limit <= 0:
            return []
        o, e, d = self.t.outbox, self.t.endpoints, self.t.deliveries
        earlier = d.alias("earlier")
        blocked = exists().where(
            earlier.c.endpoint_id == d.c.endpoint_id,
            earlier.c.aggregate_id == d.c.aggregate_id,
            earlier.c.message_position < d.c.message_position,
            earlier.c.status == PENDING,
        )
        query = (
            select(
                d.c.id,
                d.c.endpoint_id,
                d.c.message_id,
                d.c.attempt_count,
                e.c.kind,
                e.c.url,
                e.c.secret,
                e.c.previous_secret,
                e.c.previous_secret_expires_at,
                o.c.payload,
            )
            .join(e, e.c.id == d.c.endpoint_id)
            .join(o, o.c.position == d.c.message_position)
            .where(
                d.c.status == PENDING,
                d.c.next_attempt_at <= now,
                e.c.enabled.is_(True),
                or_(d.c.aggregate_id.is_(None), ~blocked),
            )
            .order_by(d.c.next_attempt_at, d.c.message_position)
            .limit(limit)
            .with_for_update(skip_locked=True, of=d)
        )
        lease_until = now + timedelta(seconds=self.settings.webhook_timeout_seconds) + LEASE_MARGIN
        rows = (await session.execute(query)).all()
        if rows:
            await session.execute(
                update(d)
                .where(d.c.id.in_([r.id for r in rows]))
                .values(attempt_count=d.c.attempt_count + 1, next_attempt_at=lease_until, last_attempt_at=now)
            )
        return rows

    def _jobs(self, rows: Sequence[Row[Any]], now: datetime) -> list[DeliveryJob]:
        jobs = []
        for r in rows:
            signing = [self.box.open(r.secret, r.endpoint_id)]
            expires = aware(r.previous_secret_expires_at)
            if r.previous_secret and expires is not None and expires > now:
                signing.append(self.box.open(r.previous_secret, r.endpoint_id))
            jobs.append(
                DeliveryJob(
                    delivery_id=r.id,
                    endpoint_id=r.endpoint_id,
                    kind=r.kind,
                    url=r.url,
                    message_id=r.message_id,
                    payload=r.payload,
                    signing_secrets=tuple(signing),
                    attempt_number=r.attempt_count + 1,
                )
            )
        return jobs

    # --- delivery --------------------------------------------------------------------------------

    async def deliver(self, job: DeliveryJob) -> AttemptOutcome:
        outcome = await self._post(job)
        try:
            if outcome.succeeded:
                await self._record_delivered(job, outcome)
            else:
                await self._record(job, outcome)
        except Exception as exc:
            # The lease will expire and the delivery be retried: a duplicate, never a loss.
            logger.error("could not record a webhook attempt", extra={"error_type": type(exc).__name__})
        return outcome

    async def _post(self, job: DeliveryJob) -> AttemptOutcome:
        self._open_http()
        http = self._partner_http if job.kind == "partner" else self._internal_http
        assert http is not None
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        if job.kind == "partner":
            literal = literal_address((urlsplit(job.url).hostname or "").strip("[]"))
            if literal is not None and not address_allowed(literal, allow_private=self.allow_private):
                return AttemptOutcome(None, None, "destination address refused", elapsed(), None)
        headers = signed_headers(job.message_id, job.payload, job.signing_secrets)
        try:
            async with http.post(
                job.url,
                data=job.payload.encode(),
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds),
            ) as response:
                raw = await response.content.read(RESPONSE_KEEP_BYTES)
                return AttemptOutcome(
                    response.status,
                    raw.decode("utf-8", errors="replace"),
                    None if 200 <= response.status < 300 else f"HTTP {response.status}",
                    elapsed(),
                    response.headers.get("Retry-After"),
                )
        except TimeoutError:
            return AttemptOutcome(None, None, "timeout", elapsed(), None)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return AttemptOutcome(None, None, f"connection failed: {type(exc).__name__}"[:200], elapsed(), None)

    async def _record_delivered(self, job: DeliveryJob, outcome: AttemptOutcome) -> None:
        """Record a successful attempt together with the others that succeeded meanwhile (a group commit).

        A busy service delivers each of its events to one or two feeds: recorded one by one, every delivery
        cost a transaction of its own (five round trips). One writer records all successes waiting at that
        moment in one transaction; those arriving while it writes go in its next one. Returns once this
        attempt is committed; a failed write fails every attempt of its batch, whose leases then expire and
        are retried (a duplicate the receiver ignores, never a loss), as before.
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._delivered.append((job, outcome, done))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_delivered(), name="putokaz-dispatcher-recorder")
        # The request is over: its slot goes to the next delivery while this one waits for its batch (it stays
        # leased until recorded, so no round claims it again). Slots measure requests to receivers, not writes.
        task = asyncio.current_task()
        if task is not None and task in self._inflight:
            self._inflight.discard(task)
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)
        await done

    async def _write_delivered(self) -> None:
        while self._delivered:
            batch, self._delivered = self._delivered, []
            try:
                await self._record_many_delivered([(job, outcome) for job, outcome, _ in batch])
            except Exception as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _record_many_delivered(self, batch: list[tuple[DeliveryJob, AttemptOutcome]]) -> None:
        a, d, e = self.t.attempts, self.t.deliveries, self.t.endpoints
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(
                insert(a),
                [
                    {
                        "delivery_id": job.delivery_id,
                        "attempted_at": now,
                        "succeeded": True,
                        "response_status": outcome.status,
                        "response_body": outcome.body,
                        "error": outcome.error,
                        "duration_ms": outcome.duration_ms,
                    }
                    for job, outcome in batch
                ],
            )
            # Only the holder of the current lease moves a delivery on (a replay may have reset it).
            await session.execute(
                update(d)
                .where(d.c.id == bindparam("b_id"), d.c.attempt_count == bindparam("b_attempt"), d.c.status == PENDING)
                .values(status=DELIVERED, delivered_at=now, next_attempt_at=None),
                [{"b_id": job.delivery_id, "b_attempt": job.attempt_number} for job, _ in batch],
            )
            await session.execute(
                update(e)
                .where(e.c.id.in_(sorted({job.endpoint_id for job, _ in batch})), e.c.failing_since.is_not(None))
                .values(failing_since=None)
            )

    async def _record(self, job: DeliveryJob, outcome: AttemptOutcome) -> None:
        """A failed attempt: retry later, or give up, or disable the partner endpoint (410, five days failing)."""
        a, d, e = self.t.attempts, self.t.deliveries, self.t.endpoints
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(
                insert(a).values(
                    delivery_id=job.delivery_id,
                    attempted_at=now,
                    succeeded=outcome.succeeded,
                    response_status=outcome.status,
                    response_body=outcome.body,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                )
            )
            # Only the holder of the current lease moves the delivery on (a replay may have reset it).
            current = and_(d.c.id == job.delivery_id, d.c.attempt_count == job.attempt_number, d.c.status == PENDING)
            if outcome.status == 410 and job.kind == "partner":
                await session.execute(update(d).where(current).values(status=FAILED, next_attempt_at=None))
                await self._disable(session, job.endpoint_id, "the receiver answered 410 Gone", now)
                return
            delay = retry_delay(job.attempt_number, parse_retry_after(outcome.retry_after, now), self.jitter)
            if delay is None and job.kind == "internal":
                # The registry feed must never drop a fact: keep trying at the longest interval.
                delay = RETRY_DELAYS[-1] * self.jitter()
            cap = self.settings.internal_retry_cap_seconds
            if delay is not None and job.kind == "internal" and cap is not None:
                delay = min(delay, timedelta(seconds=cap))
            if delay is None:
                await session.execute(update(d).where(current).values(status=FAILED, next_attempt_at=None))
            else:
                await session.execute(update(d).where(current).values(next_attempt_at=now + delay))
            await session.execute(
                update(e).where(e.c.id == job.endpoint_id, e.c.failing_since.is_(None)).values(failing_since=now)
            )
            if job.kind == "partner":
                failing_since = aware(await session.scalar(select(e.c.failing_since).where(e.c.id == job.endpoint_id)))
                if failing_since is not None and now - failing_since >= FAILURE_WINDOW:
                    await self._disable(session, job.endpoint_id, "failing for 5 days", now)

    async def _disable(self, session: AsyncSession, endpoint_id: str, reason: str, now: datetime) -> None:
        """Disable a partner endpoint, fail its pending deliveries (replayable later) and tell its owner."""
        e, d = self.t.endpoints, self.t.deliveries
        owner = await session.scalar(
            update(e)
            .where(e.c.id == endpoint_id, e.c.enabled.is_(True))
            .values(enabled=False, disabled_reason=reason, updated_at=now)
            .returning(e.c.org_id)
        )
        if owner is None:
            return
        await session.execute(
            update(d)
            .where(d.c.endpoint_id == endpoint_id, d.c.status == PENDING)
            .values(status=FAILED, next_attempt_at=None)
        )
        await emit(
            session,
            "webhook.endpoint_disabled",
            {"endpoint_id": endpoint_id, "reason": reason, "disabled_at": now.isoformat().replace("+00:00", "Z")},
            aggregate_id=endpoint_id,
            orgs=[owner],
        )
        logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint_id, "reason": reason})


async def pending_count(db: Database, tables: EventTables) -> int:
    """Deliveries still to be made (used by the benchmark and tests to wait for a quiet queue)."""
    d, o = tables.deliveries, tables.outbox
    async with db.sessionmaker() as session:
        undelivered = await session.scalar(select(func.count()).where(d.c.status == PENDING))
        unfanned = await session.scalar(select(func.count()).where(o.c.fanned_out_at.is_(None)))
    return int(undelivered or 0) + int(unfanned or 0)
