"""The API description: the pipeline's contracts as the body and answer of /predict, with
an example record the contract accepts.

FastAPI is not given the input contract as a body parameter: it would parse every record
with Pydantic, while the records are checked as one frame by the contracts engine, with
the same diagnoses as batch. The request body is described here instead, on the route
FastAPI documents /predict with (it is served by a plain Starlette route).

/docs and /redoc serve Swagger UI and ReDoc from files installed with shipml (no CDN).

The example record is the contract's own examples, else one made from it: it follows the
JSON schema of the contract (a field's `examples`, its default, the first allowed value, a
number inside its bounds, a date, a string matching its pattern). Whatever is offered, only
a record the contract accepts is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from itertools import cycle
from re import _parser as regex_parser  # type: ignore[attr-defined]
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shipml.contracts import validate
from shipml.serving.shapes import (
    JSON,
    ErrorBody,
    LimitErrorBody,
    Record,
    RejectionBody,
    json_bytes,
    predict_body,
)
from shipml.versioning.tracking import ModelRef

REF_TEMPLATE = "#/components/schemas/{model}"
PREDICT = "/predict"
DOCS = "/docs"
REDOC = "/redoc"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
ASSETS = "/docs-assets"  # Swagger UI's and ReDoc's scripts and styles
EXAMPLE_REQUEST_ID = "0b5c7d0e9a8f4e21"
_FORMATS = {
    "date-time": "2026-01-01T12:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00",
    "duration": "PT1H",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "someone@example.com",
    "uri": "https://example.com",
}
_CATEGORY_CHARACTERS = {"WORD": "a", "SPACE": " "}
# The digits patterned strings are made of, one made-up record each: plain zeros, then
# year-first and day-first dates (for the steps that read a patterned string as a date).
_DIGITS = ("0", "20260101120000", "01012026120000")


@dataclass(frozen=True)
class Examples:
    """A record the input contract accepts, and what /predict answered it (when it was scored)."""

    record: Record
    answer: tuple[ModelRef, list[Record]] | None


def predict_responses(*, authenticated: bool) -> dict[int | str, dict[str, Any]]:
    """The documented answers of /predict besides the model's schema."""
    responses: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorBody, "description": "Malformed JSON"},
        413: {"model": LimitErrorBody, "description": "Body above the size limit"},
        422: {"model": RejectionBody, "description": "Records that break the contract"},
        503: {"model": ErrorBody, "description": "Overloaded or shutting down; retry"},
    }
    if authenticated:
        responses[401] = {"model": ErrorBody, "description": "Missing or wrong API key"}
    return responses


def describe_predict(
    app: FastAPI,
    route: APIRoute,
    contract: type[BaseModel],
    *,
    max_records: int,
    examples: Examples | None,
) -> None:
    """Make the app's OpenAPI document show /predict as `route` describes it.

    The route is not mounted (a plain Starlette route serves /predict); the body shown is
    `contract`, one record or a list of them. The answer's example is the body the server
    sent for the example record, byte for byte.
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
    if examples is not None:
        content["examples"] = {
            "one record": {"value": examples.record},
            "a list of records": {"value": [examples.record, examples.record]},
        }
    body = {"required": True, "content": {JSON: content}}
    answer = None
    if examples is not None and examples.answer is not None:
        model, rows = examples.answer
        answer = json.loads(json_bytes(predict_body(EXAMPLE_REQUEST_ID, model, rows)))
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
        operation = document["paths"][PREDICT]["post"]
        operation["requestBody"] = body
        if answer is not None:
            operation["responses"]["200"]["content"][JSON]["example"] = answer
        return document

    app.openapi = openapi  # type: ignore[method-assign]


# --- the pages -----------------------------------------------------------------------------


def serve_docs(app: FastAPI) -> None:
    """GET /docs (Swagger UI) and /redoc, their scripts and styles served by the app itself.

    FastAPI's own pages load them from a CDN (a blank page offline); here they come from the
    files the `fastapi-offline` package ships, as FastAPI's "self-hosting JavaScript and CSS
    for docs" recipe does. The app must be built with `docs_url=None, redoc_url=None`.
    """
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), "assets")
    title = app.title

    def urls(request: Request) -> tuple[str, str]:
        """The root the app is served under (when mounted), and its OpenAPI document's URL."""
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return root, f"{root}{app.openapi_url}"

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root, openapi_url = urls(request)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root, openapi_url = urls(request)
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )


