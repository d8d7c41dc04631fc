"""The audit tables every service adds to its own MetaData: the log and the head of its hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, BigInteger, Column, Integer, MetaData, String, Table

from putokaz.db import UtcDateTime

PK_BIGINT = BigInteger().with_variant(Integer(), "sqlite")
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditTables:
    log: Table
    head: Table


def define_audit_tables(metadata: MetaData) -> AuditTables:
    """`audit_log` (append-only, one hash chain per service) and `audit_head` (its one-row head)."""
    log = Table(
        "audit_log",
        metadata,
        # `seq` is the position in the chain: contiguous from 1, assigned under the head's row lock.
        Column("seq", PK_BIGINT, primary_key=True, autoincrement=False),
        Column("at", UtcDateTime, nullable=False, index=True),
        Column("actor_sub", String(200), nullable=False, index=True),
        Column("actor_org", String(200), nullable=False),
        Column("actor_roles", String(200), nullable=False),
        Column("action", String(40), nullable=False, index=True),
        Column("object_type", String(40), nullable=False),
        Column("object_id", String(64), nullable=True, index=True),
        # "ok", or "refused" for a read of an object the caller may not see (answered 404).
        Column("outcome", String(16), nullable=False),
        # Small facts about the action (a reason code, a count); never identity or free text.
        Column("detail", JSON, nullable=True),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    head = Table(
        "audit_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("seq", PK_BIGINT, nullable=False),
        Column("hash", String(64), nullable=False),
    )
    return AuditTables(log, head)
