"""Recording audit entries into a per-service hash chain, and checking the chain.

Entries are collected on the session and written just before it commits: the head row of
`audit_head` is locked (a row lock on PostgreSQL, the write lock on SQLite), so concurrent
writers of one service take chain positions one after another and no two rows share a parent.
The lock is held only from the start of the commit to its end, not for the whole request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from putokaz.audit.tables import GENESIS, AuditTables
from putokaz.auth import Principal
from putokaz.clock import SYSTEM_CLOCK
from putokaz.events.outbox import insert_events, take_pending_events

PENDING = "putokaz.audit.pending"
SYSTEM_ORG = "system"


@dataclass(frozen=True)
class Actor:
    """Who acted: a verified caller, or the system itself (a retention job, an event consumer)."""

    sub: str
    org: str
    roles: str

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.sub, principal.org, ",".join(sorted(principal.roles)))

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(f"system:{job}", SYSTEM_ORG, "")


@dataclass
class Entry:
    actor: Actor
    action: str
    object_type: str
    object_id: str | None
    outcome: str = "ok"
    detail: dict[str, Any] | None = None
    # Callers that act on a clock pass `at=now`; the default is the real time of the act.
    at: datetime = field(default_factory=lambda: SYSTEM_CLOCK.now())


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were written in UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def row_hash(prev_hash: str, seq: int, values: dict[str, Any]) -> str:
    """sha256 over the previous hash and every column of the row, in a canonical JSON form."""
    canonical = [
        prev_hash,
        seq,
        _utc(values["at"]).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        values["actor_sub"],
        values["actor_org"],
        values["actor_roles"],
        values["action"],
        values["object_type"],
        values["object_id"],
        values["outcome"],
        values["detail"],
    ]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _values(entry: Entry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "actor_sub": entry.actor.sub,
        "actor_org": entry.actor.org,
        "actor_roles": entry.actor.roles,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


def chained_rows(prev_hash: str, first_seq: int, values: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The rows with `seq`, `prev_hash` and `hash` filled in, and the hash of the last one."""
    rows = []
    for offset, value in enumerate(values):
        seq = first_seq + offset
        digest = row_hash(prev_hash, seq, value)
        rows.append({**value, "seq": seq, "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    return rows, prev_hash


def record(session: AsyncSession, tables: AuditTables, entry: Entry) -> None:
    """Add an entry to this session's transaction; it is chained and written when the session commits."""
    pending = session.info.setdefault(PENDING, (tables, []))
    pending[1].append(entry)


def record_for(
    session: AsyncSession,
    tables: AuditTables,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    record(session, tables, Entry(Actor.of(principal), action, object_type, object_id, detail=detail))


async def record_refused(
    session: AsyncSession, tables: AuditTables, principal: Principal, action: str, object_type: str, object_id: str
) -> None:
    """A refused read, in its own transaction: the request's own transaction is rolled back with its 404."""
    async with AsyncSession(session.bind) as own, own.begin():
        record(own, tables, Entry(Actor.of(principal), action, object_type, object_id, outcome="refused"))


def _seal(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending or not pending[1]:
        return
    tables, entries = pending
    head = tables.head
    # Moving the head first takes the per-service lock and reserves the chain positions.
    last_seq, prev_hash = session.execute(
        update(head).where(head.c.id == 1).values(seq=head.c.seq + len(entries)).returning(head.c.seq, head.c.hash)
    ).one()
    rows, last_hash = chained_rows(prev_hash, last_seq - len(entries) + 1, (_values(e) for e in entries))
    move_head = update(head).where(head.c.id == 1).values(hash=last_hash)
    if session.get_bind().dialect.name == "postgresql":
        # The rows and the head's new hash in one statement: one round trip less while the lock is held
        # (every commit of the service queues on this lock). The transaction's outbox events ride along
        # (putokaz.events.outbox.emit): their positions then follow the order of commits.
        statement = move_head.add_cte(insert(tables.log).values(rows).cte("logged"))
        events = take_pending_events(session)
        if events:
            statement = statement.add_cte(insert_events(events).cte("emitted"))
        session.execute(statement)
    else:
        session.execute(insert(tables.log), rows)
        session.execute(move_head)


def _discard(session: Session) -> None:
    session.info.pop(PENDING, None)


# First among the commit hooks, so that the outbox's own hook finds the events already written.
event.listen(Session, "before_commit", _seal, insert=True)
event.listen(Session, "after_rollback", _discard)


@dataclass
class Verification:
    ok: bool
    rows_checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows_checked": self.rows_checked,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "first_broken": None if self.ok else {"seq": self.first_broken_seq, "reason": self.reason},
        }


async def verify(session: AsyncSession, tables: AuditTables, batch: int = 2000) -> Verification:
    """Recompute the chain from its first row; name the first row whose hash, parent or position is wrong."""
    log, head = tables.log, tables.head
    head_seq, head_hash = (await session.execute(select(head.c.seq, head.c.hash).where(head.c.id == 1))).one()
    expected_seq: int | None = None
    prev_hash = GENESIS
    checked = 0
    after = 0
    while True:
        rows = (
            (await session.execute(select(log).where(log.c.seq > after).order_by(log.c.seq).limit(batch)))
            .mappings()
            .all()
        )
        if not rows:
            break
        for row in rows:
            seq = row["seq"]
            if expected_seq is None:
                expected_seq = 1
            if seq != expected_seq:
                return Verification(False, checked, head_seq, head_hash, expected_seq, "row missing")
            if row["prev_hash"] != prev_hash:
                return Verification(False, checked, head_seq, head_hash, seq, "does not follow the previous row")
            if row_hash(prev_hash, seq, dict(row)) != row["hash"]:
                return Verification(False, checked, head_seq, head_hash, seq, "row changed after it was written")
            prev_hash = row["hash"]
            expected_seq = seq + 1
            checked += 1
        after = rows[-1]["seq"]
    last_seq = (expected_seq or 1) - 1
    if last_seq < head_seq:
        return Verification(False, checked, head_seq, head_hash, last_seq + 1, "row missing")
    if last_seq > head_seq or prev_hash != head_hash:
        return Verification(False, checked, head_seq, head_hash, last_seq, "head does not match the last row")
    return Verification(True, checked, head_seq, head_hash)
