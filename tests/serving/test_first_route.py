"""POST /predict is answered ahead of FastAPI's middleware; everything else goes through it."""

from __future__ import annotations

import httpx
from _server import running
from fastapi import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from _projects import fitted_model
from shipml.project.project import Project
from shipml.serving import create_app
from shipml.serving.first_route import ServingApp, endpoint_of


class Stamp:
    """A middleware that marks every response it sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-stamp", b"1")]  # type: ignore[misc]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped)


async def echo(request: Request) -> Response:
    return PlainTextResponse(await request.body())


def _app_with_echo_first() -> ServingApp:
    app = ServingApp()
    app.add_api_route("/echo", echo, methods=["POST"])
    app.add_middleware(Stamp)
    app.answer_first("/echo", endpoint_of(echo))
    return app


def test_the_first_route_skips_the_middleware_and_other_requests_do_not() -> None:
    with running(_app_with_echo_first()) as url:
        first = httpx.post(f"{url}/echo", content=b"hello")
        other = httpx.get(f"{url}/echo")

    assert (first.status_code, first.text, "x-stamp" in first.headers) == (200, "hello", False)
    assert (other.status_code, other.headers["x-stamp"]) == (405, "1")


def test_middleware_added_afterwards_sees_the_first_route_too() -> None:
    app = _app_with_echo_first()
    app.add_middleware(Stamp)

    with running(app) as url:
        response = httpx.post(f"{url}/echo", content=b"hello")

    assert (response.text, response.headers["x-stamp"]) == ("hello", "1, 1")


def test_predict_answers_and_refuses_with_request_ids(
    project: Project, record: dict[str, object]
) -> None:
    with running(create_app(project, model=fitted_model(project.root))) as url:
        scored = httpx.post(f"{url}/predict", json=record)
        refused = httpx.post(f"{url}/predict", content=b"{not json")
        wrong_method = httpx.get(f"{url}/predict")

    assert scored.status_code == 200
    assert scored.json()["request_id"] == scored.headers["x-request-id"]
    assert refused.status_code == 400
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    assert wrong_method.status_code == 405
    assert "x-request-id" in wrong_method.headers


def test_predict_is_found_under_a_root_path(project: Project, record: dict[str, object]) -> None:
    app = create_app(project, model=fitted_model(project.root))

    with running(app, root_path="/api") as url:
        response = httpx.post(f"{url}/predict", json=record)

    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 1
