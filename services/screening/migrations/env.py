"""Alembic environment of the screening service."""

from putokaz.migrations import run_env
from services.screening.models import Base

run_env(Base.metadata)
