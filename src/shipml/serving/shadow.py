"""Shadow scoring: the challenger scores the records the champion answered, off the response
path, and the online window records how the two compare.

The champion's bookkeeping (after its answers are sent) offers the answered requests to
`Shadow`; they wait in a bounded queue (`[serving] shadow_queue_records`), and what does
not fit is dropped and counted (`shipml_shadow_dropped_records_total`, and in the window).
A thread of its own takes the queue in batches (everything that came within
`shadow_wait_ms` of the first record, up to `max_records`): big batches, because pandas and
scikit-learn cost far more per call than per row, so that the challenger takes as little
CPU from the champion as it can. The challenger is never waited for: requests are answered
before it sees them, and its failures are counted, never raised.

Per batch, the challenger's predictions are compared with the champion's answers (see
`shipml.monitoring.shadow`) and the profile goes to the online window of the champion
version that answered (`OnlineMonitor.record_shadow`): agreement, both distributions on the
champion's baseline bins, and the challenger's latency per shadow batch. A shadow batch may
land in the window after the one that holds its requests (it is scored a moment later).
With `[labels]`, the challenger's output rows are kept with their request ids too
(`OnlineMonitor.record_shadow_answers`), for the prediction log the champion's go to, so that
labels judge both models.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipml.monitoring import (
    END_TO_END,
    NumericColumnSpec,
    ProfileSpec,
    ShadowProfile,
    compare_predictions,
    shadow_profile,
)
from shipml.serving.metrics import ServingMetrics
from shipml.serving.model import ModelSlot, ServedModel
from shipml.serving.monitor import OnlineMonitor
from shipml.serving.scoring import Outcome, Scored, Scorer
from shipml.serving.service import Answered
from shipml.serving.shapes import Record

log = logging.getLogger(__name__)

STOP_SECONDS = 10.0  # scoring what is still queued when the server stops, at most


@dataclass(frozen=True)
class _Item:
    champion: ServedModel
    request: Answered


class Shadow:
    """Scores the champion's answered requests with the challenger, in its own thread."""

    def __init__(
        self,
        scorer: Scorer,
        slot: ModelSlot,
        monitor: OnlineMonitor,
        metrics: ServingMetrics,
        *,
        column: str | None,
        buckets: Sequence[float],
        max_rows: int,
        max_queued_rows: int,
        wait_seconds: float,
        tolerance: float,
    ) -> None:
        self._scorer = scorer
        self._slot = slot
        self._monitor = monitor
        self._metrics = metrics
        self._column = column
        self._fallback = _fallback_spec(column, buckets)
        self._max_rows = max_rows
        self._max_queued_rows = max_queued_rows
        self._wait = wait_seconds
        self._tolerance = tolerance
        self._queue: deque[_Item] = deque()
        self._queued_rows = 0
        self._busy = False
        self._stopping = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def offer(self, champion: ServedModel, requests: Sequence[Answered]) -> None:
        """Queue answered requests for the challenger (if one is set); drop what does not fit."""
        challenger = self._slot.challenger
        if challenger is None or not requests:
            return
        dropped = 0
        with self._changed:
            if self._stopping:
                return
            for request in requests:
                rows = len(request.records)
                if self._queued_rows + rows > self._max_queued_rows:
                    dropped += rows
                    continue
                self._queue.append(_Item(champion, request))
                self._queued_rows += rows
            self._changed.notify_all()
            self._start()
        if dropped:
            self._metrics.shadow_dropped.inc(dropped)
            ref = challenger.ref
            self._monitor.record_shadow(
                champion.ref,
                ShadowProfile(
                    challenger_name=ref.name, challenger_version=ref.version, dropped=dropped
                ),
            )

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being scored; False when `timeout` ran out first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._queue and not self._busy, timeout)

    def stop(self) -> None:
        """Score what is queued (for at most `STOP_SECONDS`), then stop the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(STOP_SECONDS)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shipml-shadow", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            try:
                self._score(batch)
            except Exception:  # the challenger must never take the server down
                log.exception("shadow scoring of %d requests failed", len(batch))
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _take(self) -> list[_Item] | None:
        """The next shadow batch: what came within the wait after the first record."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._queue) or self._stopping)
            if not self._queue:
                return None
            self._changed.wait_for(
                lambda: self._stopping or self._queued_rows >= self._max_rows, self._wait
            )
            batch: list[_Item] = []
            rows = 0
            while self._queue and (
                not batch or rows + len(self._queue[0].request.records) <= self._max_rows
            ):
                item = self._queue.popleft()
                batch.append(item)
                rows += len(item.request.records)
            self._queued_rows -= rows
            self._busy = True
            return batch

    def _score(self, batch: list[_Item]) -> None:
        challenger = self._slot.challenger
        if challenger is None:
            return  # the alias was removed meanwhile
        started = time.perf_counter()
        result = self._scorer.score(challenger, [item.request.records for item in batch])
        seconds = time.perf_counter() - started
        latencies: dict[str, list[float]] = {END_TO_END: [seconds]}
        for timing in result.steps:
            latencies.setdefault(timing.step, []).append(timing.duration_s)
        self._metrics.shadow_seconds.observe(seconds)
        by_champion: dict[str, list[tuple[_Item, Outcome]]] = {}
        for item, outcome in zip(batch, result.outcomes, strict=True):
            by_champion.setdefault(item.champion.ref.version, []).append((item, outcome))
        for pairs in by_champion.values():
            self._compare(challenger, pairs, latencies)
            latencies = {}  # the batch's latency counts once

    def _compare(
        self,
        challenger: ServedModel,
        pairs: list[tuple[_Item, Outcome]],
        latencies: dict[str, list[float]],
    ) -> None:
        champion = pairs[0][0].champion
        theirs: list[Any] = []
        ours: list[Any] = []
        failed = 0
        kept: list[tuple[str, list[Record]]] = []
        for item, outcome in pairs:
            answered = item.request.rows
            if not isinstance(outcome, Scored) or len(outcome.rows) != len(answered):
                failed += len(item.request.records)
                continue
            theirs += [self._value(row) for row in answered]
            ours += [self._value(row) for row in outcome.rows]
            kept.append((item.request.request_id, outcome.rows))
        if self._monitor.logs_predictions:
            self._monitor.record_shadow_answers(champion.ref, challenger.ref, kept)
        agreed = compare_predictions(
            theirs, ours, thresholds=_thresholds(champion, challenger), tolerance=self._tolerance
        )
        spec = champion.baseline.spec if champion.baseline is not None else self._fallback
        column = self._column or "prediction"
        try:
            found = shadow_profile(
                challenger.ref.name,
                challenger.ref.version,
                column=column,
                champion=theirs,
                challenger=ours,
                agreed=agreed,
                spec=spec if self._column is not None else None,
                seconds_by_step=latencies,
                failed=failed,
            )
        except Exception as error:  # predictions that do not fit the bins: agreement only
            log.debug("shadow predictions not profiled: %s", error)
            found = shadow_profile(
                challenger.ref.name,
                challenger.ref.version,
                column=column,
                champion=theirs,
                challenger=ours,
                agreed=agreed,
                spec=None,
                seconds_by_step=latencies,
                failed=failed,
            )
        self._monitor.record_shadow(champion.ref, found)
        matched = int(np.count_nonzero(agreed))
        self._metrics.shadow_records.labels("agreed").inc(matched)
        self._metrics.shadow_records.labels("disagreed").inc(len(agreed) - matched)
        self._metrics.shadow_records.labels("failed").inc(failed)

    def _value(self, row: Record) -> Any:
        """The prediction of an output row (the whole row without a prediction column)."""
        if self._column is not None and self._column in row:
            return row[self._column]
        return repr(sorted(row.items()))


def _thresholds(champion: ServedModel, challenger: ServedModel) -> tuple[float, float] | None:
    """Both decision thresholds when both models are binary classifiers, else None."""
    if champion.loaded.info.task == "binary" and challenger.loaded.info.task == "binary":
        return champion.loaded.threshold, challenger.loaded.threshold
    return None


def _fallback_spec(column: str | None, buckets: Sequence[float]) -> ProfileSpec | None:
    """Bins for a champion without a baseline: the prediction histogram's buckets."""
    edges = sorted(set(buckets))
    if column is None or len(edges) < 2:
        return None
    return ProfileSpec(columns={column: NumericColumnSpec(edges=edges)})
