"""Creates the registry service app."""

from datetime import timedelta

from fastapi import FastAPI

from putokaz.app import create_service_app
from putokaz.audit import audit_router
from putokaz.retention import Task, processed_webhooks_task, retention_hooks
from services.registry.api import internal_router, router
from services.registry.models import audit_tables, processed_webhooks
from services.registry.settings import Settings


def _retention_tasks(app: FastAPI) -> list[Task]:
    settings = app.state.settings
    return [
        processed_webhooks_task(processed_webhooks, timedelta(days=settings.retention_processed_webhooks_days)),
    ]


start_retention, stop_retention = retention_hooks(_retention_tasks)


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        name="registry",
        settings=settings or Settings(),
        routers=[router, internal_router, audit_router("registry")],
        on_startup=[start_retention],
        on_shutdown=[stop_retention],
        description="Anonymised facts and national statistics: perturbed explorer tables and audited releases.",
    )
    app.state.audit_tables = audit_tables
    return app
