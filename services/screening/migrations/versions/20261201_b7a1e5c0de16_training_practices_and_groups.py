"""training practices and groups (apart from real screenings)

Revision ID: b7a1e5c0de16
Revises: a1d17c4a1e01
Create Date: 2026-12-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7a1e5c0de16"
down_revision: str | None = "a1d17c4a1e01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_practices",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.String(200), nullable=False),
        sa.Column("trainee_sub", sa.String(200), nullable=False),
        sa.Column("vignette_id", sa.String(64), nullable=False),
        sa.Column("instrument_code", sa.String(64), nullable=False),
        sa.Column("instrument_version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("asked", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(24)),
        sa.Column("score", sa.Integer()),
        sa.Column("feedback", sa.JSON()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_training_practices_org_trainee", "training_practices", ["org_id", "trainee_sub"])
    op.create_table(
        "training_groups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("vignettes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_training_groups_org", "training_groups", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_training_groups_org", table_name="training_groups")
    op.drop_table("training_groups")
    op.drop_index("ix_training_practices_org_trainee", table_name="training_practices")
    op.drop_table("training_practices")
