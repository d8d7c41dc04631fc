"""Gateway settings (environment prefix PUTOKAZ_)."""

from __future__ import annotations

from gateway.forwarded import Network, parse_networks
from gateway.proxy import UpstreamLimits
from putokaz.settings import PROJECT_ROOT, KernelSettings


class GatewaySettings(KernelSettings):
    # Each service's base URL; several replicas of a service are listed comma-separated and taken in turn.
    screening_url: str = "http://127.0.0.1:8001"
    referral_url: str = "http://127.0.0.1:8002"
    registry_url: str = "http://127.0.0.1:8003"
    strategy_url: str = "http://127.0.0.1:8004"

    max_body_bytes: int = 1_048_576
    # Imports of historical statistics are CSV uploads; they get a larger, separate limit.
    max_import_body_bytes: int = 50 * 1_048_576

    # The hop to the services (gateway/proxy.py). Keep-alive stays below uvicorn's 5 s so a service
    # never closes a connection the gateway is about to reuse.
    upstream_connections: int = 100
    upstream_keepalive_seconds: float = 2.0
    upstream_queue_seconds: float = 5.0
    upstream_connect_timeout_seconds: float = 2.0
    # A replica that refused a connection is passed over this long (the others take its requests).
    upstream_down_seconds: float = 5.0
    upstream_timeout_seconds: float = 30.0

    # Token bucket per subject (or per client address before authentication).
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 120
    rate_limit_backend: str = "memory"

    # Comma-separated addresses/networks whose X-Forwarded-For is believed; empty: nobody's.
    trusted_proxies: str = ""

    openapi_cache_seconds: float = 60.0

    # The web app (web/): where its files are, and the OpenID Connect provider it signs in with.
    web_root: str = str(PROJECT_ROOT / "web")
    # Serve the app's modules linked into one file (gateway/bundle.py); false serves them one by one.
    web_bundle: bool = True
    oidc_issuer: str | None = None
    oidc_client_id: str = "putokaz-web"
    oidc_scope: str = "openid"
    readyz_cache_seconds: float = 2.0

    def upstreams(self) -> dict[str, str]:
        return {
            "screening": self.screening_url,
            "referral": self.referral_url,
            "registry": self.registry_url,
            "strategy": self.strategy_url,
        }

    def upstream_limits(self) -> UpstreamLimits:
        return UpstreamLimits(
            connections_per_upstream=self.upstream_connections,
            keepalive_seconds=self.upstream_keepalive_seconds,
            queue_seconds=self.upstream_queue_seconds,
            connect_seconds=self.upstream_connect_timeout_seconds,
            down_seconds=self.upstream_down_seconds,
            answer_seconds=self.upstream_timeout_seconds,
        )

    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)
