"""Alert sinks: where a newly opened alert goes besides the run store.

- `LogSink` writes one JSON line per alert on the "shipml.alerts" logger.
- `WebhookSink` POSTs the alert as JSON (a Slack-compatible `text` field plus the
  structured fields) from a background thread: `send` only puts the alert on a bounded
  queue, so a slow or dead endpoint never blocks a batch window or a prediction.
  Failed deliveries are retried with exponential backoff, then logged, never raised.
  The thread ends after a second without work and starts again on the next alert. At
  interpreter exit, queued alerts get one last chance: exit waits for them, as long as
  their timeouts and retries can take but at most `exit_wait_seconds` (`[alerts]
  exit_wait_seconds`, 10 s by default). `flush(timeout)` waits for them explicitly.
- A notice the webhook gives up on (retries spent, refused, queue full, still queued when
  exit stops waiting) goes to `keep`, when given: the project keeps it in the run store,
  and the next run that builds the project's sinks sends it again (`resend`).

The webhook URL is a secret (`SHIPML_ALERTS__WEBHOOK_URL`): it is never logged nor shown.
httpx logs every request with its URL at INFO: on httpx's and httpcore's loggers, URLs lose
their credentials, path and query (`HiddenUrlPaths`), whatever logging the process set up.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from shipml._settings import Section
from shipml.errors import MonitoringError
from shipml.monitoring.alerts import Severity

ALERT_LOGGER = "shipml.alerts"
DEFAULT_MAX_QUEUED = 1000
DEFAULT_BACKOFF_SECONDS = 0.5
IDLE_SECONDS = 1.0  # a webhook thread without work for this long ends
DEFAULT_EXIT_WAIT_SECONDS = 10.0

KeepUndelivered = Callable[["AlertNotice", str], None]  # (notice, why it was not delivered)

logger = logging.getLogger(__name__)
HTTP_CLIENT_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.proxy")
_LOG_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}
_RETRYABLE_STATUS = 429


class AlertNotice(BaseModel):
    """What a sink receives about a newly opened alert."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pipeline: str
    rule: str
    column: str | None
    severity: Severity
    message: str
    value: float | None = None
    threshold: float | None = None
    alert_id: int | None = None
    run_id: str | None = None
    window_start: datetime | None = None
    opened_at: datetime | None = None

    def text(self) -> str:
        """One human-readable line, as a chat message."""
        subject = self.rule if self.column is None else f"{self.rule} on '{self.column}'"
        return f"[shipml] {self.severity.upper()} {self.pipeline}: {subject}: {self.message}"

    def payload(self) -> dict[str, Any]:
        """The JSON body: Slack's `text` plus every structured field."""
        return {"text": self.text(), **self.model_dump(mode="json")}


class AlertSink(Protocol):
    """Somewhere alerts are delivered; `send` must return at once and never raise."""

    def send(self, notice: AlertNotice) -> None:
        """Deliver (or queue) one alert."""
        ...

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for queued alerts; True when none is left."""
        ...


class LogSink:
    """One JSON log line per alert on the "shipml.alerts" logger, at the alert's severity."""

    def __init__(self, logger_name: str = ALERT_LOGGER) -> None:
        self._logger = logging.getLogger(logger_name)

    def send(self, notice: AlertNotice) -> None:
        """Log the alert as one JSON object."""
        line = json.dumps({"event": "alert", **notice.model_dump(mode="json")}, sort_keys=True)
        self._logger.log(_LOG_LEVELS[notice.severity], line)

    def flush(self, timeout: float) -> bool:
        """Nothing is ever queued."""
        return True


