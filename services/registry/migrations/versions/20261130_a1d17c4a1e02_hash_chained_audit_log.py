"""hash-chained audit log

Revision ID: a1d17c4a1e02
Revises: eefb31685dd0
Create Date: 2026-11-30 23:00:00
"""

from collections.abc import Sequence

from putokaz.audit.migration import create_audit_tables, drop_audit_tables

revision: str = "a1d17c4a1e02"
down_revision: str | None = "eefb31685dd0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_tables()


def downgrade() -> None:
    drop_audit_tables()
