"""The endpoints: /predict, /health, /ready, /model, /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import Route

from shipml.config import ServingSettings
from shipml.errors import ApiError
from shipml.logs import request_id_var
from shipml.serving.auth import api_key_check, api_key_guard
from shipml.serving.body import parse_records, read_body
from shipml.serving.errors import error_response, json_response
from shipml.serving.health import Health
from shipml.serving.metrics import CONTENT_TYPE, ServingMetrics
from shipml.serving.model import ModelSlot
from shipml.serving.monitor import OnlineMonitor
from shipml.serving.openapi import (
    PREDICT,
    HealthBody,
    ModelBody,
    ReadyBody,
    predict_responses,
    response_model,
)
from shipml.serving.runtime import Runtime
from shipml.serving.service import answer

ENDPOINTS = (PREDICT, "/health", "/ready", "/model", "/metrics", "/docs", "/openapi.json")


@dataclass(frozen=True)
class Parts:
    """What the endpoints use."""

    settings: ServingSettings
    runtime: Runtime
    slot: ModelSlot
    health: Health
    metrics: ServingMetrics
    monitor: OnlineMonitor


def add_routes(
    app: FastAPI,
    parts: Parts,
    *,
    output: type[BaseModel],
    response_example: dict[str, Any] | None,
) -> APIRoute:
    """Add the endpoints to `app`; /predict and /model (and /metrics if so set) need the key.

    Returns the FastAPI route that documents /predict (see `_add_predict`).
    """
    settings = parts.settings
    key = settings.api_key
    guarded = [Depends(api_key_guard(key))] if key is not None else []
    metrics_guarded = guarded if settings.metrics_require_auth else []

    async def refuse(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error_response(error, request_id_var.get())

    app.add_exception_handler(ApiError, refuse)
    predict = _add_predict(app, parts)
    _add_probes(app, parts, guarded, metrics_guarded)
    return APIRoute(
        PREDICT,
        predict,
        methods=["POST"],
        response_model=response_model(output),
        responses=predict_responses(response_example, authenticated=key is not None),
        dependencies=guarded,
        summary="Predict for one record or a list of records",
    )


def _add_predict(app: FastAPI, parts: Parts) -> Callable[[Request], Awaitable[Response]]:
    """Serve POST /predict as a plain Starlette route, matched before the others.

    FastAPI's per-request work (solving dependencies, exit stacks) costs about a sixth of a
    request's CPU at full load, and /predict needs none of it: the body is read and checked
    here. The route FastAPI documents it with is built by `add_routes`, and not mounted.
    """
    settings, runtime = parts.settings, parts.runtime
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
            waiting = batcher.submit(records, request_id)
        outcome = await waiting
        parts.monitor.record_request(outcome.model, time.perf_counter() - started)
        return answer(outcome, request_id)

    app.router.routes.insert(0, Route(PREDICT, predict, methods=["POST"]))
    return predict


def _add_probes(app: FastAPI, parts: Parts, guarded: list[Any], metrics_guarded: list[Any]) -> None:
    """GET /health, /ready, /model and /metrics."""
    runtime, slot, health = parts.runtime, parts.slot, parts.health

    @app.get("/health", response_model=HealthBody, summary="The process is alive")
    async def alive() -> Response:
        """Always 200 while the process answers."""
        return json_response(200, {"status": "ok"})

    @app.get(
        "/ready",
        response_model=ReadyBody,
        responses={503: {"model": ReadyBody, "description": "Not ready"}},
        summary="Model loaded, registry and store reachable",
    )
    async def ready() -> Response:
        """200 when ready to serve, else 503 naming what is wrong."""
        runtime.ensure_started()
        served = slot.current.ref
        content = {
            "ready": health.ready,
            "model": {"name": served.name, "version": served.version},
            "problems": dict(health.problems),
        }
        return json_response(200 if health.ready else 503, content)

    @app.get("/model", response_model=ModelBody, dependencies=guarded, summary="Model served")
    async def model() -> Response:
        """Name, version, alias, training time, data version and git commit of the model."""
        return json_response(200, slot.current.describe())

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        dependencies=metrics_guarded,
        summary="Prometheus metrics",
    )
    async def metrics() -> Response:
        """Requests, latencies, steps, validation failures, predictions, model version."""
        await runtime.batcher.recorded()  # every answered batch counted
        return Response(parts.metrics.render(), media_type=CONTENT_TYPE)
