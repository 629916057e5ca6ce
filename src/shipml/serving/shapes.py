"""Every shape a request or an answer of the server takes, and the functions that build them.

The request: a body read within its size limit, parsed into records (one JSON object or a
list of them). The answers: the predictions (`predict_body`, also the docs' example), the
422 of records that break the contract or a request's limits (`RejectionBody`), every other
error (`ErrorBody`), and the bodies of /health, /ready and /model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import pydantic_core
from pydantic import BaseModel, Field, create_model, field_serializer
from starlette.requests import Request
from starlette.responses import Response

from shipml.contracts import ValidationReport
from shipml.errors import ApiError
from shipml.logs import request_id_var
from shipml.versioning.tracking import ModelRef, ModelVersionInfo

JSON = "application/json"
Record = dict[str, Any]
_SHOWN = 5
# JSON's escape of half a UTF-16 pair: only a body holding one can carry a lone surrogate.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


# --- answers -----------------------------------------------------------------------------


class ModelStamp(BaseModel):
    """The model version that made the predictions."""

    name: str
    version: str

    @classmethod
    def of(cls, ref: ModelRef) -> ModelStamp:
        """The stamp of a model version."""
        return cls(name=ref.name, version=ref.version)


class ErrorBody(BaseModel):
    """Why a request was refused."""

    error: str = Field(description="What went wrong, in one line.")
    request_id: str


class LimitErrorBody(ErrorBody):
    """A request above a size limit."""

    limit: int = Field(description="The limit exceeded (bytes or records).")


class RejectionBody(ErrorBody):
    """A 422: records that break the contract (with the contracts engine's report), or a
    body that is not records, or too many of them."""

    boundary: str | None = Field(default=None, description="Where they broke it: step.side.")
    report: ValidationReport | None = None
    limit: int | None = Field(default=None, description="The most records a request may hold.")
    field: str | None = Field(default=None, description="The field whose text is not valid.")

    @classmethod
    def of_report(cls, request_id: str, boundary: str, report: ValidationReport) -> RejectionBody:
        """The answer to records that break the contract at `boundary`."""
        message = (
            f"{report.invalid_rows} of {report.rows} records break the contract "
            f"{report.contract} at {boundary}"
        )
        return cls(error=message, request_id=request_id, boundary=boundary, report=report)


class HealthBody(BaseModel):
    """The process is up."""

    status: str


class ReadyBody(BaseModel):
    """Whether the server can serve: model loaded, registry and store reachable.

    When an API key is set, a caller without it gets `ready` alone.
    """

    ready: bool
    model: ModelStamp | None = None
    problems: dict[str, str] | None = None


class VersionBody(BaseModel):
    """A model version and where it came from."""

    name: str
    version: str
    alias: str | None
    trained_at: datetime
    data_version: str | None
    git_commit: str | None
    run_id: str | None
    metrics: dict[str, float]

    @field_serializer("trained_at")
    def _iso(self, trained_at: datetime) -> str:
        return trained_at.isoformat()  # "+00:00", as /model always answered

    @staticmethod
    def fields_of(info: ModelVersionInfo) -> dict[str, Any]:
        """The fields of a version body for a registered version."""
        return {
            "name": info.ref.name,
            "version": info.ref.version,
            "alias": info.ref.alias,
            "trained_at": info.created_at,
            "data_version": info.data_version,
            "git_commit": info.git_commit,
            "run_id": info.ref.run_id,
            "metrics": info.metrics,
        }


class ChallengerBody(VersionBody):
    """The challenger: scored in shadow, answering `canary_fraction` of the requests."""

    shadow: bool
    canary_fraction: float

    @classmethod
    def of(cls, info: ModelVersionInfo, *, shadow: bool, canary_fraction: float) -> ChallengerBody:
        """What GET /model answers about the challenger."""
        return cls(**cls.fields_of(info), shadow=shadow, canary_fraction=canary_fraction)


class ModelBody(VersionBody):
    """The model version being served (the champion) and the challenger, if one is set."""

    challenger: ChallengerBody | None = None

    @classmethod
    def of(cls, info: ModelVersionInfo) -> ModelBody:
        """What GET /model answers about a model version."""
        return cls(**cls.fields_of(info))


def predict_response_model(output: type[BaseModel]) -> type[BaseModel]:
    """The schema of `predict_body`: the output contract's rows, the model, the request id."""
    return create_model(
        "PredictResponse",
        __doc__="The predictions, one per record and in the records' order.",
        request_id=(str, ...),
        model=(ModelStamp, ...),
        predictions=(list[output], ...),  # type: ignore[valid-type]  # built at run time from the contract
    )


def predict_body(request_id: str, model: ModelRef, rows: Sequence[Record]) -> dict[str, Any]:
    """The answer of /predict (`predict_response_model`): the predictions, in order."""
    return {"request_id": request_id, "model": ModelStamp.of(model), "predictions": rows}


def json_response(
    status: int, content: Mapping[str, Any] | BaseModel, headers: Mapping[str, str] | None = None
) -> Response:
    """`content` as JSON (dates as ISO 8601, NaN as null)."""
    return Response(json_bytes(content), status_code=status, media_type=JSON, headers=headers)


def json_bytes(content: Any) -> bytes:
    """`content` as the server writes it: JSON, dates as ISO 8601, NaN as null."""
    return pydantic_core.to_json(content, inf_nan_mode="null", fallback=_fallback)


def error_response(error: ApiError, request_id: str) -> Response:
    """The JSON answer to a refused request: `error`, `request_id`, then the details."""
    content = {"error": error.message, "request_id": request_id, **error.details}
    return json_response(error.status, content, error.headers)


async def refuse(request: Request, error: Exception) -> Response:
    """The app's handler of `ApiError`: its JSON answer, with the request's id."""
    assert isinstance(error, ApiError)
    return error_response(error, request_id_var.get())


def _fallback(value: Any) -> Any:
    """Values pydantic cannot serialise: pandas' missing markers become null, the rest text."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return str(value)


# --- the request ------------------------------------------------------------------------


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body; 413 when Content-Length or the bytes actually sent exceed `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(f"{int(declared)} bytes", limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit} bytes", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_records(body: bytes, limit: int) -> list[Record]:
    """One JSON object or a list of them, as records; 400 for bad JSON, 422 for a bad shape."""
    if not body.strip():
        raise ApiError(400, "empty request body: send one JSON object (a record) or a list of them")
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise ApiError(400, f"malformed JSON: {error}") from None
    records = [payload] if isinstance(payload, dict) else payload
    if not isinstance(records, list):
        raise ApiError(
            422,
            f"expected a JSON object (one record) or a list of objects, got {_json_type(payload)}",
        )
    if not records:
        raise ApiError(422, "expected at least one record, got an empty list")
    if len(records) > limit:
        raise ApiError(
            422,
            f"{len(records)} records in one request, above the limit of {limit} "
            "(serving.max_records)",
            details={"limit": limit},
        )
    not_objects = [place for place, record in enumerate(records) if not isinstance(record, dict)]
    if not_objects:
        shown = ", ".join(str(p) for p in not_objects[:_SHOWN])
        more = f" and {len(not_objects) - _SHOWN} more" if len(not_objects) > _SHOWN else ""
        raise ApiError(
            422,
            f"every record must be a JSON object; record {shown}{more} "
            f"is {_json_type(records[not_objects[0]])}",
        )
    if _ESCAPED_SURROGATE.search(body):
        _refuse_lone_surrogates(records)
    return records


def _refuse_lone_surrogates(records: list[Record]) -> None:
    """422 naming the first field whose text holds half of a UTF-16 pair (`"\\ud800"`).

    JSON may escape one, Python keeps it in a `str`, but it is not Unicode text: encoding it
    fails deep in the steps (pyarrow strings, regular expressions, the answer).
    """
    for place, record in enumerate(records):
        where = _lone_surrogate(record, "")
        if where is not None:
            raise ApiError(
                422,
                f"record {place}, field '{where}': a lone UTF-16 surrogate (as \"\\ud800\") "
                "is not valid text; send the whole character or its surrogate pair",
                details={"field": where},
            )


def _lone_surrogate(value: Any, path: str) -> str | None:
    """Where in `value` (`path`, extended into lists and objects) text holds a lone surrogate."""
    if isinstance(value, str):
        return None if _encodable(value) else path
    if isinstance(value, list):
        for position, item in enumerate(value):
            if (where := _lone_surrogate(item, f"{path}[{position}]")) is not None:
                return where
    elif isinstance(value, dict):
        for key, item in value.items():
            named = f"{path}.{_shown(key)}" if path else _shown(key)
            if not _encodable(key):
                return named
            if (where := _lone_surrogate(item, named)) is not None:
                return where
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _shown(name: str) -> str:
    """`name`, its lone surrogates written as escapes (so the message itself is valid text)."""
    return name.encode("utf-8", "backslashreplace").decode()


def _too_large(size: str, limit: int) -> ApiError:
    return ApiError(
        413,
        f"request body of {size} is above the limit of {limit} bytes (serving.max_body_bytes)",
        details={"limit": limit},
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (use null for a missing number)")


def _json_type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return names.get(type(value), type(value).__name__)
