"""Creates the screening service app."""

from fastapi import FastAPI

from putokaz.app import create_service_app
from services.screening.api import router
from services.screening.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(name="screening", settings=settings or Settings(), routers=[router])
