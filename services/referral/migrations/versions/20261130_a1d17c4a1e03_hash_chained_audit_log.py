"""hash-chained audit log

Revision ID: a1d17c4a1e03
Revises: 126fc145d812
Create Date: 2026-11-30 23:40:00
"""

from collections.abc import Sequence

from putokaz.audit.migration import create_audit_tables, drop_audit_tables

revision: str = "a1d17c4a1e03"
down_revision: str | None = "126fc145d812"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_audit_tables()


def downgrade() -> None:
    drop_audit_tables()
