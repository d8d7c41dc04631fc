"""Thresholds and ptable parameters refuse unsafe values; the SQLite default (make run) migrates and answers."""

from __future__ import annotations

import asyncio

import pytest

from putokaz.auth import issue_token
from putokaz.migrations import upgrade
from putokaz.testing import TEST_ISSUER, app_client, auth, service_migrations, settings_kwargs
from services.registry.app import create_app
from services.registry.imports import COLUMNS
from services.registry.settings import Settings
from services.registry.tests.conftest import FEED_SECRET, LAST_YEAR, screening_fact, send_all


@pytest.mark.parametrize(
    "overrides",
    [
        {"stats_threshold": 2},
        {"stats_sensitive_threshold": 4},
        {"stats_threshold": 8, "stats_sensitive_threshold": 6},
        {"stats_ptable_max_deviation": 0},
        {"stats_ptable_variance": 9.0},
        {"stats_ptable_smallest_count": 0},
    ],
)
def test_thresholds_below_safe_minimums_are_refused(jwt_secret, overrides) -> None:
    with pytest.raises(ValueError):
        Settings(**settings_kwargs(jwt_secret, "sqlite+aiosqlite:///:memory:"), **overrides)


def test_production_needs_a_feed_secret_and_publishes_closed_periods_only(jwt_secret) -> None:
    kwargs = {**settings_kwargs(jwt_secret, "sqlite+aiosqlite:///:memory:"), "environment": "production"}
    with pytest.raises(ValueError, match="REGISTRY_FEED_SECRET"):
        Settings(**kwargs)
    settings = Settings(**kwargs, registry_feed_secret=FEED_SECRET)
    assert settings.closed_periods_only()


async def test_sqlite_default_migrates_ingests_imports_and_answers(tmp_path, jwt_secret) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    await asyncio.to_thread(upgrade, service_migrations("registry"), url)
    app = create_app(Settings(**settings_kwargs(jwt_secret, url), registry_feed_secret=FEED_SECRET))
    coordinator = auth(issue_token(jwt_secret, sub="c", roles=["coordinator"], org="o", issuer=TEST_ISSUER))
    admin = auth(issue_token(jwt_secret, sub="a", roles=["admin"], org="o", issuer=TEST_ISSUER))
    async with app_client(app) as client:
        await send_all(client, [screening_fact(forms=["sexual", "begging"]) for _ in range(11)])
        fact = screening_fact(year=LAST_YEAR - 1)
        header = ",".join(COLUMNS["screening"])
        line = ",".join(
            "|".join(fact[c]) if c == "forms" else str(fact[c]).lower() if isinstance(fact[c], bool) else str(fact[c])
            for c in COLUMNS["screening"]
        )
        imported = await client.post(
            "/api/v1/imports", content=f"{header}\n{line}\n", headers={**admin, "Content-Type": "text/csv"}
        )
        assert imported.status_code == 201, imported.text
        answer = await client.get(
            "/api/v1/stats/victims", params={"year": LAST_YEAR, "by": "form,sex"}, headers=coordinator
        )
        report = await client.get("/api/v1/reports/eurostat", params={"year": LAST_YEAR}, headers=coordinator)
    assert answer.status_code == 200 and report.status_code == 200
    cells = answer.json()["cells"]
    # 11 persons, perturbed by at most D = 2.
    assert abs(next(c for c in cells if c["form"] == "begging" and c["sex"] == "F")["count"] - 11) <= 2
