"""Score a batch (in the flow thread) and record it: metrics, monitoring, logs."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from starlette.responses import Response

from shipml.logs import request_context
from shipml.serving.batching import Answers, BatchItem
from shipml.serving.errors import json_response
from shipml.serving.metrics import ServingMetrics
from shipml.serving.model import ModelSlot, ServedModel
from shipml.serving.monitor import OnlineMonitor
from shipml.serving.scoring import BatchResult, Failed, Outcome, Rejected, Scored, Scorer

log = logging.getLogger(__name__)


class PredictionService:
    """Scores batches with the current model and records what happened."""

    def __init__(
        self,
        scorer: Scorer,
        slot: ModelSlot,
        metrics: ServingMetrics,
        monitor: OnlineMonitor,
        prediction_column: str | None,
    ) -> None:
        self._scorer = scorer
        self._slot = slot
        self._metrics = metrics
        self._monitor = monitor
        self._prediction_column = prediction_column

    def score_batch(self, batch: Sequence[BatchItem]) -> Answers:
        """One outcome per request, and the recording of the batch to do afterwards."""
        model = self._slot.current
        result = self._scorer.score(model, [item.records for item in batch])

        def record() -> None:
            try:
                self._record(model, batch, result)
            except Exception:  # monitoring must never take predictions down
                log.exception("recording a batch's metrics and monitoring failed")

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


def answer(outcome: Outcome, request_id: str) -> Response:
    """The HTTP answer to a request's outcome."""
    if isinstance(outcome, Scored):
        model = {"name": outcome.model.name, "version": outcome.model.version}
        content = {"request_id": request_id, "model": model, "predictions": outcome.rows}
        return json_response(200, content)
    if isinstance(outcome, Rejected):
        report = outcome.report
        message = (
            f"{report.invalid_rows} of {report.rows} records break the contract "
            f"{report.contract} at {outcome.boundary}"
        )
        content = {
            "error": message,
            "request_id": request_id,
            "boundary": outcome.boundary,
            "report": report.model_dump(mode="json"),
        }
        return json_response(422, content)
    message = (
        f"the pipeline failed at step {outcome.step} ({outcome.error}); "
        "the server log has the details under this request id"
    )
    return json_response(500, {"error": message, "request_id": request_id})
