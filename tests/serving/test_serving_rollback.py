"""`shipml rollback` under load: the server hot-reloads the earlier champion, no request fails."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from _load import Load, load
from _registry import Registry
from _server import running

from shipml.project import promote, rollback
from shipml.serving import create_app

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _poll_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPML_SERVING__RELOAD_INTERVAL_SECONDS", "0.3")


def test_a_rollback_is_served_under_load_without_a_failed_request(
    registry: Registry, record: dict[str, object]
) -> None:
    first, second = registry.versions
    project = registry.project(alias_to=first)
    promote(project, second, force=True)  # versions logged without a holdout: forced, recorded
    seen: list[Load] = []
    with running(create_app(project)) as url:
        assert httpx.get(f"{url}/model").json()["version"] == second
        clients = threading.Thread(
            target=lambda: seen.append(load(url, [record, record], clients=8, seconds=10))
        )
        clients.start()
        time.sleep(2)
        back = rollback(project, note="bad release")
        clients.join()
        model = httpx.get(f"{url}/model").json()

    [answers] = seen
    assert answers.failures == [] and answers.sent > 50
    assert answers.versions[0] == second and answers.versions[-20:] == [first] * 20
    assert model["version"] == first
    assert (back.record.reason, back.record.from_version, back.record.to_version) == (
        "rollback",
        second,
        first,
    )
