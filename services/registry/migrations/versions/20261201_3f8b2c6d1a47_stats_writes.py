"""stats_writes: writes counted per year without a row every writer updates (replaces stats_versions)

Revision ID: 3f8b2c6d1a47
Revises: 9d5a1f3e6b21
Create Date: 2026-12-01 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f8b2c6d1a47"
down_revision: str | None = "9d5a1f3e6b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_writes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_writes")),
    )
    op.create_index("ix_stats_writes_year", "stats_writes", ["year"])
    # The answer cache lives in each process and restarts with it: nothing to carry over. A process of the
    # previous code still running fails on the missing table rather than answer from a cache this code's
    # writes no longer renew.
    op.drop_table("stats_versions")


def downgrade() -> None:
    op.create_table(
        "stats_versions",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_stats_versions")),
    )
    op.drop_index("ix_stats_writes_year", table_name="stats_writes")
    op.drop_table("stats_writes")
