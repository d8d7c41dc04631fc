"""Kubernetes manifests, checked by parsing: probes, limits, secrets by reference, autoscaling, isolation."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from deploy.processes import GATEWAY_PORT, SERVICES
from putokaz.settings import PROJECT_ROOT

K8S = Path(PROJECT_ROOT) / "deploy" / "k8s"
PORTS = {"gateway": GATEWAY_PORT, **{s.name: s.port for s in SERVICES}}


def _docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def _applied() -> list[dict]:
    kustomization = _docs("kustomization.yaml")[0]
    return [doc for resource in kustomization["resources"] for doc in _docs(resource)]


def _by_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in _applied() if d["kind"] == kind}


def test_kustomization_lists_every_manifest_but_the_secret_example():
    listed = set(_docs("kustomization.yaml")[0]["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secrets.example.yaml"}
    assert listed == present


def test_each_process_has_a_deployment_with_probes_limits_and_non_root():
    deployments = _by_kind("Deployment")
    assert set(deployments) == set(PORTS)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        command = container["command"]
        assert command[command.index("--port") + 1] == str(PORTS[name])
        module, factory = command[command.index("--factory") + 1].split(":")
        assert callable(getattr(importlib.import_module(module), factory))
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_services_select_their_deployments_on_the_right_port():
    deployments = _by_kind("Deployment")
    for name, service in _by_kind("Service").items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert service["spec"]["ports"][0]["port"] == PORTS[name]


def test_secrets_are_referenced_never_inlined_and_all_exist_in_the_example():
    example = {d["metadata"]["name"]: set(d["stringData"]) for d in _docs("secrets.example.yaml")}
    assert not _by_kind("Secret"), "real secrets must not be applied from the repository"
    for doc in _applied():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                if "SECRET" in env["name"] or "KEY" in env["name"] or "DATABASE_URL" in env["name"]:
                    ref = env["valueFrom"]["secretKeyRef"]
                    assert ref["key"] in example[ref["name"]], (doc["metadata"]["name"], env["name"])


def test_stateless_parts_autoscale():
    hpas = _by_kind("HorizontalPodAutoscaler")
    deployments = _by_kind("Deployment")
    assert set(hpas) == set(deployments)
    for hpa in hpas.values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2


def test_migration_job_runs_every_service_migration():
    job = _by_kind("Job")["putokaz-migrate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][-1] == "deploy.migrate_all"
    names = {e["name"] for e in container["env"]}
    assert names == {f"PUTOKAZ_{s.name.upper()}_DATABASE_URL" for s in SERVICES}


def test_network_policy_lets_only_the_gateway_reach_the_services():
    policies = _by_kind("NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"]["podSelector"] == {}
    services_policy = policies["services-from-gateway"]
    selected = services_policy["spec"]["podSelector"]["matchExpressions"][0]["values"]
    assert set(selected) == {s.name for s in SERVICES}
    sources = [p["podSelector"]["matchLabels"] for rule in services_policy["spec"]["ingress"] for p in rule["from"]]
    assert sources == [{"app.kubernetes.io/name": "gateway"}]
    feed_sources = {
        p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in policies["registry-feed-from-services"]["spec"]["ingress"]
        for p in rule["from"]
    }
    assert feed_sources == {"screening", "referral"}
    stats_sources = [
        p["podSelector"]["matchLabels"]
        for rule in policies["registry-stats-from-strategy"]["spec"]["ingress"]
        for p in rule["from"]
    ]
    assert stats_sources == [{"app.kubernetes.io/name": "strategy"}]


def test_every_putokaz_variable_in_the_manifests_is_a_real_setting():
    from tests.test_deploy import _settings_fields

    fields = _settings_fields() | {f"{s.name}_database_url" for s in SERVICES}
    names = set(_by_kind("ConfigMap")["putokaz-config"]["data"])
    for doc in _applied():
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                names |= {e["name"] for e in container.get("env", [])}
    unknown = sorted(n for n in names if n.startswith("PUTOKAZ_") and n.removeprefix("PUTOKAZ_").lower() not in fields)
    assert unknown == []


def _env_value(container: dict, name: str) -> object:
    for env in container.get("env", []):
        if env["name"] == name:
            return env.get("value", env.get("valueFrom"))
    return _by_kind("ConfigMap")["putokaz-config"]["data"].get(name)


def test_several_gateway_replicas_never_use_the_in_memory_rate_limiter():
    hpas = _by_kind("HorizontalPodAutoscaler")
    for name, deployment in _by_kind("Deployment").items():
        if name != "gateway":
            continue
        replicas = max(deployment["spec"].get("replicas", 1), hpas.get(name, {}).get("spec", {}).get("minReplicas", 1))
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        backend = _env_value(container, "PUTOKAZ_RATE_LIMIT_BACKEND")
        if replicas > 1:
            # Unset means the in-memory default: each replica would count on its own.
            assert backend not in (None, "memory"), f"{replicas} gateway replicas with the in-memory limiter"


def test_uvicorn_never_trusts_forwarded_headers_by_itself():
    commands = [
        c["command"]
        for d in _by_kind("Deployment").values()
        for c in d["spec"]["template"]["spec"]["containers"]
        if "uvicorn" in c["command"]
    ]
    compose = yaml.safe_load((Path(PROJECT_ROOT) / "docker-compose.yml").read_text())
    commands += [s["command"] for s in compose["services"].values() if "uvicorn" in s.get("command", [])]
    dockerfile = (Path(PROJECT_ROOT) / "deploy" / "Dockerfile").read_text()
    assert len(commands) == 2 * (len(SERVICES) + 1)  # every process, in Kubernetes and in compose
    for command in commands:
        assert "--no-proxy-headers" in command, command
    assert "--no-proxy-headers" in dockerfile


def test_ci_runs_the_redis_tests_instead_of_skipping_them():
    script = (Path(PROJECT_ROOT) / ".ci" / "run").read_text()
    assert "redis-server --daemonize yes --bind 127.0.0.1 --port 6379" in script
    assert 'export PUTOKAZ_TEST_REDIS_URL="redis://127.0.0.1:6379/15"' in script
    assert script.index("PUTOKAZ_TEST_REDIS_URL") < script.index("make test")


def test_every_process_shares_one_revocation_store():
    for name, deployment in _by_kind("Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert _env_value(container, "PUTOKAZ_REVOCATION_URL") is not None, name


def test_compose_publishes_only_the_gateway():
    compose = yaml.safe_load((Path(PROJECT_ROOT) / "docker-compose.yml").read_text())
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"gateway"}
