"""Builds a service's FastAPI app: errors, request context, metrics, health, database and verifier."""

from __future__ import annotations

import cProfile
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from putokaz.admission import Admission
from putokaz.auth import Public, TokenVerifier
from putokaz.clock import SYSTEM_CLOCK, Clock
from putokaz.db import Database
from putokaz.errors import install_problem_handlers, problem_response
from putokaz.events.config import EventSettings
from putokaz.events.dispatcher import Dispatcher
from putokaz.events.outbox import EventTables
from putokaz.events.secrets import reseal_endpoint_secrets, secret_box
from putokaz.logs import configure_logging
from putokaz.middleware import RequestContextMiddleware, ServiceMetrics
from putokaz.openapi import install_problem_answers
from putokaz.query import reject_unknown_query
from putokaz.revocation import revocation_list
from putokaz.settings import KernelSettings

Hook = Callable[[FastAPI], Awaitable[None]]
logger = logging.getLogger("putokaz.app")
# Benches only (`python -m bench.load --profile DIR`): a directory where the process writes a cProfile
# of its whole life (<service>-<pid>.prof) when it stops. Never set in production: profiling costs CPU.
PROFILE_DIR_VARIABLE = "PUTOKAZ_PROFILE_DIR"


def _start_profile() -> cProfile.Profile | None:
    if not os.environ.get(PROFILE_DIR_VARIABLE):
        return None
    profile = cProfile.Profile()
    profile.enable()
    return profile


def _write_profile(profile: cProfile.Profile | None, name: str) -> None:
    if profile is None:
        return
    profile.disable()
    profile.dump_stats(os.path.join(os.environ[PROFILE_DIR_VARIABLE], f"{name}-{os.getpid()}.prof"))


async def _reseal_secrets(app: FastAPI) -> None:
    """Seal endpoint secrets stored in clear (older rows) or under a retired key; a failure waits for the next start."""
    try:
        resealed = await reseal_endpoint_secrets(app.state.db, app.state.event_tables, app.state.secret_box)
    except Exception:
        logger.exception("could not re-seal webhook endpoint secrets")
        return
    if resealed:
        logger.info("webhook endpoint secrets re-sealed", extra={"count": resealed})


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"], dependencies=[Depends(Public())])

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        try:
            await request.app.state.db.ping()
        except Exception:
            return problem_response(503, "The database is not reachable", headers={"Retry-After": "5"})
        return JSONResponse({"status": "ready"})

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def create_service_app(
    *,
    name: str,
    settings: KernelSettings,
    routers: Sequence[APIRouter],
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    description: str = "",
    configure_logs: bool = True,
    events: EventTables | None = None,
    event_settings: EventSettings | None = None,
    clock: Clock | None = None,
    **fastapi_kw: Any,
) -> FastAPI:
    if configure_logs:
        configure_logging(name, settings.log_level)
    if not settings.database_url:
        raise ValueError(f"PUTOKAZ_DATABASE_URL is required for the {name} service")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        profile = _start_profile()
        for hook in on_startup:
            await hook(app)
        if app.state.event_tables is not None:
            await _reseal_secrets(app)
        # The outbox dispatcher runs inside each service process that passes its event tables.
        if app.state.event_tables is not None and app.state.event_settings.dispatcher_enabled:
            app.state.dispatcher = Dispatcher(
                app.state.db,
                app.state.event_tables,
                app.state.event_settings,
                environment=settings.environment,
                clock=clock or SYSTEM_CLOCK,
                box=app.state.secret_box,
            )
            app.state.dispatcher.start()
        try:
            yield
        finally:
            if app.state.dispatcher is not None:
                await app.state.dispatcher.stop()
                app.state.dispatcher = None
            for hook in on_shutdown:
                await hook(app)
            if app.state.revocations is not None:
                await app.state.revocations.store.close()
            await app.state.db.dispose()
            _write_profile(profile, name)

    app = FastAPI(
        title=f"Putokaz {name}",
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        **fastapi_kw,
    )
    app.state.settings = settings
    app.state.service_name = name
    # Routes read the time through putokaz.clock.Now; tests pass a FakeClock here.
    app.state.clock = clock or SYSTEM_CLOCK
    app.state.db = Database(
        settings.database_url, pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow
    )
    app.state.revocations = revocation_list(settings)
    app.state.verifier = TokenVerifier(settings, revocations=app.state.revocations)
    app.state.metrics = ServiceMetrics(name)
    app.state.event_tables = events
    app.state.event_settings = event_settings or EventSettings()
    # Built now so that production without PUTOKAZ_WEBHOOK_SECRET_KEYS refuses to start.
    app.state.secret_box = (
        secret_box(
            app.state.event_settings.webhook_secret_keys,
            app.state.event_settings.webhook_secret_active_key,
            settings.environment,
        )
        if events is not None
        else None
    )
    app.state.dispatcher = None
    install_problem_handlers(app)
    app.include_router(health_router())
    for router in routers:
        # Every route refuses query parameters it does not declare: a misspelt filter must not answer everything.
        app.include_router(router, dependencies=[Depends(reject_unknown_query)])
    install_problem_answers(app)
    # Outermost last: request id and metrics see every answer, the token is checked before any body is read.
    app.add_middleware(Admission, verifier=app.state.verifier, body_limit=settings.body_limit_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
