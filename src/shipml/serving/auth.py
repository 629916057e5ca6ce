"""The API key: `Authorization: Bearer <key>`, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from shipml.serving.errors import ApiError

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="The key set in the environment variable SHIPML_SERVING__API_KEY.",
)

Credentials = HTTPAuthorizationCredentials | None
Guard = Callable[[Credentials], None]


def api_key_guard(key: SecretStr) -> Guard:
    """A FastAPI dependency that answers 401 unless the request carries `key`."""
    expected = key.get_secret_value().encode()

    def require_key(credentials: Annotated[Credentials, Depends(_bearer)]) -> None:
        provided = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(provided, expected):
            raise ApiError(
                401,
                "missing or wrong API key: send the header Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_key
