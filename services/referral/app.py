"""Creates the referral service app."""

from fastapi import FastAPI

from putokaz.app import create_service_app
from services.referral.api import router
from services.referral.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(name="referral", settings=settings or Settings(), routers=[router])
