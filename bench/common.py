"""Shared benchmark plumbing: a PostgreSQL server for throwaway databases, percentiles, result lines."""

from __future__ import annotations

import os
import statistics
import sys

from putokaz.testing import PostgresServer

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_server() -> PostgresServer:
    """Benchmarks run against TEST_DATABASE_URL, else the local server (never a remote one)."""
    return PostgresServer(os.environ.get("TEST_DATABASE_URL", LOCAL_POSTGRES))


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def result(name: str, value: float | str, unit: str = "", target: str = "") -> None:
    """One machine-readable line per figure; `make bench` gathers them into a summary table."""
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"RESULT\t{name}\t{shown}\t{unit}\t{target}", flush=True)
    sys.stdout.flush()
