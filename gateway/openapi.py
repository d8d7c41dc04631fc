"""Merges the services' OpenAPI documents into one, keeping only routes the policy table exposes."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from gateway.app import Gateway

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


class OpenApiMerger:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0

    async def document(self) -> dict[str, Any]:
        ttl = self.gateway.settings.openapi_cache_seconds
        if self._cached is not None and time.monotonic() - self._cached_at < ttl:
            return self._cached
        names = self.gateway.upstreams.names
        fetched = await asyncio.gather(*(self._fetch(name) for name in names))
        merged = merge(dict(zip(names, fetched, strict=True)), self.gateway.policy)
        if all(fetched):
            self._cached, self._cached_at = merged, time.monotonic()
        return merged

    async def _fetch(self, service: str) -> dict[str, Any] | None:
        upstreams = self.gateway.upstreams
        for base in upstreams.replicas[service].in_turn():  # every replica serves the same document
            try:
                async with upstreams.session.get(
                    base + "/openapi.json", timeout=aiohttp.ClientTimeout(total=5)
                ) as response:
                    if response.status == 200:
                        return await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
                continue
        return None


def merge(documents: dict[str, dict[str, Any] | None], policy: Any) -> dict[str, Any]:
    """One OpenAPI 3.1 document; a schema name used differently by two services gets a service prefix."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    missing = []
    for service, document in documents.items():
        if not document:
            missing.append(service)
            continue
        own_schemas = document.get("components", {}).get("schemas", {})
        renames = {}
        for name, schema in own_schemas.items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{service}_{name}"
        for name, schema in own_schemas.items():
            schemas[renames.get(name, name)] = _rewrite_refs(schema, renames)
        for path, operations in document.get("paths", {}).items():
            kept = {}
            sample = re.sub(r"\{[^}]+\}", "x1", path)
            for method, operation in operations.items():
                rule = policy.match(method.upper(), sample) if method in HTTP_METHODS else None
                if rule is not None:
                    operation = _rewrite_refs(operation, renames)
                    operation["security"] = [{"bearerAuth": []}]
                    operation.setdefault("description", "")
                    operation["description"] += f"\n\nRoles: {', '.join(sorted(rule.roles))}."
                    kept[method] = operation
            if kept:
                paths.setdefault(path, {}).update(kept)
    from gateway.revocations import OPENAPI_PATHS

    for path, operations in OPENAPI_PATHS.items():
        paths[path] = {m: {**op, "security": [{"bearerAuth": []}]} for m, op in operations.items()}
    info_description = "One public API for screening, referral and statistics. Every route needs a bearer token."
    if missing:
        info_description += f" Unavailable right now: {', '.join(missing)}."
    return {
        "openapi": "3.1.0",
        "info": {"title": "Putokaz API", "version": "1", "description": info_description},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return node
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = "#/components/schemas/" + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node
