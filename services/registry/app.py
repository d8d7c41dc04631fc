"""Creates the registry service app."""

from fastapi import FastAPI

from putokaz.app import create_service_app
from services.registry.api import internal_router, router
from services.registry.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name="registry",
        settings=settings or Settings(),
        routers=[router, internal_router],
        description="Anonymised facts and national statistics with disclosure control (DESIGN.md §9).",
    )
