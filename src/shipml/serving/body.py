"""The request body of /predict: read within the size limit, parsed into records."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from shipml.errors import ApiError

Record = dict[str, Any]
_SHOWN = 5


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
    return records


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
