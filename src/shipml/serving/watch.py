"""Hot reload and readiness: watch the registry alias and the run store in the background.

Every `interval` seconds the watch asks the registry which version the alias points at
and pings the store. When the alias moved, the new version is loaded in a thread, warmed
up, and swapped in between two batches; requests never wait for it and never fail
because of it. A registry or store that does not answer makes the server not ready; the
loaded model keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from shipml.serving.health import REGISTRY, STORE, Health
from shipml.serving.metrics import ServingMetrics
from shipml.serving.model import ModelSlot, ServedModel
from shipml.serving.probes import Probe, first_line, in_thread, without_password
from shipml.serving.registry import LOAD_TIMEOUT_FACTOR
from shipml.store import RunStore
from shipml.versioning.tracking import ModelVersionInfo, Tracker

log = logging.getLogger(__name__)


@dataclass
class Watch:
    """The background checks of one app."""

    health: Health
    slot: ModelSlot
    metrics: ServingMetrics
    store: Callable[[], RunStore]
    tracker: Tracker | None  # None: the model was handed to the app, no registry to watch
    alias: str
    warm_up: Callable[[ServedModel], None]  # raises to refuse the new version
    interval: float
    timeout: float
    _resolve: Probe[ModelVersionInfo] | None = field(init=False, default=None)
    _ping: Probe[object] = field(init=False)

    def __post_init__(self) -> None:
        self._ping = Probe(lambda: self.store().runs(limit=1), self.timeout)
        if self.tracker is not None:
            tracker, alias = self.tracker, self.alias
            self._resolve = Probe(lambda: tracker.resolve(alias), self.timeout)

    async def run(self) -> None:
        """Check, then check again every `interval` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    async def check(self) -> None:
        """Check the store and the registry once; reload when the alias moved."""
        await asyncio.gather(self._check_store(), self._check_registry())

    async def _check_store(self) -> None:
        try:
            await self._ping()
        except Exception as error:
            self.health.down(STORE, first_line(error))
        else:
            self.health.up(STORE)

    async def _check_registry(self) -> None:
        if self._resolve is None or self.tracker is None:
            return
        try:
            info = await self._resolve()
        except Exception as error:
            where = without_password(self.tracker.tracking_uri)
            self.health.down(REGISTRY, f"{where}: {first_line(error)}")
            return
        self.health.up(REGISTRY)
        if info.ref.version != self.slot.current.ref.version:
            await self._reload(info)

    async def _reload(self, info: ModelVersionInfo) -> None:
        assert self.tracker is not None
        tracker, alias = self.tracker, self.alias
        serving = self.slot.current.ref
        log.info(
            "alias %s moved from v%s to v%s: loading it", alias, serving.version, info.ref.version
        )
        try:
            loading = asyncio.wrap_future(in_thread(lambda: tracker.load(alias)))
            loaded = await asyncio.wait_for(loading, self.timeout * LOAD_TIMEOUT_FACTOR)
            candidate = ServedModel.of(loaded)
            await asyncio.to_thread(self.warm_up, candidate)
        except Exception as error:
            self.metrics.reloads.labels("failed").inc()
            log.error(
                "cannot load %s@%s v%s, still serving v%s: %s",
                info.ref.name,
                alias,
                info.ref.version,
                serving.version,
                first_line(error),
            )
            return
        previous = self.slot.replace(candidate)
        self.metrics.serving(candidate.ref, previous.ref)
        self.metrics.reloads.labels("succeeded").inc()
        log.info("now serving %s v%s (was v%s)", alias, candidate.ref.version, previous.ref.version)
