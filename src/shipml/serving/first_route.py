"""POST /predict answered ahead of FastAPI's middleware stack.

FastAPI hands every request through six layers (server errors, telemetry, a body limit, the
exception handlers, an exit stack, the router), each wrapping the request and its `send`.
/predict needs none of them: its handler reads and checks the body itself, and
`RequestContextMiddleware` gives it its id, counts it and turns an escaped error into a 500.
Any other request, and /predict with another method (405), goes through the app as before.
Middleware added to the app later (CORS, say) sees every request again: the shortcut then
stands aside.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from shipml.errors import ApiError
from shipml.serving.shapes import refuse

Handler = Callable[[Request], Awaitable[Response]]


class ServingApp(FastAPI):
    """A FastAPI app whose POST requests to one path go straight to their endpoint."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._first: tuple[str, ASGIApp] | None = None
        self._middleware_count = 0  # the app's middleware when `answer_first` was called

    def answer_first(self, path: str, endpoint: ASGIApp) -> None:
        """Answer POST requests to `path` with `endpoint` alone, before the middleware."""
        self._first = (path, endpoint)
        self._middleware_count = len(self.user_middleware)
        self.middleware_stack = None  # built again, with it, at the next request

    def build_middleware_stack(self) -> ASGIApp:
        """FastAPI's stack, behind the endpoint answered first (unless middleware came later)."""
        stack = super().build_middleware_stack()
        if self._first is None or len(self.user_middleware) != self._middleware_count:
            return stack
        path, endpoint = self._first
        return _PostFirst(path, endpoint, stack)


def endpoint_of(handler: Handler) -> ASGIApp:
    """`handler` as an ASGI app; an `ApiError` it raises is answered as the app's handler does."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except ApiError as error:
            response = await refuse(request, error)
        await response(scope, receive, send)

    return endpoint


class _PostFirst:
    def __init__(self, path: str, endpoint: ASGIApp, app: ASGIApp) -> None:
        self._path = path
        self._endpoint = endpoint
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and _route(scope) == self._path:
            await self._endpoint(scope, receive, send)
        else:
            await self._app(scope, receive, send)


def _route(scope: Scope) -> str:
    """The request's path within the app (without the root path it is served under)."""
    path: str = scope["path"]
    return path.removeprefix(scope.get("root_path", ""))
