"""blind index key id (rotation)

Revision ID: a1d17c4a1e05
Revises: a1d17c4a1e04
Create Date: 2026-12-01 00:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1d17c4a1e05"
down_revision: str | None = "a1d17c4a1e04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("screening_blind_index", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), server_default="b0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("screening_blind_index", schema=None) as batch_op:
        batch_op.drop_column("key_id")
