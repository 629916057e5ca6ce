"""The API key: `Authorization: Bearer <key>`, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import SecretStr

from shipml.errors import ApiError

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="The key set in the environment variable SHIPML_SERVING__API_KEY.",
)

Credentials = HTTPAuthorizationCredentials | None
KeyCheck = Callable[[Request], None]
Guard = Callable[[Request, Credentials], None]


def api_key_check(key: SecretStr) -> KeyCheck:
    """A check that raises a 401 `ApiError` unless the request carries `key`."""
    expected = key.get_secret_value().encode()

    def check(request: Request) -> None:
        scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
        provided = token.encode() if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(provided, expected):
            raise ApiError(
                401,
                "missing or wrong API key: send the header Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


def api_key_guard(key: SecretStr) -> Guard:
    """The same check as a FastAPI dependency, which also documents the scheme in OpenAPI."""
    check = api_key_check(key)

    def require_key(request: Request, _: Annotated[Credentials, Depends(_bearer)]) -> None:
        check(request)

    return require_key
