"""The `make run` path: SQLite files, a generated dev secret, four processes, Ctrl-C stops them all."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from putokaz.auth import issue_token
from putokaz.settings import PROJECT_ROOT
from tests.journeys import adult_journey, wait_for

# The module starts its own processes once (a module fixture): keep its tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("dev_run")


def _free_block(size: int = 4) -> int:
    for _ in range(50):
        base = random.randint(20000, 60000)
        try:
            sockets = []
            for offset in range(size):
                sock = socket.socket()
                sock.bind(("127.0.0.1", base + offset))
                sockets.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free block of ports")


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def dev_system(tmp_path_factory: pytest.TempPathFactory):
    var_dir = tmp_path_factory.mktemp("var")
    base = _free_block()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUTOKAZ_")}
    env["PUTOKAZ_VAR_DIR"] = str(var_dir)
    log = open(var_dir / "run.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.dev", "run", "--port-base", str(base)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            ready = httpx.get(f"http://127.0.0.1:{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready:
            break
        time.sleep(0.5)
    if not ready:
        process.kill()
        pytest.fail("make run did not come up:\n" + (var_dir / "run.log").read_text()[-4000:])
    yield base, var_dir, env, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    log.close()


def _token(env: dict[str, str], role: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "deploy.dev", "token", "--role", role],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_make_run_uses_sqlite_files_and_a_generated_secret(dev_system):
    _, var_dir, _, _ = dev_system
    assert {p.name for p in Path(var_dir).glob("*.db")} >= {"screening.db", "referral.db", "registry.db"}
    secret = (Path(var_dir) / "dev-jwt-secret").read_text().strip()
    assert len(secret) >= 43
    assert secret not in (PROJECT_ROOT / "putokaz" / "settings.py").read_text()


def test_make_run_keeps_var_private(dev_system):
    _, var_dir, _, _ = dev_system
    assert Path(var_dir).stat().st_mode & 0o777 == 0o700
    files = [p for p in Path(var_dir).iterdir() if p.is_file() and p.name != "run.log"]
    assert any(p.suffix == ".db" for p in files)
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path.name


def test_make_run_routes_an_authenticated_request_to_each_service(dev_system):
    base, _, env, _ = dev_system
    with httpx.Client(base_url=f"http://127.0.0.1:{base}", timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        questionnaires = client.get(
            "/api/v1/questionnaires", headers={"Authorization": f"Bearer {_token(env, 'police')}"}
        )
        organisations = client.get(
            "/api/v1/organisations", headers={"Authorization": f"Bearer {_token(env, 'social_worker')}"}
        )
        stats = client.get(
            "/api/v1/stats/screenings",
            params={"year": 2025},
            headers={"Authorization": f"Bearer {_token(env, 'coordinator')}"},
        )
    assert questionnaires.status_code == 200, questionnaires.text
    listed = questionnaires.json()
    listed = listed["items"] if isinstance(listed, dict) else listed
    assert {q["code"] for q in listed} >= {"quick", "adult", "child"}
    assert organisations.status_code == 200, organisations.text
    assert "demo-safe-house-zenica" in organisations.text
    assert stats.status_code == 200, stats.text


def test_adult_journey_on_the_sqlite_default(dev_system):
    """The same journey as on PostgreSQL, on what `make run` starts."""
    base, var_dir, _, _ = dev_system
    secret = (Path(var_dir) / "dev-jwt-secret").read_text().strip()

    def make_token(*roles: str, org: str, sub: str | None = None) -> str:
        return issue_token(secret, sub=sub or f"dev-{roles[0]}", roles=list(roles), org=org)

    with httpx.Client(base_url=f"http://127.0.0.1:{base}", timeout=30) as client:
        adult_journey(client, make_token)


def test_ctrl_c_stops_every_process(dev_system):
    base, _, _, process = dev_system
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    # Children may close their sockets a moment after the parent exits: wait (bounded) for all to close.
    wait_for(lambda: not any(_port_open(base + i) for i in range(4)), timeout=10)
