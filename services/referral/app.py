"""Creates the referral service app."""

from fastapi import FastAPI

from putokaz.app import create_service_app
from putokaz.audit import audit_router
from putokaz.clock import Clock
from services.referral.directory.api import router as directory_router
from services.referral.directory.candidates import CandidateCache
from services.referral.feed.api import internal_router as feed_router
from services.referral.models import audit_tables, event_tables
from services.referral.referrals.api import router as referral_router
from services.referral.referrals.scheduler import start_scheduler, stop_scheduler
from services.referral.settings import Settings
from services.referral.webhooks.api import router as webhooks_router


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """`clock` replaces the real UTC clock (tests move time to reach deadlines)."""
    app = create_service_app(
        name="referral",
        settings=settings or Settings(),
        routers=[directory_router, referral_router, webhooks_router, feed_router, audit_router("referral")],
        events=event_tables,
        on_startup=[start_scheduler],
        on_shutdown=[stop_scheduler],
        clock=clock,
    )
    app.state.candidate_cache = CandidateCache()
    app.state.audit_tables = audit_tables
    return app