class WebhookSink:
    """JSON POSTs from a background thread, with timeout, retries and backoff."""

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 5.0,
        retries: int = 3,
        backoff_seconds: float = DEFAULT_BACKOFF_SECONDS,
        max_queued: int = DEFAULT_MAX_QUEUED,
        exit_wait_seconds: float = DEFAULT_EXIT_WAIT_SECONDS,
        keep: KeepUndelivered | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise MonitoringError("the alert webhook URL must start with http:// or https://")
        if timeout_seconds <= 0 or retries < 0 or backoff_seconds < 0 or max_queued < 1:
            raise MonitoringError(
                "webhook timeout and queue size must be positive, retries and backoff not negative"
            )
        if exit_wait_seconds < 0:
            raise MonitoringError("the webhook's exit wait must not be negative")
        self._url = url
        self._timeout = timeout_seconds
        self._retries = retries
        self._backoff = backoff_seconds
        self._queue: queue.Queue[AlertNotice] = queue.Queue(maxsize=max_queued)
        self.exit_wait_seconds = exit_wait_seconds
        self._keep = keep
        self._delivering: AlertNotice | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards starting and ending the thread
        _webhooks.add(self)

    def __repr__(self) -> str:
        return (
            f"WebhookSink(url=<secret>, timeout_seconds={self._timeout}, retries={self._retries})"
        )

    @property
    def longest_delivery_seconds(self) -> float:
        """How long one alert can take: every attempt timing out, plus the backoffs."""
        backoffs = sum(self._backoff * 2.0**attempt for attempt in range(self._retries))
        return self._timeout * (self._retries + 1) + backoffs

    @property
    def keeps_undelivered(self) -> bool:
        """Whether notices it gives up on are kept for a later run."""
        return self._keep is not None

    @property
    def pending(self) -> int:
        """Alerts queued or being delivered."""
        return self._queue.unfinished_tasks

    def send(self, notice: AlertNotice) -> None:
        """Queue the alert for delivery; when the queue is full, log that it is dropped."""
        with self._lock:  # queued under the lock, so an ending thread cannot miss it
            try:
                self._queue.put_nowait(notice)
            except queue.Full:
                logger.error(
                    "alert webhook queue is full (%d waiting); not sending %s alert %s on %s",
                    self._queue.maxsize,
                    notice.severity,
                    notice.rule,
                    notice.column,
                )
                self._kept(notice, "the webhook queue was full")
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="shipml-alert-webhook", daemon=True
                )
                self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds until every queued alert was delivered or given up."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def resend(self, notices: Iterable[AlertNotice]) -> int:
        """Queue notices an earlier run could not deliver; return how many."""
        count = 0
        for notice in notices:
            self.send(notice)
            count += 1
        return count

    def keep_undelivered(self) -> int:
        """Hand every notice still queued or in delivery to `keep` (at exit); return how many."""
        left: list[AlertNotice] = []
        with self._lock:
            if self._delivering is not None:
                left.append(self._delivering)  # may still arrive: delivery is at least once
            while True:
                try:
                    left.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                self._queue.task_done()
        for notice in left:
            self._kept(notice, "not delivered before the process exited")
        return len(left)

    def _kept(self, notice: AlertNotice, reason: str) -> None:
        if self._keep is None:
            return
        try:
            self._keep(notice, reason)
        except Exception as error:  # e.g. the store is down too: say so, in one line
            logger.error(
                "could not keep the undelivered %s alert %s for a later run: %s",
                notice.severity,
                notice.rule,
                f"{type(error).__name__}: {error}",
            )

    def _work(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            while (notice := self._next()) is not None:
                self._delivering = notice
                try:
                    self._deliver(client, notice)
                finally:
                    self._delivering = None
                    self._queue.task_done()

    def _next(self) -> AlertNotice | None:
        """The next alert, or None when there was none for `IDLE_SECONDS` (the thread ends)."""
        while True:
            try:
                return self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return None

    def _deliver(self, client: httpx.Client, notice: AlertNotice) -> None:
        attempts = self._retries + 1
        for attempt in range(attempts):
            problem = self._post(client, notice)
            if problem is None:
                return
            if not problem.retryable or attempt == attempts - 1:
                logger.error(
                    "alert webhook failed for %s%s after %d attempt(s): %s",
                    notice.rule,
                    f" on {notice.column}" if notice.column else "",
                    attempt + 1,
                    problem.reason,
                )
                self._kept(notice, f"{problem.reason} after {attempt + 1} attempt(s)")
                return
            time.sleep(self._backoff * 2**attempt)

    def _post(self, client: httpx.Client, notice: AlertNotice) -> _Problem | None:
        try:
            response = client.post(self._url, json=notice.payload())
        except httpx.HTTPError as error:  # the message may name the URL: show only the kind
            return _Problem(type(error).__name__, retryable=True)
        if response.is_success:
            return None
        retryable = response.status_code >= 500 or response.status_code == _RETRYABLE_STATUS
        return _Problem(f"HTTP {response.status_code}", retryable=retryable)


@dataclass(frozen=True)
class _Problem:
    """Why one POST failed, and whether trying again may help."""

    reason: str
    retryable: bool


_webhooks: weakref.WeakSet[WebhookSink] = weakref.WeakSet()


class HiddenUrlPaths(logging.Filter):
    """URLs in a log line keep their scheme and host only: `http://host:8080/***`."""

    _URL = re.compile(r"(https?://)(?:[^/@\s\"']*@)?([^/?#\s\"']+)[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message when it shows a URL; never drops a record."""
        message = record.getMessage()
        hidden = self._URL.sub(r"\1\2/***", message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_hidden_url_paths = HiddenUrlPaths()
for _name in HTTP_CLIENT_LOGGERS:
    if _hidden_url_paths not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_hidden_url_paths)


def deliver_before_exit(sinks: Iterable[object]) -> None:
    """Wait (bounded by each webhook's `exit_wait_seconds`) for queued alerts; keep the rest."""
    for sink in sinks:
        if not isinstance(sink, WebhookSink):
            continue
        waiting = sink.pending
        if not waiting:
            continue
        longest = min(sink.longest_delivery_seconds * waiting, sink.exit_wait_seconds)
        if not sink.flush(longest):
            kept = sink.keep_undelivered()
            logger.error(
                "exiting with %d alert(s) not delivered to the webhook%s",
                kept,
                "; kept for the next run" if sink.keeps_undelivered else "",
            )


@atexit.register
def _deliver_queued_alerts() -> None:
    """At interpreter exit, wait (bounded) for alerts still queued, which daemon threads hold."""
    deliver_before_exit(list(_webhooks))


class AlertsSettings(Section):
    """[alerts]: the webhook's timeout and retries; its URL only from SHIPML_ALERTS__WEBHOOK_URL."""

    webhook_url: SecretStr | None = None
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_retries: int = Field(default=3, ge=0)
    # How long a finishing process waits for alerts still queued for the webhook; those
    # left are kept in the run store and sent again by the next run.
    exit_wait_seconds: float = Field(default=DEFAULT_EXIT_WAIT_SECONDS, ge=0)

    def sinks(self, keep: KeepUndelivered | None = None) -> list[AlertSink]:
        """The log sink, plus the webhook when SHIPML_ALERTS__WEBHOOK_URL is set.

        `keep` receives the notices the webhook could not deliver.
        """
        sinks: list[AlertSink] = [LogSink()]
        if self.webhook_url is not None:
            sinks.append(
                WebhookSink(
                    self.webhook_url.get_secret_value(),
                    timeout_seconds=self.webhook_timeout_seconds,
                    retries=self.webhook_retries,
                    exit_wait_seconds=self.exit_wait_seconds,
                    keep=keep,
                )
            )
        return sinks
