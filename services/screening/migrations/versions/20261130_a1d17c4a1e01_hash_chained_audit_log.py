"""hash-chained audit log (replaces screening_audit)

Revision ID: a1d17c4a1e01
Revises: cf5ba72cde3f
Create Date: 2026-11-30 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from putokaz.audit.chain import chained_rows
from putokaz.audit.migration import create_audit_tables, drop_audit_tables
from putokaz.audit.tables import GENESIS

revision: str = "a1d17c4a1e01"
down_revision: str | None = "cf5ba72cde3f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_tables()
    bind = op.get_bind()
    old = sa.table(
        "screening_audit",
        sa.column("id", sa.BigInteger),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor_sub", sa.String),
        sa.column("actor_org", sa.String),
        sa.column("actor_roles", sa.String),
        sa.column("action", sa.String),
        sa.column("screening_id", sa.String),
    )
    log = sa.table(
        "audit_log",
        *(
            sa.column(name, type_)
            for name, type_ in (
                ("seq", sa.BigInteger),
                ("at", sa.DateTime(timezone=True)),
                ("actor_sub", sa.String),
                ("actor_org", sa.String),
                ("actor_roles", sa.String),
                ("action", sa.String),
                ("object_type", sa.String),
                ("object_id", sa.String),
                ("outcome", sa.String),
                ("detail", sa.JSON),
                ("prev_hash", sa.String),
                ("hash", sa.String),
            )
        ),
    )
    # The earlier entries move into the chain in the order they were written.
    prev_hash, seq, batch = GENESIS, 1, 5000
    after = 0
    while True:
        rows = bind.execute(sa.select(old).where(old.c.id > after).order_by(old.c.id).limit(batch)).mappings().all()
        if not rows:
            break
        values = [
            {
                "at": r["at"],
                "actor_sub": r["actor_sub"],
                "actor_org": r["actor_org"],
                "actor_roles": r["actor_roles"],
                "action": r["action"],
                "object_type": "screening",
                "object_id": r["screening_id"],
                "outcome": "ok",
                "detail": None,
            }
            for r in rows
        ]
        chained, prev_hash = chained_rows(prev_hash, seq, values)
        op.bulk_insert(log, chained)
        seq += len(chained)
        after = rows[-1]["id"]
    op.execute(
        sa.text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1").bindparams(seq=seq - 1, hash=prev_hash)
    )
    op.drop_table("screening_audit")


def downgrade() -> None:
    op.create_table(
        "screening_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_sub", sa.String(length=200), nullable=False),
        sa.Column("actor_org", sa.String(length=200), nullable=False),
        sa.Column("actor_roles", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("screening_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_audit")),
    )
    drop_audit_tables()
