"""The Kubernetes manifests: valid against the Kubernetes OpenAPI schemas (offline, strict),
and wired as intended: probes, resources, selectors, secrets into SHIPML_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from _dockerfile import SECRET_NAME, instructions, version
from _image_venv import DEPLOY
from _settings_check import setting, settings_with

MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
# The oldest Kubernetes still commonly run, and the newest the schemas bundle.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    """Every resource of every manifest, by (kind, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for manifest in MANIFESTS:
        for resource in yaml.safe_load_all(manifest.read_text()):
            found[(resource["kind"], resource["metadata"]["name"])] = resource
    return found


def pod(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = resources()[(kind, name)]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    validated = [
        kubernetes_validate.validate(resource, version, strict=True)
        for resource in resources().values()
    ]
    assert len(validated) == 9


def test_the_validation_rejects_a_misspelt_field() -> None:
    serve = resources()[("Deployment", "shipml-serve")]
    container = serve["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")

    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(serve, VERSIONS[-1], strict=True)


def test_the_service_is_probed_resourced_and_kept_available() -> None:
    found = resources()
    serve = found[("Deployment", "shipml-serve")]
    container = pod("Deployment", "shipml-serve")["containers"][0]
    labels = serve["spec"]["template"]["metadata"]["labels"]

    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert container["args"] == ["serve"]
    assert container["ports"][0]["containerPort"] == 8000
    for kind in ("Service", "PodDisruptionBudget"):
        selector = found[(kind, "shipml-serve")]["spec"]["selector"]
        assert selector.get("matchLabels", selector).items() <= labels.items()
    assert found[("PodDisruptionBudget", "shipml-serve")]["spec"]["minAvailable"] == 1
    autoscaler = found[("HorizontalPodAutoscaler", "shipml-serve")]["spec"]
    assert autoscaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "shipml-serve"
    }  # fmt: skip
    assert autoscaler["minReplicas"] >= 2 and serve["spec"]["replicas"] >= 2
    assert autoscaler["metrics"][0]["resource"]["name"] == "cpu"


def test_the_scheduler_is_one_pod_that_never_overlaps_another() -> None:
    scheduler = resources()[("Deployment", "shipml-scheduler")]
    container = pod("Deployment", "shipml-scheduler")["containers"][0]

    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    assert container["args"] == ["schedule"]
    assert pod("Deployment", "shipml-scheduler")["terminationGracePeriodSeconds"] >= 300


def test_pods_run_as_the_image_user_with_the_image_of_thisversion() -> None:
    uid = int(instructions("runtime", "USER")[0].split(":")[0])
    for kind, name in (("Deployment", "shipml-serve"), ("Deployment", "shipml-scheduler"),
                       ("Job", "shipml-train")):  # fmt: skip
        spec = pod(kind, name)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == uid
        for container in spec["containers"]:
            assert container["image"] == f"shipml:{version()}"
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            claims = {v["name"] for v in spec["volumes"] if "persistentVolumeClaim" in v}
            assert {m["name"] for m in container["volumeMounts"]} >= claims


def test_secrets_come_from_a_kubernetes_secret_into_real_settings(tmp_path: Path) -> None:
    found = resources()
    config = found[("ConfigMap", "shipml-config")]["data"]
    assert not [name for name in config if SECRET_NAME.search(name)]
    given = {
        "store-url": "postgresql+psycopg://shipml:pw@postgres:5432/shipml",
        "tracking-uri": "postgresql+psycopg://shipml:pw@postgres:5432/mlflow",
        "api-key": "k3y",
    }
    for kind, name in (("Deployment", "shipml-serve"), ("Deployment", "shipml-scheduler"),
                       ("Job", "shipml-train")):  # fmt: skip
        container = pod(kind, name)["containers"][0]
        assert container["envFrom"] == [{"configMapRef": {"name": "shipml-config"}}]
        variables = dict(config)
        for variable in container["env"]:
            reference = variable["valueFrom"]["secretKeyRef"]  # no literal values at all
            assert reference["name"] == "shipml-secrets"
            variables[variable["name"]] = given[reference["key"]]

        settings = settings_with(variables, tmp_path / name)

        assert setting(settings, "SHIPML_STORE__URL").endswith("@postgres:5432/shipml")
        assert str(setting(settings, "SHIPML_TRACKING__URI")).endswith("/mlflow")
    assert setting(settings_with(dict(config), tmp_path / "c"), "SHIPML_TRACKING__ARTIFACTS")
