"""Kernel test fixtures: a small service app on a throwaway PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text

from putokaz.app import create_service_app
from putokaz.auth import Authorize, Principal
from putokaz.db import DbSession, create_engine
from putokaz.settings import KernelSettings
from putokaz.testing import PostgresServer, settings_kwargs


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=50)
    pages: int = Field(ge=1)


def kernel_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.post("/notes", status_code=201)
    async def create_note(
        body: NoteCreate, session: DbSession, principal: Principal = Depends(Authorize("police"))
    ) -> dict[str, str]:
        await session.execute(
            text("INSERT INTO notes (title, org) VALUES (:t, :o)"), {"t": body.title, "o": principal.org}
        )
        return {"status": "created"}

    @router.get("/whoami")
    async def whoami(principal: Principal = Depends(Authorize("police", "admin"))) -> dict[str, object]:
        return {"sub": principal.sub, "org": principal.org, "roles": sorted(principal.roles)}

    return router


@pytest.fixture(scope="session")
def kernel_db_url(postgres_server: PostgresServer) -> str:
    url = postgres_server.create_database("kernel")

    async def prepare() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            # A deferred unique constraint fails at COMMIT, not at INSERT: the failed-commit case.
            await conn.execute(
                text(
                    "CREATE TABLE notes (id serial primary key, title text not null, org text not null, "
                    "CONSTRAINT uq_notes_title UNIQUE (title) DEFERRABLE INITIALLY DEFERRED)"
                )
            )
        await engine.dispose()

    asyncio.run(prepare())
    return url


@pytest.fixture(scope="session")
def kernel_settings(kernel_db_url: str, jwt_secret: str) -> KernelSettings:
    return KernelSettings(**settings_kwargs(jwt_secret, kernel_db_url))


@pytest.fixture
async def kernel_app(kernel_settings: KernelSettings) -> AsyncIterator[object]:
    app = create_service_app(
        name="kernel-test", settings=kernel_settings, routers=[kernel_router()], configure_logs=False
    )
    yield app
