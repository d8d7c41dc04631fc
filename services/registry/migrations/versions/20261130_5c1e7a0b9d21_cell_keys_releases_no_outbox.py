"""record keys of the cell key method, releases, and no outbox/webhook tables (the registry emits nothing)

Revision ID: 5c1e7a0b9d21
Revises: a1d17c4a1e02
Create Date: 2026-11-30 23:00:00
"""

import hashlib
import hmac
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e7a0b9d21"
down_revision: str | None = "a1d17c4a1e02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BREAKDOWN_COLUMNS = [
    "sex",
    "age_band",
    "child",
    "citizenship",
    "entity",
    "canton",
    "status",
    "forms_mask",
    "instrument",
]
KEYS = ["rkey", "rkey_year", "rkey_quarter"]
REFERRAL_INCLUDE = [
    "service_type",
    "status",
    "hours_to_answer",
    "hours_to_placement",
    "entity",
    "canton",
    "child",
    "urgent",
]


def _key(secret: bytes, *parts: object) -> int:
    # The same keyed hash as services.registry.ckm.record_key, written out so the migration stays fixed.
    return hmac.new(secret, "|".join(str(p) for p in parts).encode(), hashlib.sha256).digest()[0]


def _screening_indexes(include: list[str]) -> None:
    with op.batch_alter_table("screening_facts") as batch_op:
        batch_op.create_index(
            "ix_screening_facts_period", ["year", "quarter"], unique=False, postgresql_include=include
        )
        batch_op.create_index(
            "ix_screening_facts_victims_quarter",
            ["year", "quarter", "status_rank"],
            unique=False,
            postgresql_where=sa.text("top_of_quarter"),
            postgresql_include=include,
            sqlite_where=sa.text("top_of_quarter"),
        )
        batch_op.create_index(
            "ix_screening_facts_victims_year",
            ["year", "status_rank"],
            unique=False,
            postgresql_where=sa.text("top_of_year"),
            postgresql_include=include,
            sqlite_where=sa.text("top_of_year"),
        )


def _drop_screening_indexes() -> None:
    with op.batch_alter_table("screening_facts") as batch_op:
        for name in (
            "ix_screening_facts_period",
            "ix_screening_facts_victims_quarter",
            "ix_screening_facts_victims_year",
        ):
            batch_op.drop_index(name)


def upgrade() -> None:
    op.create_table(
        "stats_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stats_keys")),
    )
    secret = os.urandom(32)
    op.bulk_insert(
        sa.table("stats_keys", sa.column("name", sa.String), sa.column("secret", sa.LargeBinary)),
        [{"name": "record_keys", "secret": secret}],
    )
    _drop_screening_indexes()
    with op.batch_alter_table("screening_facts") as batch_op:
        for name in KEYS:
            batch_op.add_column(sa.Column(name, sa.SmallInteger(), server_default=sa.text("0"), nullable=False))
    with op.batch_alter_table("referral_facts") as batch_op:
        batch_op.drop_index("ix_referral_facts_period")
        batch_op.add_column(sa.Column("rkey", sa.SmallInteger(), server_default=sa.text("0"), nullable=False))
    # Keys for facts stored before this revision (same derivation as at ingest).
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT fact_id, subject_key, year, quarter FROM screening_facts")).fetchall()
    updates = []
    for fact_id, subject_key, year, quarter in rows:
        person = subject_key or fact_id
        updates.append(
            {
                "id": fact_id,
                "k": _key(secret, "fact", fact_id),
                "ky": _key(secret, "person-year", person, year),
                "kq": _key(secret, "person-quarter", person, year, quarter),
            }
        )
    if updates:
        bind.execute(
            sa.text("UPDATE screening_facts SET rkey = :k, rkey_year = :ky, rkey_quarter = :kq WHERE fact_id = :id"),
            updates,
        )
    referrals = bind.execute(sa.text("SELECT fact_id FROM referral_facts")).fetchall()
    if referrals:
        bind.execute(
            sa.text("UPDATE referral_facts SET rkey = :k WHERE fact_id = :id"),
            [{"id": r[0], "k": _key(secret, "fact", r[0])} for r in referrals],
        )
    _screening_indexes([*BREAKDOWN_COLUMNS, *KEYS])
    with op.batch_alter_table("referral_facts") as batch_op:
        batch_op.create_index(
            "ix_referral_facts_period",
            ["year", "quarter"],
            unique=False,
            postgresql_include=[*REFERRAL_INCLUDE, "rkey"],
        )

    op.create_table(
        "releases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tables", sa.Text(), nullable=False),
        sa.Column("audit", sa.Text(), nullable=False),
        sa.Column("atoms", sa.Text(), nullable=False),
        sa.Column("facts_digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint("year", "version", name=op.f("uq_releases_year")),
    )

    # The registry receives events; it never emits any: its outbox and webhook tables were never used.
    op.drop_index(op.f("ix_webhook_attempts_delivery_id"), table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_order", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhook_endpoints_org_id"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
    op.drop_index(op.f("ix_outbox_events_fanned_out_at"), table_name="outbox_events")
    with op.batch_alter_table("outbox_events") as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_aggregate_id"))
    op.drop_table("outbox_events")


def downgrade() -> None:
    # The outbox and webhook tables as the first revision created them.
    first = Path(__file__).with_name("20261124_2d06159b1ca7_outbox.py")
    spec = importlib.util.spec_from_file_location("registry_outbox_revision", first)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.upgrade()
    op.drop_table("releases")
    with op.batch_alter_table("referral_facts") as batch_op:
        batch_op.drop_index("ix_referral_facts_period")
        batch_op.drop_column("rkey")
        batch_op.create_index(
            "ix_referral_facts_period", ["year", "quarter"], unique=False, postgresql_include=REFERRAL_INCLUDE
        )
    _drop_screening_indexes()
    with op.batch_alter_table("screening_facts") as batch_op:
        for name in KEYS:
            batch_op.drop_column(name)
    _screening_indexes(BREAKDOWN_COLUMNS)
    op.drop_table("stats_keys")
