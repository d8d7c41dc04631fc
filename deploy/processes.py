"""The Putokaz processes: where each lives, its port and its migrations."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from putokaz.db import Database
from putokaz.settings import PROJECT_ROOT, VAR_DIR


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    port: int
    app: str

    @property
    def migrations_dir(self) -> Path:
        return PROJECT_ROOT / "services" / self.name / "migrations"

    @property
    def dev_database_url(self) -> str:
        return f"sqlite+aiosqlite:///{VAR_DIR / (self.name + '.db')}"

    def create_app(self, **settings: Any) -> Any:
        """The service's FastAPI app built in this process with these settings (route and schema walks)."""
        module_name, factory = self.app.split(":")
        settings_class = importlib.import_module(f"services.{self.name}.settings").Settings
        return getattr(importlib.import_module(module_name), factory)(settings_class(**settings))

    async def load_demo_data(self, database_url: str) -> None:
        """The demo data `make run` shows (instruments, the BiH-shaped directory); none if no seed module."""
        try:
            module = importlib.import_module(f"services.{self.name}.seed")
        except ModuleNotFoundError:
            return
        db = Database(database_url)
        try:
            await module.load_demo_data(db)
        finally:
            await db.dispose()


SERVICES = (
    ServiceProcess("screening", 8001, "services.screening.app:create_app"),
    ServiceProcess("referral", 8002, "services.referral.app:create_app"),
    ServiceProcess("registry", 8003, "services.registry.app:create_app"),
    ServiceProcess("strategy", 8004, "services.strategy.app:create_app"),
)
GATEWAY_PORT = 8000
GATEWAY_APP = "gateway.app:create_app"

DEMO_ORGS = {
    "police": "demo-police-una-sana",
    "social_worker": "demo-csw-sarajevo",
    "service_provider": "demo-safe-house-zenica",
    "coordinator": "demo-state-coordinator",
    "partner": "demo-partner-ngo",
    "admin": "demo-admin",
    "reporter": "demo-ministry-security",
    # A trainee practises at their own organisation (here a social welfare centre) on fictional cases only.
    "trainee": "demo-csw-sarajevo",
}
