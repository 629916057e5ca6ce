"""The canary: `canary_fraction` of the requests answered by the challenger, sticky by key,
the answering version in every answer and in the metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from collections import Counter
from collections.abc import Callable

import httpx
from _server import running
from starlette.types import ASGIApp, Message

from _projects import fitted_model
from shipml.project.project import Project
from shipml.serving import create_app
from shipml.serving.canary import share
from shipml.versioning.tracking import LoadedModel, ModelRef

ProjectMaker = Callable[..., Project]
Z_999 = 3.2905  # two-sided 99.9% quantile of the normal distribution
CALLERS = 200  # requests in flight together: big micro-batches, few flow runs


def _models(project: Project) -> tuple[LoadedModel, LoadedModel]:
    """The champion (v1) and a challenger (v2) of the toy project."""
    champion = fitted_model(project.root)
    ref = ModelRef("toy", "2", "challenger")
    info = dataclasses.replace(champion.info, ref=ref, aliases=("challenger",))
    return champion, dataclasses.replace(champion, info=info)


def test_the_challenger_answers_the_set_fraction_of_10000_callers(
    make_project: ProjectMaker, record: dict[str, object]
) -> None:
    fraction, requests = 0.2, 10_000
    project = make_project(serving=f"canary_fraction = {fraction}\nshadow = false")
    champion, challenger = _models(project)
    app = create_app(project, model=champion, challenger=challenger)

    versions = asyncio.run(_post_with_keys(app, record, [f"caller-{i}" for i in range(requests)]))

    observed = Counter(versions.values())["2"] / requests
    half_width = Z_999 * math.sqrt(fraction * (1 - fraction) / requests)
    assert abs(observed - fraction) <= half_width, (observed, half_width)


def test_the_same_key_always_gets_the_same_version(
    make_project: ProjectMaker, record: dict[str, object]
) -> None:
    project = make_project(serving="canary_fraction = 0.5")
    app = create_app(project, model=_models(project)[0], challenger=_models(project)[1])
    keys = [f"key-{i}" for i in range(100)] * 3

    versions = asyncio.run(_post_with_keys(app, record, keys, answers=True))

    for key in set(keys):
        expected = "2" if share(key) < 0.5 else "1"
        assert set(versions[key]) == {expected}, key  # three answers, one version
    assert {"1", "2"} <= {v for answered in versions.values() for v in answered}


def test_a_real_server_answers_canary_requests_by_key_field_and_labels_its_metrics(
    make_project: ProjectMaker, record: dict[str, object]
) -> None:
    project = make_project(serving='canary_fraction = 0.5\ncanary_key_field = "machine_id"')
    champion, challenger = _models(project)
    machines = [f"M-{i}" for i in range(20)]
    with running(create_app(project, model=champion, challenger=challenger)) as url:
        answers = {
            (machine, turn): httpx.post(f"{url}/predict", json={**record, "machine_id": machine})
            for turn in range(2)
            for machine in machines
        }
        header = httpx.post(f"{url}/predict", json=record, headers={"x-shipml-key": "M-0"})
        model = httpx.get(f"{url}/model").json()
        metrics = httpx.get(f"{url}/metrics").text

    version = {key: a.json()["model"]["version"] for key, a in answers.items()}
    for machine in machines:
        expected = "2" if share(machine) < 0.5 else "1"
        assert version[machine, 0] == version[machine, 1] == expected
    assert header.json()["model"]["version"] == version["M-0", 0]  # the header keys it too
    counts = Counter(version.values())
    assert model["challenger"]["canary_fraction"] == 0.5
    for answering, count in counts.items():
        alias = "challenger" if answering == "2" else "champion"
        extra = 1 if answering == version["M-0", 0] else 0
        line = f'shipml_model_answers_total{{alias="{alias}",version="{answering}"}} '
        assert f"{line}{float(count + extra)}" in metrics


async def _post_with_keys(
    app: ASGIApp, record: dict[str, object], keys: list[str], *, answers: bool = False
) -> dict[str, list[str]] | dict[str, str]:
    """Post one request per key (sent in the header), `CALLERS` at a time, to the app in-process.

    The app is called as an ASGI application, as a server would call it, without a client
    library between (httpx's ASGI transport would take most of the time of 10,000 requests).
    Returns the answering version per key (all of them per key with `answers`).
    """
    seen: dict[str, list[str]] = {}
    body = json.dumps(record).encode()
    queue = list(reversed(keys))

    async def caller() -> None:
        while queue:
            key = queue.pop()
            status, answer = await _post(app, body, key)
            assert status == 200, answer
            seen.setdefault(key, []).append(json.loads(answer)["model"]["version"])

    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    if answers:
        return seen
    return {key: found[0] for key, found in seen.items()}


async def _post(app: ASGIApp, body: bytes, key: str) -> tuple[int, bytes]:
    """POST /predict with `body` and the canary key header; the status and the answer."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/predict",
        "raw_path": b"/predict",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-shipml-key", key.encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # no disconnect while the answer is on its way
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)
