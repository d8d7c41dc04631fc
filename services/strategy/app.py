"""Creates the strategy monitor service app."""

from fastapi import FastAPI

from putokaz.app import create_service_app
from putokaz.audit import audit_router
from putokaz.clock import Clock
from services.strategy.api import router
from services.strategy.computed import RegistryClient
from services.strategy.models import audit_tables, event_tables
from services.strategy.overdue import start_sweeper, stop_sweeper
from services.strategy.settings import Settings


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, registry: RegistryClient | None = None
) -> FastAPI:
    """`clock` replaces the real UTC clock (tests reach deadlines); `registry` the registry client."""
    settings = settings or Settings()
    app = create_service_app(
        name="strategy",
        settings=settings,
        routers=[router, audit_router("strategy")],
        events=event_tables,
        on_startup=[start_sweeper],
        on_shutdown=[stop_sweeper],
        clock=clock,
        description="The national strategy's action plan: indicators, reports and progress.",
    )
    app.state.audit_tables = audit_tables
    app.state.registry = registry or RegistryClient(settings)
    return app
