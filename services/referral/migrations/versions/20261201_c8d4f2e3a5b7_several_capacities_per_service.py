"""several capacities per service (HSDS service_capacity), each for a target population

Revision ID: c8d4f2e3a5b7
Revises: b7c3e1d2f4a6
Create Date: 2026-12-01 02:25:00

A service had one capacity whose unit defaulted to `bed`, even for counselling. Each existing
capacity becomes the service's capacity for `everyone`; a `bed` of a service that lodges nobody
(psychosocial, legal aid, social welfare, return, interpretation, other) becomes a `session`; each
referral holding a place remembers which capacity holds it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8d4f2e3a5b7"
down_revision: str | None = "b7c3e1d2f4a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_LODGING = ("mhpss", "legal_aid", "social_welfare", "avrr", "interpretation", "other")


def upgrade() -> None:
    with op.batch_alter_table("service_capacity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("population", sa.String(length=16), server_default="everyone", nullable=False))
        batch_op.add_column(sa.Column("description", sa.String(length=200), nullable=True))
        batch_op.drop_constraint("uq_service_capacity_service_id", type_="unique")
        batch_op.create_index("ix_service_capacity_service_id", ["service_id"], unique=False)
        batch_op.create_unique_constraint("uq_service_capacity_unit_population", ["service_id", "unit", "population"])
    services = sa.table("services", sa.column("id"), sa.column("service_type"))
    capacity = sa.table("service_capacity", sa.column("service_id"), sa.column("unit"))
    op.execute(
        capacity.update()
        .where(
            capacity.c.unit == "bed",
            capacity.c.service_id.in_(sa.select(services.c.id).where(services.c.service_type.in_(NOT_LODGING))),
        )
        .values(unit="session")
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity_id", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE referrals SET capacity_id = (SELECT c.id FROM service_capacity AS c"
        " WHERE c.service_id = referrals.service_id) WHERE place_reserved"
    )


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("capacity_id")
    with op.batch_alter_table("service_capacity", schema=None) as batch_op:
        batch_op.drop_constraint("uq_service_capacity_unit_population", type_="unique")
        batch_op.drop_index("ix_service_capacity_service_id")
        batch_op.create_unique_constraint("uq_service_capacity_service_id", ["service_id"])
        batch_op.drop_column("description")
        batch_op.drop_column("population")
