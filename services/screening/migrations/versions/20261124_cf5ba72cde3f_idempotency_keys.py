"""idempotency keys

Revision ID: cf5ba72cde3f
Revises: 9fc5cd7d2ff6
Create Date: 2026-11-24 08:46:03.348966
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cf5ba72cde3f"
down_revision: str | None = "9fc5cd7d2ff6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("org_id", sa.String(length=200), nullable=False),
        sa.Column("sub", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "sub", "key", name=op.f("pk_idempotency_keys")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
