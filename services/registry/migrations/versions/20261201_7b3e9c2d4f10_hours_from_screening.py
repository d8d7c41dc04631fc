"""referral facts: hours from the screening to the referral request

Revision ID: 7b3e9c2d4f10
Revises: 5c1e7a0b9d21
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e9c2d4f10"
down_revision: str | None = "5c1e7a0b9d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: facts sent before this field existed (and referrals made without a screening) have none.
    op.add_column("referral_facts", sa.Column("hours_from_screening", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("referral_facts", "hours_from_screening")
