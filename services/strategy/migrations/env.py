"""Alembic environment of the strategy service."""

from putokaz.migrations import run_env
from services.strategy.models import Base

run_env(Base.metadata)
