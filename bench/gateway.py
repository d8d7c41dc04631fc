"""Throughput and latency of one endpoint, called directly and through the gateway (target ≥ 0.6×)."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import percentile, postgres_server, result
from putokaz.auth import issue_token, new_secret
from putokaz.testing import TEST_AUDIENCE, TEST_ISSUER, UvicornProcess, process_environment, service_migrations


async def load(url: str, token: str, seconds: float, concurrency: int) -> tuple[int, int, list[float]]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), errors, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service", default="screening")
    parser.add_argument(
        "--path", action="append", help="endpoint(s) to compare; default: a light list and a heavier document"
    )
    parser.add_argument("--role", default="police")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    server = postgres_server()
    secret = new_secret()
    env = {**process_environment(secret), "PUTOKAZ_LOG_LEVEL": "WARNING"}
    logs = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    url = server.create_database(f"bench_{args.service}", service_migrations(args.service))
    service = UvicornProcess(
        f"services.{args.service}.app:create_app", {**env, "PUTOKAZ_DATABASE_URL": url}, log_path=logs / "service.log"
    )
    gateway = None
    try:
        service.start()
        gateway = UvicornProcess(
            "gateway.app:create_app",
            {
                **env,
                f"PUTOKAZ_{args.service.upper()}_URL": service.url,
                "PUTOKAZ_RATE_LIMIT_PER_MINUTE": "100000000",
                "PUTOKAZ_RATE_LIMIT_BURST": "1000000",
            },
            log_path=logs / "gateway.log",
        ).start()
        token = issue_token(
            secret, sub="bench", roles=[args.role], org="bench-org", issuer=TEST_ISSUER, audience=TEST_AUDIENCE
        )
        for path in args.path or ["/api/v1/screenings?limit=1", "/api/v1/questionnaires"]:
            figures = {}
            for label, base in (("direct", service.url), ("gateway", gateway.url)):
                asyncio.run(load(base + path, token, 1.0, args.concurrency))  # warm-up
                count, errors, latencies = asyncio.run(load(base + path, token, args.seconds, args.concurrency))
                rps = count / args.seconds
                figures[label] = rps
                result(f"{path} {label} requests/s", rps, "req/s")
                result(f"{path} {label} p50", percentile(latencies, 0.5) * 1000, "ms")
                result(f"{path} {label} p99", percentile(latencies, 0.99) * 1000, "ms")
                result(f"{path} {label} non-200 answers", str(errors))
            result(f"{path} gateway/direct throughput ratio", figures["gateway"] / figures["direct"], "x", ">= 0.6")
    finally:
        if gateway is not None:
            gateway.stop()
        service.stop()
        server.drop_all()


if __name__ == "__main__":
    main()
