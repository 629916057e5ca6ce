"""The API description: the pipeline's contracts as the body and answer of /predict.

FastAPI is not given the input contract as a body parameter: it would parse every record
with Pydantic, while the records are checked as one frame by the contracts engine, with
the same diagnoses as batch. The request body is described here instead, on the route
FastAPI documents /predict with (it is served by a plain Starlette route).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import models_json_schema

from shipml.contracts import ValidationReport

REF_TEMPLATE = "#/components/schemas/{model}"
PREDICT = "/predict"
JSON = "application/json"


class ModelStamp(BaseModel):
    """The model version that made the predictions."""

    name: str
    version: str


class ErrorBody(BaseModel):
    """Why a request was refused."""

    error: str = Field(description="What went wrong, in one line.")
    request_id: str


class LimitErrorBody(ErrorBody):
    """A request above a size limit."""

    limit: int = Field(description="The limit exceeded (bytes or records).")


class RejectionBody(ErrorBody):
    """Records that break the contract (with the contracts engine's report), or too many."""

    boundary: str | None = Field(default=None, description="Where they broke it: step.side.")
    report: ValidationReport | None = None
    limit: int | None = Field(default=None, description="The most records a request may hold.")


class HealthBody(BaseModel):
    """The process is up."""

    status: str


class ReadyBody(BaseModel):
    """Whether the server can serve: model loaded, registry and store reachable."""

    ready: bool
    model: ModelStamp
    problems: dict[str, str] = Field(default_factory=dict)


class ModelBody(BaseModel):
    """The model version being served and where it came from."""

    name: str
    version: str
    alias: str | None
    trained_at: datetime
    data_version: str | None
    git_commit: str | None
    run_id: str | None
    metrics: dict[str, float]


def response_model(output: type[BaseModel]) -> type[BaseModel]:
    """The answer of /predict: the output contract's rows, the model and the request id."""
    return create_model(
        "PredictResponse",
        __doc__="The predictions, one per record and in the records' order.",
        request_id=(str, ...),
        model=(ModelStamp, ...),
        predictions=(list[output], ...),  # type: ignore[valid-type]
    )


def predict_responses(
    example: dict[str, Any] | None, *, authenticated: bool
) -> dict[int | str, dict[str, Any]]:
    """The documented answers of /predict besides the model's schema."""
    responses: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody, "description": "Malformed JSON"},
        413: {"model": LimitErrorBody, "description": "Body above the size limit"},
        422: {"model": RejectionBody, "description": "Records that break the contract"},
        503: {"model": ErrorBody, "description": "Overloaded or shutting down; retry"},
    }
    if authenticated:
        responses[401] = {"model": ErrorBody, "description": "Missing or wrong API key"}
    if example is not None:
        responses[200] = {"content": {JSON: {"example": example}}}
    return responses


def describe_predict(
    app: FastAPI,
    route: APIRoute,
    contract: type[BaseModel],
    *,
    max_records: int,
    example: dict[str, Any] | None,
) -> None:
    """Make the app's OpenAPI document show /predict as `route` describes it.

    The route is not mounted (a plain Starlette route serves /predict); the body shown is
    `contract`, one record or a list of them.
    """
    refs, definitions = models_json_schema([(contract, "validation")], ref_template=REF_TEMPLATE)
    record = refs[(contract, "validation")]
    schema = {
        "anyOf": [
            record,
            {"type": "array", "items": record, "minItems": 1, "maxItems": max_records},
        ]
    }
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["examples"] = {
            "one record": {"value": example},
            "a list of records": {"value": [example, example]},
        }
    body = {"required": True, "content": {JSON: content}}
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        predict = get_openapi(title=app.title, version=app.version, routes=[route])
        document["paths"] = {**predict["paths"], **document["paths"]}
        components = document.setdefault("components", {})
        for kind, found in predict.get("components", {}).items():
            components.setdefault(kind, {}).update(found)
        schemas = components.setdefault("schemas", {})
        for name, definition in definitions.get("$defs", {}).items():
            schemas.setdefault(name, definition)
        document["paths"][PREDICT]["post"]["requestBody"] = body
        return document

    app.openapi = openapi  # type: ignore[method-assign]
