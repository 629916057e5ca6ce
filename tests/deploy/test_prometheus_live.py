"""A real Prometheus (Debian's) on loopback, configured from deploy/compose/prometheus.yml and
loaded with deploy/prometheus-alerts.yml, scraping a live `shipml serve` (started by the
image's start step), a Pushgateway and node_exporter's textfile collector fed by a batch
window. After a short load, every panel of the dashboard has data and the rules evaluate."""

from __future__ import annotations

import random
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml
from _dashboard import dashboard, panel_queries
from _image_venv import (
    DEPLOY,
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

# Well after the demo's windows (a window the demo ran would be skipped: nothing exported).
SHIFTED_WINDOW = ("2026-03-16T18:00:00Z", "2026-03-16T18:15:00Z")
QUERY_SECONDS = 90  # how long the panels may take to have data after the load


@dataclass(frozen=True)
class Stack:
    """Where the running parts answer."""

    prometheus: str
    serve: str


def binary(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} comes with Debian's packages (.ci/run installs them)"
    return found


@pytest.fixture(scope="module")
def stack(
    image_venv: Path, demo_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Pushgateway, node_exporter, `shipml serve` and Prometheus, all on 127.0.0.1."""
    work = tmp_path_factory.mktemp("prometheus")
    ports = {name: free_port() for name in ("serve", "pushgateway", "node", "prometheus")}
    textfiles = work / "textfiles"
    textfiles.mkdir()
    environment = venv_environment(
        image_venv,
        {
            "SHIPML_PROJECT_DIR": str(demo_project),
            "SHIPML_SERVING__HOST": "127.0.0.1",
            "SHIPML_SERVING__PORT": str(ports["serve"]),
            "SHIPML_SERVING__ACCESS_LOG": "false",
            "SHIPML_SERVING__MONITOR_FLUSH_REQUESTS": "50",  # online windows during the load
            "SHIPML_SERVING__RELOAD_INTERVAL_SECONDS": "1",
            "SHIPML_MONITORING__PROMETHEUS_TEXTFILE": str(textfiles / "sensors.prom"),
            "SHIPML_MONITORING__PUSHGATEWAY_URL": f"http://127.0.0.1:{ports['pushgateway']}",
        },
    )
    config = _prometheus_config(ports)
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    serve = f"http://127.0.0.1:{ports['serve']}"
    prometheus = f"http://127.0.0.1:{ports['prometheus']}"
    with ExitStack() as running:
        gateway = f"--web.listen-address=127.0.0.1:{ports['pushgateway']}"
        pushgateway = running.enter_context(background(
            [binary("prometheus-pushgateway"), gateway],
            work / "pushgateway.log", env=environment,
        ))  # fmt: skip
        node = running.enter_context(background(
            [binary("prometheus-node-exporter"), f"--web.listen-address=127.0.0.1:{ports['node']}",
             "--collector.disable-defaults", "--collector.textfile",
             f"--collector.textfile.directory={textfiles}"],
            work / "node.log", env=environment,
        ))  # fmt: skip
        server = running.enter_context(background(
            ["sh", str(IMAGE_SCRIPT), "start"], work / "serve.log", env=environment
        ))  # fmt: skip
        monitor = running.enter_context(background(
            [binary("prometheus"), f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{ports['prometheus']}"],
            work / "prometheus.log", env=environment,
        ))  # fmt: skip
        wait_for_http(
            f"http://127.0.0.1:{ports['pushgateway']}/-/ready",
            pushgateway,
            work / "pushgateway.log",
        )
        wait_for_http(f"http://127.0.0.1:{ports['node']}/metrics", node, work / "node.log")
        wait_for_http(f"{prometheus}/-/ready", monitor, work / "prometheus.log")
        wait_for_http(f"{serve}/ready", server, work / "serve.log")

        _load(serve, demo_project, requests=160)
        _write_shifted_window(demo_project, environment)
        # The batch window, as the scheduler's container runs it: gauges to both outputs.
        image_step("start", "run", "--start", SHIFTED_WINDOW[0], "--end", SHIFTED_WINDOW[1],
                   env=environment)  # fmt: skip
        assert (textfiles / "sensors.prom").is_file(), "the window ran and wrote its gauges"
        # The labels that came in since the demo: the model-performance gauges.
        image_step("start", "labels", "ingest", env=environment)
        # A new model version: the service reloads it within a second.
        image_step("start", "train", "--promote", "champion", env=environment)
        _wait_for_version(serve, "2")
        _load(serve, demo_project, requests=60)
        yield Stack(prometheus=prometheus, serve=serve)


def _prometheus_config(ports: dict[str, int]) -> dict[str, Any]:
    """The compose file's Prometheus configuration, its targets on loopback, scraping every
    second, plus node_exporter for the textfile output (compose uses the Pushgateway)."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "compose" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(DEPLOY / "prometheus-alerts.yml")]
    targets = {"shipml": ports["serve"], "pushgateway": ports["pushgateway"]}
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [f"127.0.0.1:{targets[job['job_name']]}"]}]
    config["scrape_configs"].append(
        {"job_name": "node", "static_configs": [{"targets": [f"127.0.0.1:{ports['node']}"]}]}
    )
    return config


