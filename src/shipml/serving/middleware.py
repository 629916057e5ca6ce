"""Per request: an id (taken from X-Request-ID or made), returned and logged; its metrics."""

from __future__ import annotations

import logging
import random
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipml.errors import ApiError
from shipml.logs import request_context
from shipml.serving.errors import error_response
from shipml.serving.metrics import ServingMetrics

log = logging.getLogger(__name__)

HEADER = b"x-request-id"
_ACCEPTED_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


class RequestContextMiddleware:
    """Gives every HTTP request an id (logs, response header) and counts it in the metrics.

    An error that escapes the app becomes a JSON 500 with the request id, logged once.
    """

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = [*message.get("headers", []), (HEADER, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with request_context(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
                if response_started:
                    raise
                failure = ApiError(500, "internal error; the server log has the details")
                await error_response(failure, request_id)(scope, receive, send_with_id)
            finally:
                path = scope["path"].removeprefix(scope.get("root_path", ""))
                self.metrics.observe_request(path, status, time.perf_counter() - started)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and _ACCEPTED_ID.fullmatch(value):
            return value.decode()
    return f"{random.getrandbits(128):032x}"  # unique enough, and no system call per request
