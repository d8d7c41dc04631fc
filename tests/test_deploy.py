"""docker-compose.yml and the Dockerfile, checked by parsing (no Docker engine on CI machines)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import yaml

from deploy.processes import GATEWAY_PORT, SERVICES
from gateway.settings import GatewaySettings
from putokaz.events.config import EventSettings
from putokaz.settings import PROJECT_ROOT, KernelSettings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
PROCESSES = {"gateway": GATEWAY_PORT, **{s.name: s.port for s in SERVICES}}


def _settings_fields() -> set[str]:
    fields = set(KernelSettings.model_fields) | set(GatewaySettings.model_fields) | set(EventSettings.model_fields)
    for service in SERVICES:
        module = importlib.import_module(f"services.{service.name}.settings")
        fields |= set(module.Settings.model_fields)
    return fields


def test_compose_runs_postgres_migration_every_service_and_gateway():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "migrate", "gateway", "screening", "referral", "registry", "strategy"}
    assert services["postgres"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("screening", "referral", "registry", "strategy"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_each_process_command_names_a_real_app_on_its_port():
    for name, port in PROCESSES.items():
        command = COMPOSE["services"][name]["command"]
        target = command[command.index("--factory") + 1]
        module_name, factory = target.split(":")
        assert callable(getattr(importlib.import_module(module_name), factory))
        assert command[command.index("--port") + 1] == str(port)
        healthcheck = " ".join(COMPOSE["services"][name]["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/" in healthcheck


def test_only_the_gateway_publishes_a_port():
    published = {name for name, svc in COMPOSE["services"].items() if svc.get("ports")}
    assert published == {"gateway"}
    assert COMPOSE["services"]["gateway"]["ports"] == [f"{GATEWAY_PORT}:{GATEWAY_PORT}"]


def test_gateway_upstreams_point_at_the_compose_services():
    env = COMPOSE["services"]["gateway"]["environment"]
    for service in SERVICES:
        assert env[f"PUTOKAZ_{service.name.upper()}_URL"] == f"http://{service.name}:{service.port}"
    assert COMPOSE["services"]["strategy"]["environment"]["PUTOKAZ_REGISTRY_URL"] == "http://registry:8003"


def test_every_putokaz_variable_is_a_real_setting_and_secrets_are_not_inline():
    fields = _settings_fields() | {f"{s.name}_database_url" for s in SERVICES}
    for name, service in COMPOSE["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if key.startswith("PUTOKAZ_"):
                assert key.removeprefix("PUTOKAZ_").lower() in fields, (name, key)
            if "SECRET" in key or "KEY" in key or "PASSWORD" in key:
                assert str(value).startswith("${"), (name, key)


def test_each_service_database_is_created_by_the_init_script():
    init = (PROJECT_ROOT / "deploy" / "postgres-init.sql").read_text()
    for service in SERVICES:
        database = f"putokaz_{service.name}"
        assert f"CREATE DATABASE {database};" in init
        assert COMPOSE["services"][service.name]["environment"]["PUTOKAZ_DATABASE_URL"].endswith("/" + database)


def test_dockerfile_runs_as_non_root_in_production_mode():
    dockerfile = (Path(PROJECT_ROOT) / "deploy" / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "PUTOKAZ_ENVIRONMENT=production" in dockerfile
