"""The prediction service: a batch scored with the model being served, then recorded
(metrics, monitoring, the log of failed steps), the champion's answers handed to the shadow."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shipml.logs import request_context
from shipml.serving.batching import Answers, BatchItem, nothing
from shipml.serving.metrics import ServingMetrics
from shipml.serving.model import ModelSlot, ServedModel
from shipml.serving.monitor import OnlineMonitor
from shipml.serving.scoring import BatchResult, Failed, Outcome, Rejected, Scored, Scorer
from shipml.serving.shapes import Record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answered:
    """A request the champion answered: its records and the champion's output rows."""

    records: list[Record]
    rows: list[Record]
    request_id: str = ""


OnAnswered = Callable[[ServedModel, list[Answered]], None]


class PredictionService:
    """Scores batches with the current model (the challenger for canary requests) and records
    what happened; the champion's answered requests go on to `on_answered` (the shadow)."""

    def __init__(
        self,
        scorer: Scorer,
        slot: ModelSlot,
        metrics: ServingMetrics,
        monitor: OnlineMonitor,
        prediction_column: str | None,
        on_answered: OnAnswered | None = None,
    ) -> None:
        self._scorer = scorer
        self._slot = slot
        self._metrics = metrics
        self._monitor = monitor
        self._prediction_column = prediction_column
        self._on_answered = on_answered

    def score_batch(self, batch: Sequence[BatchItem]) -> Answers:
        """One outcome per request, and the recording of the batch to do afterwards."""
        model = self._slot.current
        challenger = self._slot.challenger
        canary = [item for item in batch if item.challenger] if challenger is not None else []
        if not canary:
            return self._answers(model, batch)
        assert challenger is not None
        ours = [item for item in batch if not item.challenger]
        parts = [self._answers(model, ours), self._answers(challenger, canary, shadow=False)]
        outcomes = {
            id(item): outcome
            for items, part in zip((ours, canary), parts, strict=True)
            for item, outcome in zip(items, part.outcomes, strict=True)
        }

        def record() -> None:
            for part in parts:
                part.bookkeeping()

        return Answers([outcomes[id(item)] for item in batch], record)

    def _answers(
        self, model: ServedModel, batch: Sequence[BatchItem], *, shadow: bool = True
    ) -> Answers:
        if not batch:
            return Answers([], nothing)
        result = self._scorer.score(model, [item.records for item in batch])

        def record() -> None:
            try:
                self._record(model, batch, result)
            except Exception:  # monitoring must never take predictions down
                log.exception("recording a batch's metrics and monitoring failed")
            if shadow and self._on_answered is not None:
                answered = [
                    Answered(item.records, outcome.rows, item.request_id)
                    for item, outcome in zip(batch, result.outcomes, strict=True)
                    if isinstance(outcome, Scored)
                ]
                try:
                    self._on_answered(model, answered)
                except Exception:
                    log.exception("offering a batch to the shadow failed")

        return Answers(result.outcomes, record)

    def warm_up(self, model: ServedModel, record: dict[str, object] | None) -> Outcome | None:
        """Score `record` once (first calls are slow), without recording it."""
        if record is None:
            return None
        return self._scorer.score(model, [[record]]).outcomes[0]

    def _record(self, model: ServedModel, batch: Sequence[BatchItem], result: BatchResult) -> None:
        records = sum(len(item.records) for item in batch)
        self._metrics.observe_batch(records, result.steps)
        rejected = 0
        for item, outcome in zip(batch, result.outcomes, strict=True):
            if isinstance(outcome, Rejected):
                rejected += len(item.records)
                self._metrics.observe_rejection(outcome.boundary, outcome.report)
            elif isinstance(outcome, Failed):
                with request_context(item.request_id):
                    log.error("step %s failed:\n%s", outcome.step, outcome.traceback)
        self._observe_predictions(result.predictions)
        self._monitor.record_batch(
            model.ref,
            model.baseline,
            features=result.features,
            predictions=result.predictions,
            steps=result.steps,
            records=records,
            rejected_records=rejected,
        )
        if self._monitor.logs_predictions:
            answered = [
                (item.request_id, outcome.rows)
                for item, outcome in zip(batch, result.outcomes, strict=True)
                if isinstance(outcome, Scored)
            ]
            self._monitor.record_answers(model.ref, answered)

    def _observe_predictions(self, frames: Sequence[pd.DataFrame]) -> None:
        if self._prediction_column is None:
            return
        for frame in frames:
            values = _column(frame, self._prediction_column)
            if values is None:
                continue
            if not pd.api.types.is_numeric_dtype(values.dtype):
                values = pd.to_numeric(values, errors="coerce")
            self._metrics.observe_predictions(values.to_numpy(np.float64, na_value=np.nan))


def _column(frame: pd.DataFrame, name: str) -> pd.Series | None:
    """The column `name` of `frame`, if it has one.

    Not `frame[name]`: looking a name up builds the columns' hash table, and on a new frame
    each time that costs more than walking a few columns.
    """
    return next((values for label, values in frame.items() if label == name), None)
