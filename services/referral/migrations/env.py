"""Alembic environment of the referral service."""

from putokaz.migrations import run_env
from services.referral.models import Base

run_env(Base.metadata)
