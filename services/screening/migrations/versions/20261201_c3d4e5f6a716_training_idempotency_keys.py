"""training idempotency keys (practice starts and finishes, apart from real ones)

Revision ID: c3d4e5f6a716
Revises: b5e1ed5ec001
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d4e5f6a716"
down_revision: str | None = "b5e1ed5ec001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_idempotency_keys",
        sa.Column("org_id", sa.String(length=200), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "sub", "key", name=op.f("pk_training_idempotency_keys")),
    )
    # Retention purges practices by age: one index for the scan.
    op.create_index("ix_training_practices_started_at", "training_practices", ["started_at"])
    op.create_index("ix_training_groups_created_at", "training_groups", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_training_groups_created_at", table_name="training_groups")
    op.drop_index("ix_training_practices_started_at", table_name="training_practices")
    op.drop_table("training_idempotency_keys")
