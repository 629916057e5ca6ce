"""The endpoints: POST /predict, GET /health, /ready, /model, /metrics; the API key.

The GET endpoints are declared once, on routers, and find the parts of the app serving
them in the app's state (`Parts`, set by `add_routes`). `ENDPOINTS` is derived from the
routes; an app's metrics label requests by the paths of its own routes (`served_paths`).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, SecretStr
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from shipml.config import ServingSettings
from shipml.errors import ApiError
from shipml.logs import request_id_var
from shipml.serving.canary import Canary
from shipml.serving.docs import PREDICT, predict_responses
from shipml.serving.metrics import CONTENT_TYPE, ServingMetrics
from shipml.serving.model import ModelSlot
from shipml.serving.monitor import OnlineMonitor
from shipml.serving.scoring import Failed, Outcome, Rejected
from shipml.serving.shapes import (
    ChallengerBody,
    HealthBody,
    ModelBody,
    ModelStamp,
    ReadyBody,
    RejectionBody,
    json_response,
    parse_records,
    predict_body,
    predict_response_model,
    read_body,
    refuse,
)

if TYPE_CHECKING:
    from shipml.serving.app import Health, Runtime

KEY_VARIABLE = "SHIPML_SERVING__API_KEY"

_open = APIRouter()  # never behind the key
_keyed = APIRouter()  # behind the key, when one is set
_metrics = APIRouter()  # behind the key when [serving] metrics_require_auth


@dataclass(frozen=True)
class Parts:
    """What the endpoints use, kept in the app's state."""

    settings: ServingSettings
    runtime: Runtime
    slot: ModelSlot
    health: Health
    metrics: ServingMetrics
    monitor: OnlineMonitor
    canary: Canary | None = None  # None: the champion answers every request


def add_routes(app: FastAPI, parts: Parts, *, output: type[BaseModel]) -> APIRoute:
    """Add the endpoints to `app`; /predict and /model (and /metrics if so set) need the key.

    Returns the FastAPI route that documents /predict (see `_add_predict`).
    """
    app.state.shipml = parts
    key = parts.settings.api_key
    guarded = [Depends(api_key_guard(key))] if key is not None else []
    metrics_guarded = guarded if parts.settings.metrics_require_auth else []

    app.add_exception_handler(ApiError, refuse)
    predict = _add_predict(app, parts)
    app.include_router(_open)
    app.include_router(_keyed, dependencies=guarded)
    app.include_router(_metrics, dependencies=metrics_guarded)
    return APIRoute(
        PREDICT,
        predict,
        methods=["POST"],
        response_model=predict_response_model(output),
        responses=predict_responses(authenticated=key is not None),
        dependencies=guarded,
        summary="Predict for one record or a list of records",
    )


def served_paths(routes: Iterable[BaseRoute]) -> set[str]:
    """The paths of an app's routes (a mount's path stands for everything under it)."""
    return {route.path for route in routes if isinstance(route, Route | APIRoute | Mount)}


def answer(outcome: Outcome, request_id: str) -> Response:
    """The HTTP answer to a request's outcome."""
    if isinstance(outcome, Rejected):
        return json_response(
            422, RejectionBody.of_report(request_id, outcome.boundary, outcome.report)
        )
    if isinstance(outcome, Failed):
        message = (
            f"the pipeline failed at step {outcome.step} ({outcome.error}); "
            "the server log has the details under this request id"
        )
        return json_response(500, {"error": message, "request_id": request_id})
    return json_response(200, predict_body(request_id, outcome.model, outcome.rows))


