"""Creates the referral service app."""

from datetime import timedelta

from fastapi import FastAPI

from putokaz.app import create_service_app
from putokaz.audit import audit_router
from putokaz.clock import Clock
from putokaz.retention import (
    Task,
    delivered_events_task,
    idempotency_keys_task,
    processed_webhooks_task,
    retention_hooks,
)
from services.referral.directory.api import router as directory_router
from services.referral.directory.candidates import CandidateCache
from services.referral.feed.api import internal_router as feed_router
from services.referral.hsds.api import router as hsds_router
from services.referral.models import audit_tables, event_tables, idempotency_keys, processed_webhooks
from services.referral.referrals.api import router as referral_router
from services.referral.referrals.scheduler import start_scheduler, stop_scheduler
from services.referral.settings import Settings
from services.referral.webhooks.api import router as webhooks_router


def _retention_tasks(app: FastAPI) -> list[Task]:
    settings = app.state.settings
    return [
        delivered_events_task(event_tables, timedelta(days=settings.retention_delivered_events_days)),
        idempotency_keys_task(idempotency_keys, timedelta(hours=settings.retention_idempotency_hours)),
        # The screening feed's deduplication records: a redelivery can come until the sender purges it.
        processed_webhooks_task(processed_webhooks, timedelta(days=settings.retention_processed_webhooks_days)),
    ]


start_retention, stop_retention = retention_hooks(_retention_tasks)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """`clock` replaces the real UTC clock (tests move time to reach deadlines)."""
    app = create_service_app(
        name="referral",
        settings=settings or Settings(),
        routers=[
            directory_router,
            hsds_router,
            referral_router,
            webhooks_router,
            feed_router,
            audit_router("referral"),
        ],
        events=event_tables,
        on_startup=[start_scheduler, start_retention],
        on_shutdown=[stop_retention, stop_scheduler],
        clock=clock,
    )
    app.state.candidate_cache = CandidateCache()
    app.state.audit_tables = audit_tables
    return app
