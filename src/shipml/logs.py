"""Logging: the request id on every line (in the server), JSON lines when not on a terminal."""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

NO_REQUEST = "-"

request_id_var: ContextVar[str] = ContextVar("shipml_request_id", default=NO_REQUEST)


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Log lines written inside the block carry `request_id`."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `record.request_id`; never drops a record."""
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message, exception."""

    _encoder = json.JSONEncoder(default=str)  # `json.dumps(default=...)` builds one per call

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write to the `sys.stderr` of the moment, not the one seen at configuration.

    Whatever swaps `sys.stderr` for a while (test runners, Typer's CliRunner) would
    otherwise leave the handler writing to a closed stream once it is put back.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Emit `record` on the current `sys.stderr`."""
        self.stream = sys.stderr
        super().emit(record)


class BackgroundStderrHandler(logging.Handler):
    """Queue records; a writer thread writes what has queued, in one write, 20 times a second.

    A write to stderr releases the GIL. On a server's event loop, each one let the scoring
    thread take the GIL for up to the interpreter's switch interval (5 ms): one access line
    per request cost about a fifth of a worker's throughput. Here the event loop only
    queues the record (its message is rendered first, and its filters have already stamped
    the request id); `close()`, called by `logging.shutdown` at exit, writes what is left.
    """

    GATHER_SECONDS = 0.05

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="shipml-log-writer", daemon=True)
        self._writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue `record`, its message rendered now (its arguments may change later)."""
        record.msg, record.args = record.getMessage(), None
        self._queue.put(record)

    def close(self) -> None:
        """Write the records still queued, then stop the writer."""
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join(timeout=10)
        super().close()

    def _write(self) -> None:
        while True:
            records = [self._queue.get()]
            time.sleep(self.GATHER_SECONDS)  # wake up a few times a second, not once a record
            while not self._queue.empty():
                records.append(self._queue.get())
            lines = [line for line in map(self._formatted, records) if line is not None]
            if lines:
                self._write_lines(lines, records[0])
            if None in records:
                return

    def _write_lines(self, lines: list[str], first: logging.LogRecord | None) -> None:
        try:
            sys.stderr.write("\n".join(lines) + "\n")
            sys.stderr.flush()
        except Exception:  # the writer must live on: a dead one would let the queue grow
            if first is not None:
                self.handleError(first)

    def _formatted(self, record: logging.LogRecord | None) -> str | None:
        if record is None:
            return None
        try:
            return self.format(record)
        except Exception:
            self.handleError(record)
            return None


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


# Libraries that log at INFO about their own plumbing (migrations, artifact downloads).
QUIET = ("mlflow", "alembic", "urllib3", "distributed", "numexpr")
# MLflow warns about its own choices (pickled models, input examples it cannot check):
# shipml reports what it trained; those lines show only when verbose.
QUIETER = {"mlflow": "ERROR"}


def logging_config(
    *,
    json_lines: bool | None = None,
    level: str = "INFO",
    background: bool = False,
    verbose: bool = False,
) -> dict[str, Any]:
    """A `logging.config.dictConfig` (uvicorn applies it in every worker of the server).

    `json_lines` None: JSON when stderr is not a terminal, readable text when it is.
    `background`: lines are written by a thread (`BackgroundStderrHandler`), for servers.
    `verbose`: the libraries' own lines too (`QUIET`, `QUIETER`), at `level`.
    """
    quiet = {name: QUIETER.get(name, "WARNING") for name in QUIET}
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if json_lines else {"format": TEXT_FORMAT}
    )
    handler = BackgroundStderrHandler if background else StderrHandler
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "()": f"{__name__}.{handler.__name__}",
                "filters": ["request_id"],
                "formatter": "default",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True, "level": level}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            **({} if verbose else {name: {"level": quiet[name]} for name in QUIET}),
        },
    }
