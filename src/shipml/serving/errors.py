"""JSON answers of the server, its error answers (`ApiError`) included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pydantic_core
from starlette.responses import Response

from shipml.errors import ApiError

JSON = "application/json"


def json_response(
    status: int, content: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    """`content` as JSON (dates as ISO 8601, NaN as null)."""
    body = pydantic_core.to_json(content, inf_nan_mode="null", fallback=_fallback)
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def error_response(error: ApiError, request_id: str) -> Response:
    """The JSON answer to a failed request: `error`, `request_id`, then the details."""
    content = {"error": error.message, "request_id": request_id, **error.details}
    return json_response(error.status, content, error.headers)


def _fallback(value: Any) -> Any:
    """Values pydantic cannot serialise: pandas' missing markers become null, the rest text."""
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return str(value)
