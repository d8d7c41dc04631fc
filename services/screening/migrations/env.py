"""Alembic environment of the screening service."""

from putokaz.migrations import run_env
from services.screening.models import Base
from services.screening.training import models as training_models  # noqa: F401  (its tables join Base)

run_env(Base.metadata)
