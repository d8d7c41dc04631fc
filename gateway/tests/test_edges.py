"""The gateway's own routes do not leak activity or multiply load: /metrics for admins, /readyz cached."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from gateway.settings import GatewaySettings
from gateway.tests.test_gateway_local import _settings, gateway_client
from putokaz.testing import auth, free_port


@asynccontextmanager
async def counting_upstreams(names: tuple[str, ...]) -> AsyncIterator[tuple[dict[str, str], Counter[str]]]:
    probes: Counter[str] = Counter()
    runners, urls = [], {}
    for name in names:

        async def ready(_: web.Request, name: str = name) -> web.Response:
            probes[name] += 1
            await asyncio.sleep(0.05)
            return web.json_response({"status": "ready"})

        app = web.Application()
        app.router.add_get("/readyz", ready)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        urls[f"{name}_url"] = f"http://127.0.0.1:{port}"
    try:
        yield urls, probes
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_readyz_calls_share_probes(jwt_secret):
    assert GatewaySettings.model_fields["readyz_cache_seconds"].default <= 2
    async with counting_upstreams(("screening", "referral", "registry", "strategy")) as (urls, probes):
        async with gateway_client(_settings(jwt_secret, **urls)) as client:
            answers = await asyncio.gather(*(client.get("/readyz") for _ in range(150)))
    assert {a.status_code for a in answers} == {200}
    assert probes == {"screening": 1, "referral": 1, "registry": 1, "strategy": 1}


async def test_metrics_need_an_admin_token(jwt_secret, make_token):
    async with gateway_client(_settings(jwt_secret)) as client:
        await client.get("/api/v1/screenings", headers=auth(make_token("police")))
        anonymous = await client.get("/metrics")
        police = await client.get("/metrics", headers=auth(make_token("police")))
        admin = await client.get("/metrics", headers=auth(make_token("admin")))
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == "application/problem+json"
    assert police.status_code == 403
    assert admin.status_code == 200
    assert 'route="/api/v1/screenings"' in admin.text
