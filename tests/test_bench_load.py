"""The load bench still runs: a tiny `python -m bench.load --quick` exits 0, prints figures and meets no 5xx."""

from __future__ import annotations

import os
import subprocess
import sys

from putokaz.settings import PROJECT_ROOT
from putokaz.testing import PostgresServer


def results(stdout: str) -> dict[str, str]:
    """RESULT lines as {figure name: value}."""
    rows = [line.split("\t") for line in stdout.splitlines() if line.startswith("RESULT\t")]
    return {row[1]: row[2] for row in rows}


def test_quick_load_bench_runs_the_whole_mix_without_server_errors(postgres_server: PostgresServer) -> None:
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--quick",
            "--screenings=20",
            "--referrals=3",
            "--stages=2",
            "--stage-seconds=2",
            "--screening-seconds=2",
            "--registry-timeout=30",
        ],
        cwd=PROJECT_ROOT,
        # The bench makes its own throwaway databases on the same server as the tests.
        env={**os.environ, "TEST_DATABASE_URL": postgres_server.admin_url},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    figures = results(process.stdout)
    assert figures, process.stdout[-3000:]

    server_errors = {name: value for name, value in figures.items() if name.endswith("5xx answers")}
    assert server_errors and set(server_errors.values()) == {"0"}, server_errors
    # The flows themselves must still match the API: a rejected step would show as a non-2xx answer.
    assert {v for n, v in figures.items() if n.endswith("non-2xx answers")} == {"0"}, process.stdout[-3000:]
    assert figures["mix c=2 flows/s"] and float(figures["mix c=2 flows/s"]) > 0
    # Screening flows alone, printed beside the figure before the hot path was trimmed (never asserted).
    assert float(figures["screening only c=16 screening flows/s"]) > 0
    assert figures["screening only c=16 baseline (before trimming)"] == "80.000"
    assert "screening only c=16 ratio to baseline" in figures
    assert figures["year replay finished"] == "yes"
    assert figures["year replay screenings submitted"] == "20"
    assert figures["year replay referrals accepted"] == "3"
    # Every replayed screening and referral reached the registry (else a "facts missing" figure is printed).
    assert "year replay total until all counted" in figures, process.stdout[-3000:]
    assert any(name.startswith("mix c=2 screening→registry") for name in figures)
