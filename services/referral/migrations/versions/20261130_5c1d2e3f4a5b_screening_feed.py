"""screening feed: known screenings, processed webhooks, held referrals, child-referral fallbacks

Revision ID: 5c1d2e3f4a5b
Revises: a1d17c4a1e03
Create Date: 2026-11-30 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1d2e3f4a5b"
down_revision: str | None = "a1d17c4a1e03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_screenings",
        sa.Column("screening_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("child", sa.Boolean(), nullable=False),
        sa.Column("consent_referral", sa.String(length=16), nullable=False),
        sa.Column("consent_text_version", sa.String(length=40), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("learnt_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("screening_id", name=op.f("pk_known_screenings")),
    )
    op.create_table(
        "processed_webhooks",
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_processed_webhooks")),
    )
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("fallback_for_entity", sa.String(length=8), nullable=True))
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("awaiting_consent", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_referrals_screening", "referrals", ["screening_ref"])
    op.create_index(
        "uq_referrals_child_referral",
        "referrals",
        ["screening_ref"],
        unique=True,
        postgresql_where=sa.text("from_sub = 'putokaz-child-referral'"),
        sqlite_where=sa.text("from_sub = 'putokaz-child-referral'"),
    )


def downgrade() -> None:
    op.drop_index("uq_referrals_child_referral", table_name="referrals")
    op.drop_index("ix_referrals_screening", table_name="referrals")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("awaiting_consent")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("fallback_for_entity")
    op.drop_table("processed_webhooks")
    op.drop_table("known_screenings")
