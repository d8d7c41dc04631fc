"""stats_versions: a counter per year moved by every write, keying the explorer's answer cache

Revision ID: 9d5a1f3e6b21
Revises: 7b3e9c2d4f10
Create Date: 2026-12-01 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d5a1f3e6b21"
down_revision: str | None = "7b3e9c2d4f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_versions",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_stats_versions")),
    )


def downgrade() -> None:
    op.drop_table("stats_versions")
