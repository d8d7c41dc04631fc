"""Gateway settings (environment prefix PUTOKAZ_)."""

from __future__ import annotations

from putokaz.settings import KernelSettings


class GatewaySettings(KernelSettings):
    screening_url: str = "http://127.0.0.1:8001"
    referral_url: str = "http://127.0.0.1:8002"
    registry_url: str = "http://127.0.0.1:8003"

    max_body_bytes: int = 1_048_576
    # Imports of historical statistics are CSV uploads; they get a larger, separate limit.
    max_import_body_bytes: int = 50 * 1_048_576
    upstream_connect_timeout_seconds: float = 2.0
    upstream_timeout_seconds: float = 30.0
    upstream_pool_size: int = 200

    # Token bucket per subject (or per client address before authentication).
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 120
    rate_limit_backend: str = "memory"

    openapi_cache_seconds: float = 60.0

    def upstreams(self) -> dict[str, str]:
        return {"screening": self.screening_url, "referral": self.referral_url, "registry": self.registry_url}