# --- an example record -----------------------------------------------------------------------


def example_records(contract: type[BaseModel]) -> list[Record]:
    """Records that satisfy `contract`: its own examples first, then ones made from it.

    Made-up records differ in the digits their patterned strings get: a date-like pattern
    (`\\d{4}/\\d{2}/\\d{2}`) fits "0000/00/00", which a step may not be able to read, while
    "2026/01/01" (or "01/01/2026" for day-first patterns) it can. The caller keeps the first
    one the whole service accepts.
    """
    schema = contract.model_json_schema()
    definitions = schema.get("$defs", {})
    candidates = [e for e in schema.get("examples", []) if isinstance(e, dict)]
    for digits in _DIGITS:
        made = _value(schema, definitions, digits)
        if isinstance(made, dict) and made not in candidates:
            candidates.append(made)
    return [candidate for candidate in candidates if _accepted(candidate, contract)]


def example_record(contract: type[BaseModel]) -> Record | None:
    """The first of `example_records`, or None when none can be found."""
    return next(iter(example_records(contract)), None)


def _accepted(record: dict[str, Any], contract: type[BaseModel]) -> bool:
    frame = pd.DataFrame([record])
    return validate(frame, contract, policy="quarantine", max_invalid_fraction=1.0).report.ok


def _value(schema: dict[str, Any], definitions: dict[str, Any], digits: str) -> Any:
    """A value that fits `schema` (best effort; the caller checks it)."""
    if "$ref" in schema:
        return _value(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions, digits)
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("default") is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        branches = [b for b in schema.get(key, []) if b.get("type") != "null"]
        if branches:
            return _value(branches[0], definitions, digits)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _value(field, definitions, digits) for name, field in properties.items()}
    if kind == "array":
        items = schema.get("items")
        count = max(int(schema.get("minItems", 1)), 1)
        return [_value(items, definitions, digits)] * count if items else []
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "string":
        return _string(schema, digits)
    return True if kind == "boolean" else None


def _number(schema: dict[str, Any], *, integer: bool) -> float | int:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and high is not None:
        middle = (low + high) / 2
    elif low is not None:
        middle = low + 1
    elif high is not None:
        middle = high - 1
    else:
        middle = 1
    return int(middle) if integer else round(float(middle), 3)


def _string(schema: dict[str, Any], digits: str) -> str | None:
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    if "pattern" in schema:
        return _matching(schema["pattern"], digits)
    shortest, longest = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = "example".ljust(shortest, "x")
    return text[:longest] if longest is not None else text


def _matching(pattern: str, digits: str) -> str | None:
    """The shortest obvious string that `pattern` finds, its digits taken from `digits`."""
    try:
        text = _emit(regex_parser.parse(pattern), cycle(digits))
    except (ValueError, KeyError, TypeError, re.error):
        return None
    return text if re.search(pattern, text) else None


def _emit(parsed: Any, digits: Iterator[str]) -> str:
    out: list[str] = []
    for opcode, argument in parsed:
        name = str(opcode)
        if name == "LITERAL":
            out.append(chr(argument))
        elif name in ("ANY", "NOT_LITERAL"):
            out.append("a" if argument != ord("a") else "b")
        elif name == "IN":
            out.append(_one_of(argument, digits))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            least, _, inner = argument
            out.extend(_emit(inner, digits) for _ in range(least))
        elif name == "SUBPATTERN":
            out.append(_emit(argument[-1], digits))
        elif name == "ATOMIC_GROUP":
            out.append(_emit(argument, digits))
        elif name == "BRANCH":
            out.append(_emit(argument[1][0], digits))
        elif name != "AT":
            raise ValueError(f"cannot make an example for {name}")
    return "".join(out)


def _one_of(items: list[tuple[Any, Any]], digits: Iterator[str]) -> str:
    opcode, argument = items[0]
    name = str(opcode)
    if name == "LITERAL":
        return chr(argument)
    if name == "RANGE":
        low, high = argument
        if low <= ord("0") and ord("9") <= high:  # [0-9] takes the next digit, like \d
            return next(digits)
        return chr(low)
    if name == "CATEGORY":
        category = str(argument).removeprefix("CATEGORY_")
        return next(digits) if category == "DIGIT" else _CATEGORY_CHARACTERS[category]
    raise ValueError(f"cannot make an example for a set starting with {name}")