def _add_predict(app: FastAPI, parts: Parts) -> Callable[[Request], Awaitable[Response]]:
    """Serve POST /predict as a plain Starlette route, matched before the others.

    FastAPI's per-request work (solving dependencies, exit stacks) costs about a sixth of a
    request's CPU at full load, and /predict needs none of it: the body is read and checked
    here. The route FastAPI documents it with is built by `add_routes`, and not mounted.
    """
    settings, runtime, monitor = parts.settings, parts.runtime, parts.monitor
    slot, metrics, canary = parts.slot, parts.metrics, parts.canary
    check_key = api_key_check(settings.api_key) if settings.api_key is not None else None

    async def predict(request: Request) -> Response:
        """Score the records through the pipeline's online flow with the served model."""
        started = time.perf_counter()
        if check_key is not None:
            check_key(request)
        runtime.ensure_started()
        request_id = request_id_var.get()
        batcher = runtime.batcher
        with batcher.arriving():
            body = await read_body(request, settings.max_body_bytes)
            records = parse_records(body, settings.max_records)
            challenger = (
                canary is not None
                and slot.challenger is not None
                and canary.chooses_challenger(canary.key(request.headers, records, request_id))
            )
            waiting = batcher.submit(records, request_id, challenger=challenger)
        outcome = await waiting
        seconds = time.perf_counter() - started
        monitor.record_request(outcome.model, seconds)
        metrics.observe_answer(outcome.model, seconds)
        return answer(outcome, request_id)

    app.router.routes.insert(0, Route(PREDICT, predict, methods=["POST"]))
    return predict


def _parts(request: Request) -> Parts:
    return cast(Parts, request.app.state.shipml)


@_open.get("/health", response_model=HealthBody, summary="The process is alive")
async def _alive() -> Response:
    """Always 200 while the process answers."""
    return json_response(200, HealthBody(status="ok"))


@_open.get(
    "/ready",
    response_model=ReadyBody,
    responses={503: {"model": ReadyBody, "description": "Not ready"}},
    summary="Model loaded, registry and store reachable",
)
async def _ready(request: Request) -> Response:
    """200 when ready to serve, else 503 naming what is wrong.

    When an API key is set, a caller without it learns only whether the server is ready.
    """
    parts = _parts(request)
    parts.runtime.ensure_started()
    health = parts.health
    status = 200 if health.ready else 503
    key = parts.settings.api_key
    if key is not None and not _carries(request, key.get_secret_value().encode()):
        return json_response(status, {"ready": health.ready})
    content = ReadyBody(
        ready=health.ready,
        model=ModelStamp.of(parts.slot.current.ref),
        problems=dict(health.problems),
    )
    return json_response(status, content.model_dump(exclude_none=True))


@_keyed.get("/model", response_model=ModelBody, summary="Model served")
async def _model(request: Request) -> Response:
    """Name, version, alias, training time, data version and git commit of the model, and of
    the challenger (scored in shadow, answering the canary's share) when one is set."""
    parts = _parts(request)
    body = parts.slot.current.describe()
    challenger = parts.slot.challenger
    if challenger is not None:
        fraction = parts.canary.fraction if parts.canary is not None else 0.0
        body.challenger = ChallengerBody.of(
            challenger.loaded.info, shadow=parts.settings.shadow, canary_fraction=fraction
        )
    return json_response(200, body)


@_metrics.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def _metrics_text(request: Request) -> Response:
    """Requests, latencies, steps, validation failures, predictions, model version."""
    parts = _parts(request)
    await parts.runtime.batcher.recorded()  # every answered batch counted
    return Response(parts.metrics.render(), media_type=CONTENT_TYPE)


ENDPOINTS = (PREDICT, *sorted(served_paths([*_open.routes, *_keyed.routes, *_metrics.routes])))


# --- the API key --------------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description=f"The key set in the environment variable {KEY_VARIABLE}.",
)

Credentials = HTTPAuthorizationCredentials | None
KeyCheck = Callable[[Request], None]
Guard = Callable[[Request, Credentials], None]


def api_key_check(key: SecretStr) -> KeyCheck:
    """A check that raises a 401 `ApiError` unless the request carries `key`."""
    expected = key.get_secret_value().encode()

    def check(request: Request) -> None:
        if not _carries(request, expected):
            raise ApiError(
                401,
                "missing or wrong API key: send the header Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def _carries(request: Request, key: bytes) -> bool:
    """Whether the request sends `Authorization: Bearer <key>` (compared in constant time)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    provided = token.encode() if scheme.lower() == "bearer" else b""
    return hmac.compare_digest(provided, key)


def api_key_guard(key: SecretStr) -> Guard:
    """The same check as a FastAPI dependency, which also documents the scheme in OpenAPI."""
    check = api_key_check(key)

    def require_key(request: Request, _: Annotated[Credentials, Depends(_bearer)]) -> None:
        check(request)

    return require_key
