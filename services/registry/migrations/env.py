"""Alembic environment of the registry service."""

from putokaz.migrations import run_env
from services.registry.models import Base

run_env(Base.metadata)
