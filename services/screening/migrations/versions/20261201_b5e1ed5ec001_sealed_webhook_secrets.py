"""sealed webhook endpoint secrets: room for the envelope

Revision ID: b5e1ed5ec001
Revises: a1d17c4a1e05
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5e1ed5ec001"
down_revision: str | None = "a1d17c4a1e05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Secrets are stored sealed (enc:<kid>:base64(nonce|ciphertext|tag)), about 110 characters; the rows
# themselves are sealed by the service at start (putokaz/events/secrets.py), where the key is.


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite does not enforce VARCHAR lengths
    for column, nullable in (("secret", False), ("previous_secret", True)):
        op.alter_column(
            "webhook_endpoints",
            column,
            type_=sa.String(length=255),
            existing_type=sa.String(length=100),
            existing_nullable=nullable,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for column, nullable in (("secret", False), ("previous_secret", True)):
        op.alter_column(
            "webhook_endpoints",
            column,
            type_=sa.String(length=100),
            existing_type=sa.String(length=255),
            existing_nullable=nullable,
        )
