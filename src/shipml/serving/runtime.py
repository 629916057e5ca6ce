"""The background work of an app: micro-batching, the registry/store watch, monitoring flushes.

It starts with the app's lifespan, or with the first request when the app is mounted in
another app (Starlette does not run a mounted app's lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from shipml.serving.batching import MicroBatcher
from shipml.serving.monitor import OnlineMonitor
from shipml.serving.watch import Watch

log = logging.getLogger(__name__)

FINAL_FLUSH_SECONDS = 10.0


class Runtime:
    """Starts and stops the batcher and the background loops, once."""

    def __init__(self, batcher: MicroBatcher, watch: Watch, monitor: OnlineMonitor) -> None:
        self.batcher = batcher
        self.watch = watch
        self.monitor = monitor
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Check the store and registry once, then start everything."""
        await self.watch.check()
        self._launch()

    def ensure_started(self) -> None:
        """Start everything if the lifespan did not (a mounted app)."""
        if not self._tasks:
            self._launch(check_first=True)

    async def stop(self) -> None:
        """Stop the loops and the batcher, then store the last monitoring window."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.batcher.stop()
        try:
            await asyncio.wait_for(asyncio.to_thread(self.monitor.flush), FINAL_FLUSH_SECONDS)
        except TimeoutError:
            log.warning("the last monitoring window was not stored in time and is lost")

    def _launch(self, *, check_first: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self.batcher.start()
        self._tasks = [
            loop.create_task(self._watch(check_first), name="shipml-watch"),
            loop.create_task(self.monitor.run(self.batcher.after_batches), name="shipml-monitor"),
        ]

    async def _watch(self, check_first: bool) -> None:
        if check_first:
            await self.watch.check()
        await self.watch.run()
