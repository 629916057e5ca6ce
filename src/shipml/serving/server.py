"""The HTTP server's side of a connection: what a client may hold, for how long, and what the
access log may show of it.

uvicorn reads headers without a size or count limit and without a timeout (a client that
sends half a request line holds its connection for ever). `BoundedHttpProtocol` is its
httptools protocol with the limits of `[serving]`:

- headers: at most `max_header_bytes` bytes and `max_headers` fields, else 431; complete
  within `header_timeout_seconds` of the connection's first byte (of the connection itself
  for its first request), else 408 and the connection is closed;
- body: complete within `body_timeout_seconds` of the headers, else 408 and closed (the app
  sees the client go; its request is counted as 408);
- connections: at most `max_connections` at once (uvicorn's `limit_concurrency`: beyond
  it, requests get a 503).

The app hands its limits to the protocol through the lifespan state (`LIMITS`), so each
served app, in each worker, uses its own project's settings. The access log shows a
request's path, never its query string's values (`RedactedQuery`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shipml.config import ServingSettings
from shipml.errors import ApiError
from shipml.serving.metrics import TIMED_OUT

log = logging.getLogger(__name__)

LIMITS = "shipml.connection_limits"  # the key of `ConnectionLimits` in the lifespan state
PROTOCOL = f"{__name__}:BoundedHttpProtocol"


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may send, and how slowly."""

    max_header_bytes: int = ServingSettings.model_fields["max_header_bytes"].default
    max_headers: int = ServingSettings.model_fields["max_headers"].default
    header_timeout: float = ServingSettings.model_fields["header_timeout_seconds"].default
    body_timeout: float = ServingSettings.model_fields["body_timeout_seconds"].default

    @classmethod
    def of(cls, settings: ServingSettings) -> ConnectionLimits:
        """The limits `[serving]` sets."""
        return cls(
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
        )


def server_options(settings: ServingSettings) -> dict[str, Any]:
    """The uvicorn options that bound what clients can hold (see the module docstring)."""
    return {"http": PROTOCOL, "limit_concurrency": settings.max_connections}


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with limits on headers and timeouts on reading."""

    def __init__(self, *arguments: Any, **options: Any) -> None:
        super().__init__(*arguments, **options)
        limits = self.app_state.get(LIMITS)
        self._limits = limits if isinstance(limits, ConnectionLimits) else ConnectionLimits()
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_headers = True  # until the first request's headers are in
        self._header_bytes = 0
        self._header_fields = 0
        self._header_size = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn narrows the transport
        """Start the clock: the first request's headers are due within the header timeout."""
        super().connection_made(cast(asyncio.Transport, OneWritePerTurn(transport, self.loop)))
        self._set_deadline(self._limits.header_timeout, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._clear_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse `data`; refuse the request when its headers go beyond the limits."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, ApiError):
                self._refuse(error.__context__)
            else:
                self._invalid()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._reading_headers:  # every byte of this chunk belongs to unfinished headers
            self._header_bytes += len(data)
            if self._header_bytes > self._limits.max_header_bytes:
                self._refuse(self._headers_too_large())

    def on_message_begin(self) -> None:
        """A request starts: its headers are due within the header timeout."""
        super().on_message_begin()
        self._reading_headers = True
        self._header_bytes = self._header_fields = self._header_size = 0
        if self._deadline is None:  # the first request's clock runs from the connection
            self._set_deadline(self._limits.header_timeout, self._headers_too_slow)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count the fields and their bytes."""
        self._header_fields += 1
        self._header_size += len(name) + len(value)
        if self._header_fields > self._limits.max_headers:
            raise ApiError(
                431,
                f"more than {self._limits.max_headers} header fields (serving.max_headers)",
            )
        if self._header_size > self._limits.max_header_bytes:
            raise self._headers_too_large()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The headers are in: the body is due within the body timeout."""
        self._reading_headers = False
        self._set_deadline(self._limits.body_timeout, self._body_too_slow)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The whole request is in: no clock until the next one starts."""
        self._clear_deadline()
        super().on_message_complete()

    def _headers_too_large(self) -> ApiError:
        return ApiError(
            431,
            f"headers above {self._limits.max_header_bytes} bytes (serving.max_header_bytes)",
        )

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._header_bytes == 0:
            self.transport.close()  # not a byte of a request: nothing to answer
            return
        timeout = self._limits.header_timeout
        message = f"headers not received within {timeout:g} s (serving.header_timeout_seconds)"
        self._refuse(ApiError(408, message))

    def _body_too_slow(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or not cycle.more_body:
            return
        timeout = self._limits.body_timeout
        message = f"body not received within {timeout:g} s (serving.body_timeout_seconds)"
        cast(dict[str, Any], self.scope)[TIMED_OUT] = message  # the app logs and counts it
        if cycle.response_started:
            self.transport.close()
        else:
            self._refuse(ApiError(408, message), logged=False)

    def _refuse(self, refusal: ApiError, *, logged: bool = True) -> None:
        """Answer `refusal` and close the connection (the rest of the request is not read)."""
        if logged:
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            log.info("refused a request from %s: %s", client, refusal.message)
        body = refusal.message.encode()
        reason = HTTPStatus(refusal.status).phrase
        head = (
            f"HTTP/1.1 {refusal.status} {reason}\r\n"
            "content-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()

    def _invalid(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    def _set_deadline(self, seconds: float, expired: Any) -> None:
        self._clear_deadline()
        self._deadline = self.loop.call_later(seconds, expired)

    def _clear_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


class OneWritePerTurn:
    """A connection's transport whose writes within one turn of the event loop go out as one.

    uvicorn writes a response's status line and headers, then its body: two system calls and
    two TCP segments per answer, which the client reads twice. Held until the end of the
    turn (the response is complete by then), they are sent together.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Send `data` at the end of this turn, after the others written in it."""
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        """Send what was written so far."""
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Send what was written, then close."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is closing or closed."""
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The socket's details (peer and own address, ...)."""
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        """Stop reading from the client (uvicorn's flow control)."""
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        """Read from the client again."""
        self._transport.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """Hand the connection to another protocol (an upgrade), written bytes sent first."""
        self.flush()
        self._transport.set_protocol(protocol)


class RedactedQuery(logging.Filter):
    """On uvicorn's access log: a query string's values become `***` (they may be secrets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the path argument of an access line; never drops a record."""
        arguments = record.args
        if isinstance(arguments, tuple) and len(arguments) >= 3:
            path = arguments[2]
            if isinstance(path, str) and "?" in path:
                record.args = (*arguments[:2], redacted_query(path), *arguments[3:])
        return True


def redacted_query(path: str) -> str:
    """`path` with each value of its query string (or each bare token) shown as `***`."""
    where, _, query = path.partition("?")
    parts = [f"{part.partition('=')[0]}=***" if "=" in part else "***" for part in query.split("&")]
    return f"{where}?{'&'.join(parts)}"


_redacted_query = RedactedQuery()


def redact_access_log() -> None:
    """Put `RedactedQuery` on uvicorn's access logger (once per process)."""
    access = logging.getLogger("uvicorn.access")
    if _redacted_query not in access.filters:
        access.addFilter(_redacted_query)
