"""the screening's submission time on known screenings and referrals (hours from screening to referral)

Revision ID: 8c4f0a1b2d3e
Revises: b5e1ed5ec002
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c4f0a1b2d3e"
down_revision: str | None = "b5e1ed5ec002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: screenings learnt before this column, and referrals made before their screening's
    # submission reached this service, have no time of screening (the registry fact then says so).
    op.add_column("known_screenings", sa.Column("screened_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("referrals", sa.Column("screened_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("referrals", "screened_at")
    op.drop_column("known_screenings", "screened_at")
