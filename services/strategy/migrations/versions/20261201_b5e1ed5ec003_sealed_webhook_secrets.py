"""sealed webhook endpoint secrets: room for the envelope

Revision ID: b5e1ed5ec003
Revises: 55a3bbd6a4b8
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

from putokaz.events.secrets import PLAIN_SECRET_LENGTH, SEALED_SECRET_LENGTH, resize_secret_columns

revision: str = "b5e1ed5ec003"
down_revision: str | None = "55a3bbd6a4b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    resize_secret_columns(SEALED_SECRET_LENGTH, PLAIN_SECRET_LENGTH)


def downgrade() -> None:
    resize_secret_columns(PLAIN_SECRET_LENGTH, SEALED_SECRET_LENGTH)
