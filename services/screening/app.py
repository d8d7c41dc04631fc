"""Creates the screening service app: routes, the identity keyring and the built-in instruments."""

from __future__ import annotations

from fastapi import FastAPI

from putokaz.app import create_service_app
from putokaz.audit import audit_router
from putokaz.db import Database
from putokaz.keystore import DataKeyStore
from putokaz.retention import Task, retention_hooks
from services.screening.api import router
from services.screening.instruments import load_builtin_instruments
from services.screening.models import audit_tables, event_tables
from services.screening.places import router as places_router
from services.screening.retention import retention_tasks
from services.screening.settings import Settings
from services.screening.training.api import router as training_router
from services.screening.vault import Vault


async def _load_instruments(app: FastAPI) -> None:
    await load_builtin_instruments(app.state.db, app.state.clock)


async def _open_keystore(app: FastAPI) -> None:
    await app.state.vault.store.ensure_schema()


async def _close_keystore(app: FastAPI) -> None:
    await app.state.vault.store.db.dispose()


def _retention_tasks(app: FastAPI) -> list[Task]:
    return retention_tasks(app.state.vault, app.state.settings)


start_retention, stop_retention = retention_hooks(_retention_tasks)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Built before serving: a production process without identity keys refuses to start.
    keyring = settings.keyring()
    app = create_service_app(
        name="screening",
        settings=settings,
        routers=[router, training_router, places_router, audit_router("screening")],
        on_startup=[_load_instruments, _open_keystore, start_retention],
        on_shutdown=[stop_retention, _close_keystore],
        events=event_tables,
    )
    app.state.keyring = keyring
    # The key store is read once per request at most (keys are cached), one short statement: a small pool of its own.
    keystore = Database(
        settings.keystore_url(), pool_size=settings.keystore_pool_size, max_overflow=settings.keystore_max_overflow
    )
    app.state.vault = Vault(keyring, DataKeyStore(keystore, keyring))
    app.state.audit_tables = audit_tables
    return app
