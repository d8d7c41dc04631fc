"""Creates the registry service app."""

from fastapi import FastAPI

from putokaz.app import create_service_app
from putokaz.audit import audit_router
from services.registry.api import internal_router, router
from services.registry.models import audit_tables
from services.registry.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        name="registry",
        settings=settings or Settings(),
        routers=[router, internal_router, audit_router("registry")],
        description="Anonymised facts and national statistics: perturbed explorer tables and audited releases.",
    )
    app.state.audit_tables = audit_tables
    return app
