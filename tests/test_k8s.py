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
