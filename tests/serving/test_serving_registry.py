"""The model registry: hot reload when champion moves, readiness, failing fast at startup."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from _forwarder import forwarding
from _load import Load, load
from _outage import outage
from _registry import Registry
from _server import running

from shipml.serving import ServingError, create_app

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _poll_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPML_SERVING__RELOAD_INTERVAL_SECONDS", "0.3")


def _wait_for(url: str, status: int, timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/ready")
        if response.status_code == status:
            return response
        time.sleep(0.1)
    raise AssertionError(f"/ready did not answer {status} within {timeout} s")


def serves(url: str, version: str, *, within: float) -> None:
    """Wait until /model names `version`."""
    deadline = time.monotonic() + within
    while httpx.get(f"{url}/model").json()["version"] != version:
        assert time.monotonic() < deadline, f"version {version} not served within {within} s"
        time.sleep(0.2)


def test_a_new_champion_is_served_without_a_failed_request(
    registry: Registry, record: dict[str, object]
) -> None:
    first, second = registry.versions
    project = registry.project(alias_to=first)
    seen: list[Load] = []
    reloaded = threading.Event()
    with running(create_app(project)) as url:
        clients = threading.Thread(
            target=lambda: seen.append(
                load(url, [record, record], clients=8, seconds=180, until=reloaded)
            )
        )
        clients.start()
        time.sleep(2)
        project.tracker.promote(second)
        serves(url, second, within=120)  # a loaded machine takes its time to load the model
        time.sleep(2)  # answers of the new version
        reloaded.set()
        clients.join()
        model = httpx.get(f"{url}/model").json()
        metrics = httpx.get(f"{url}/metrics").text

    [answers] = seen
    assert answers.failures == [] and answers.sent > 50
    assert answers.versions[0] == first and answers.versions[-20:] == [second] * 20
    assert model["version"] == second
    assert f'shipml_model_info{{alias="champion",name="toy",version="{second}"}} 1.0' in metrics
    assert f'shipml_model_info{{alias="champion",name="toy",version="{first}"}} 0.0' in metrics
    assert 'shipml_model_reloads_total{outcome="succeeded"} 1.0' in metrics


def test_an_unreachable_registry_makes_the_server_not_ready_yet_it_keeps_serving(
    registry: Registry, record: dict[str, object]
) -> None:
    project = registry.project(alias_to=registry.versions[0])
    with running(create_app(project)) as url:
        _wait_for(url, 200)
        with outage(registry.url):
            not_ready = _wait_for(url, 503)
            served = httpx.post(f"{url}/predict", json=record)
        _wait_for(url, 200)

    assert "registry" in not_ready.json()["problems"]
    assert served.status_code == 200
    assert served.json()["model"]["version"] == registry.versions[0]


def test_an_alias_without_a_version_fails_fast(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPML_MODEL__ALIAS", "nobody")

    with pytest.raises(ServingError, match=r"^cannot serve toy@nobody: no version of model"):
        create_app(registry.project())


def test_a_registry_that_refuses_connections_is_named_in_one_line_in_ready(
    registry: Registry, record: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.project(alias_to=registry.versions[0])
    with forwarding(registry.url.host or "127.0.0.1", registry.url.port or 5432) as forwarder:
        through = registry.url.set(port=forwarder.port, password="hunter2")
        monkeypatch.setenv("SHIPML_TRACKING__URI", through.render_as_string(hide_password=False))
        with running(create_app(registry.project())) as url:
            _wait_for(url, 200)
            forwarder.stop()
            masked = through.render_as_string(hide_password=True)
            # The check under way when the port closed may fail otherwise; the next says this:
            problem = (
                f"registry unreachable at {masked}: "
                f"connection refused by 127.0.0.1 port {forwarder.port}"
            )
            deadline = time.monotonic() + 30
            while (not_ready := httpx.get(f"{url}/ready")).json()["problems"] != {
                "registry": problem
            }:
                assert time.monotonic() < deadline, not_ready.text
                time.sleep(0.1)
            served = httpx.post(f"{url}/predict", json=record)

    assert not_ready.status_code == 503
    assert served.status_code == 200
