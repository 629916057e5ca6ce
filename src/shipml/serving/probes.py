"""Blocking calls to the registry and the store, bounded in time.

MLflow retries an unreachable backend for minutes (its database engine, its HTTP client),
so every call the server makes to it runs in a daemon thread and is waited for at most a
timeout. A call that is still running is not started again: the next probe waits on it.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Generic, TypeVar

from shipml.errors import ProbeTimeout

T = TypeVar("T")


def in_thread(function: Callable[[], T]) -> Future[T]:
    """Start `function` in a daemon thread (it never holds up the process's exit)."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function())
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, name="shipml-probe", daemon=True).start()
    return future


def call_within(function: Callable[[], T], timeout: float) -> T:
    """`function()`, or `ProbeTimeout` after `timeout` seconds."""
    try:
        return in_thread(function).result(timeout)
    except FutureTimeout:
        raise ProbeTimeout(f"no answer within {timeout:g} s") from None


class Probe(Generic[T]):
    """Calls a blocking function from the event loop, one call at a time, within a timeout."""

    def __init__(self, function: Callable[[], T], timeout: float) -> None:
        self._function = function
        self._timeout = timeout
        self._running: Future[T] | None = None

    async def __call__(self) -> T:
        """The function's result; its exception, or `ProbeTimeout`."""
        if self._running is None or self._running.done():
            self._running = in_thread(self._function)
        waiting = asyncio.wrap_future(self._running)
        done, _ = await asyncio.wait({waiting}, timeout=self._timeout)
        if not done:
            raise ProbeTimeout(f"no answer within {self._timeout:g} s")
        return waiting.result()


def first_line(error: BaseException) -> str:
    """The first line of an error's message (or its type when it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def without_password(uri: str) -> str:
    """`uri` with the password of any user:password@ part masked."""
    return re.sub(r"(//[^/:@]+):[^/@]*@", r"\1:***@", uri)
