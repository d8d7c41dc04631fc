"""consent withdrawal, erasure and legal hold columns

Revision ID: a1d17c4a1e04
Revises: b7a1e5c0de16
Create Date: 2026-11-30 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1d17c4a1e04"
down_revision: str | None = "b7a1e5c0de16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("consent_withdrawn_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erasure_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("legal_hold_reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        for column in (
            "legal_hold_reason",
            "legal_hold",
            "erasure_reason",
            "erased_at",
            "consent_withdrawn_by",
            "consent_withdrawn_at",
        ):
            batch_op.drop_column(column)