def _load(serve: str, project: Path, *, requests: int) -> None:
    """Valid records in requests of 1 to 5, and every eighth request an invalid one."""
    window = sorted((project / "data" / "windows").glob("*.csv"))[0]
    records = pd.read_csv(window).to_dict(orient="records")
    chooser = random.Random(18)
    with httpx.Client(base_url=serve, timeout=30) as client:
        for number in range(requests):
            body = chooser.sample(records, chooser.randint(1, 5))
            if number % 8 == 7:
                body = [{**body[0], "vibration_mm_s": -1.0}]
            answer = client.post("/predict", json=body)
            assert answer.status_code == (422 if number % 8 == 7 else 200), answer.text


def _write_shifted_window(project: Path, environment: dict[str, str]) -> None:
    """The window after the demo's, with three times the failure rate."""
    script = (
        "import simulator, datetime as d;"
        f"start = d.datetime.fromisoformat('{SHIFTED_WINDOW[0]}');"
        "simulator.write_windows('data/windows', start, start + d.timedelta(minutes=15),"
        " d.timedelta(minutes=15), machines=60, seed=7,"
        " faults=[simulator.FailureRateShift(3.0)])"
    )
    run(["python", "-c", script], env=environment, cwd=project)


def _wait_for_version(serve: str, version: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if httpx.get(f"{serve}/model", timeout=10).json()["version"] == version:
            return
        time.sleep(0.5)
    raise AssertionError(f"the service never loaded version {version}")


def query(stack: Stack, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.prometheus}/api/v1/query", params={"query": promql}, timeout=10)
    body = answer.json()
    assert body["status"] == "success", f"{promql}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_every_metric_the_dashboard_queries_exists_in_prometheus(stack: Stack) -> None:
    names = {
        name
        for queries in panel_queries().values()
        for promql in queries
        for name in _metric_names(promql)
    }
    deadline = time.monotonic() + QUERY_SECONDS
    while True:
        known = set(
            httpx.get(f"{stack.prometheus}/api/v1/label/__name__/values", timeout=10).json()["data"]
        )
        if names <= known or time.monotonic() > deadline:
            break
        time.sleep(1)

    assert names - known == set()
    assert len(names) >= 15


def test_every_panel_of_the_dashboard_shows_data_after_a_short_load(stack: Stack) -> None:
    queries = [(title, promql) for title, each in panel_queries().items() for promql in each]
    empty = queries
    deadline = time.monotonic() + QUERY_SECONDS
    while empty and time.monotonic() < deadline:
        empty = [(title, promql) for title, promql in empty if not query(stack, promql)]
        time.sleep(1)

    assert empty == []
    assert len(queries) >= 18
    pipelines = httpx.get(
        f"{stack.prometheus}/api/v1/label/pipeline/values",
        params={"match[]": "shipml_feature_drift_score"}, timeout=10,
    ).json()["data"]  # fmt: skip
    assert pipelines == ["sensors"]  # the dashboard's $pipeline choices
    served = query(stack, 'shipml_model_info{version="2"} == 1')
    assert len(served) == 1


def test_the_rules_evaluate_and_the_shifted_window_fires_its_alert(stack: Stack) -> None:
    deadline = time.monotonic() + QUERY_SECONDS
    while True:
        groups = httpx.get(f"{stack.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        alerts = httpx.get(f"{stack.prometheus}/api/v1/alerts", timeout=10).json()["data"]
        firing = {a["labels"]["alertname"] for a in alerts["alerts"] if a["state"] == "firing"}
        healthy = all(rule["health"] == "ok" for rule in rules)
        if (healthy and "ShipmlPredictionShift" in firing) or time.monotonic() > deadline:
            break
        time.sleep(1)

    assert len(rules) == 10
    assert [r["name"] for r in rules if r["health"] != "ok"] == [], rules
    assert "ShipmlPredictionShift" in firing
    assert "ShipmlNoModelServed" not in firing and "ShipmlServerErrors" not in firing
    jobs = {r["metric"]["job"] for r in query(stack, "shipml_prediction_shift_k")}
    assert jobs == {"shipml", "shipml_batch", "node"}  # the service and both batch outputs


def test_the_dashboard_is_a_well_formed_grafana_dashboard() -> None:
    found = dashboard()
    panels = found["panels"]
    ids = [panel["id"] for panel in panels]

    assert found["uid"] and found["title"] and isinstance(found["schemaVersion"], int)
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        references = [target["refId"] for target in panel["targets"]]
        assert references and len(references) == len(set(references)), panel["title"]
    variables = {v["name"]: v for v in found["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["pipeline"]["datasource"]["uid"] == "${datasource}"


def _metric_names(promql: str) -> set[str]:
    return set(re.findall(r"\bshipml_[a-z0-9_]+\b", promql))
