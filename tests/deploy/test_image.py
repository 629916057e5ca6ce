"""What the container image does, done in a virtualenv its install step made: the wheel is
installed, its start step serves a demo-trained project, its health check answers from
/health. (The start step running other commands, `run` and `train` as the scheduler's and a
training job's containers do, is in test_prometheus_live.py.)"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pandas as pd
import pytest
from _image_venv import (
    IMAGE_SCRIPT,
    background,
    free_port,
    image_step,
    run,
    venv_environment,
    wait_for_http,
)

# The shared fixtures (the image virtualenv, the demo) take minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_the_image_installs_the_wheel_not_the_checkout(image_venv: Path) -> None:
    where = run(
        ["python", "-c", "import shipml; print(shipml.__file__)"], env=venv_environment(image_venv)
    )
    installed = run(["python", "-m", "pip", "list"], env=venv_environment(image_venv))

    assert where.strip().startswith(str(image_venv / "lib"))
    assert "shipml" in installed and "pytest" not in installed  # no test tools in the image


def test_the_image_serves_the_project_and_answers_its_health_check(
    image_venv: Path, demo_project: Path, tmp_path: Path
) -> None:
    port = free_port()
    environment = venv_environment(
        image_venv,
        {
            "SHIPML_PROJECT_DIR": str(demo_project),
            "SHIPML_SERVING__HOST": "127.0.0.1",  # the image listens on 0.0.0.0
            "SHIPML_SERVING__PORT": str(port),
        },
    )
    health = ["sh", str(IMAGE_SCRIPT), "healthcheck"]
    records = _window_records(demo_project, rows=3)

    before = subprocess.run(health, env=environment, capture_output=True, text=True, timeout=30)
    log = tmp_path / "serve.log"
    with background(["sh", str(IMAGE_SCRIPT), "start"], log, env=environment) as server:
        wait_for_http(f"http://127.0.0.1:{port}/ready", server, log)
        healthy = image_step("healthcheck", env=environment, timeout=30)
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json=records, timeout=30)
        model = httpx.get(f"http://127.0.0.1:{port}/model", timeout=10).json()
        server.send_signal(signal.SIGTERM)  # what `docker stop` sends to the container
        exit_code = server.wait(60)

    assert before.returncode == 1 and "unhealthy" in before.stderr
    assert healthy == ""
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 3
    # The project's champion, whichever it is by now (other tests may promote a newer one).
    assert (model["name"], model["version"]) == ("sensors", _champion(demo_project, environment))
    # `start` execs shipml: the signal reached the server itself, which shut down, then
    # ended by the same signal, as uvicorn does (exit status 143 in a container).
    assert exit_code == -signal.SIGTERM, log.read_text()[-3000:]
    assert "Waiting for application shutdown" in log.read_text()


def _window_records(project: Path, rows: int) -> list[dict[str, object]]:
    """The first rows of the demo's first live window, as JSON records."""
    first = sorted((project / "data" / "windows").glob("*.csv"))[0]
    frame = pd.read_csv(first).head(rows)
    records: list[dict[str, object]] = json.loads(frame.to_json(orient="records"))
    return records


def _champion(project: Path, environment: dict[str, str]) -> str:
    """The version the project's `champion` alias names, as `shipml models --json` lists it."""
    command = ["shipml", "models", "--project", str(project), "--json"]
    listed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    versions = json.loads(listed.stdout)
    (champion,) = [v["ref"]["version"] for v in versions if "champion" in v["aliases"]]
    return str(champion)
