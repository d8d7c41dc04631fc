"""Cross-service tests: the test that restarts PostgreSQL runs last, so it cannot disturb the others."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("restarts_postgres") is not None)
