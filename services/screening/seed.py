"""Demo data for `make run`: the built-in instruments (screenings themselves are never seeded)."""

from __future__ import annotations

from putokaz.db import Database
from services.screening.instruments import load_builtin_instruments


async def load_demo_data(db: Database) -> None:
    await load_builtin_instruments(db)
