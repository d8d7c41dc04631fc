"""pseudonym key id per screening (pseudonym key rotation)

Revision ID: d4e5f6a7b817
Revises: c3d4e5f6a716
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4e5f6a7b817"
down_revision: str | None = "c3d4e5f6a716"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_key_id", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_screenings_subject_key"), ["subject_key"], unique=False)
    # Every pseudonym so far was made with the first key ("p0"), except the random ones: no identity
    # (anonymous, consent declined, erased). A row with an identity but no name is random too; the
    # rotation job finds that out from the decrypted identity and clears its key id then.
    op.execute("UPDATE screenings SET subject_key_id = 'p0' WHERE identity_ct IS NOT NULL AND erased_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screenings_subject_key"))
        batch_op.drop_column("subject_key_id")
