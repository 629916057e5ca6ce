"""Online monitoring: what the server scores, summarised in memory, flushed as online windows.

Each window covers one model version from its first record to a flush. It holds the
profile of the features and predictions (on the bins of the model's training baseline;
absent when the model has no baseline; with the summary of its calibrated probabilities
when the model has a CBPE reference, so that the window is estimated), the latency
histograms of every step and of the whole request (`total`), and row counts. A flush
happens every `flush_seconds` or after `flush_requests` requests, in a thread, so
predictions never wait for the database. A window that cannot be stored is kept and stored
by a later flush, resuming where it stopped.

In the store a window is an `online` run (with the window, the model version and the
counts) and its profiles, kind "online", named as batch windows' are: "window" (a monitoring
`Profile`), "latency" (a `LatencyProfile`) and "evaluation" (drift, prediction shift and
latency against the model's baseline), and "shadow" when a challenger was scored beside
the champion (`ShadowProfiles`, see `shipml.serving.shadow`). A window with CBPE estimates
also gets its estimated performance record (kind "performance", name "estimated.online",
keyed as its prediction log is; `shipml.project.performance.save_estimates`). Once stored,
an evaluated window is handed to `on_evaluated` (which raises its alerts and updates the
gauges), in the flushing thread. A window in which more than `max_rejected_fraction` of the
records were rejected is stored as failed; every stored window goes to `on_stored` with its
failure (None when it succeeded), which raises or clears the `window_failed` alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import pandas as pd

from shipml.errors import first_line
from shipml.monitoring import (
    END_TO_END,
    LatencyProfile,
    MonitoringBaseline,
    MonitoringConfig,
    PerformanceRecord,
    Profile,
    ShadowProfile,
    ShadowProfiles,
    WindowEvaluation,
    evaluate_window,
    profile,
)
from shipml.pipeline import StepTiming
from shipml.project.history import EVALUATION, WINDOW
from shipml.project.performance import save_estimates
from shipml.project.predictions import online_log_window
from shipml.store import RunStore
from shipml.versioning.tracking import ModelRef

log = logging.getLogger(__name__)

InScoringThread = Callable[[Callable[[], None]], Awaitable[None]]
# run id, start, the evaluation, and its estimated performance (None: not estimated)
OnEvaluated = Callable[[str, datetime, WindowEvaluation, PerformanceRecord | None], None]
OnStored = Callable[[str, datetime, str | None], None]  # run id, start, why it failed
Answered = list[tuple[str, list[dict[str, Any]]]]  # (request id, output rows) per request


class LogPredictions(Protocol):
    """Writes an online window's answered predictions to the prediction log (in the flushing
    thread, once per window); `challenger`: the shadow's predictions of the window's requests."""

    def __call__(
        self,
        model: ModelRef,
        start: datetime,
        end: datetime,
        run_id: str,
        answered: Answered,
        *,
        challenger: ModelRef | None = None,
    ) -> None:
        """Write one window's predictions."""
        ...


KIND: Literal["online"] = "online"
PROFILE = WINDOW
LATENCY = "latency"
SHADOW = "shadow"
SUMMARY_ROWS = 2048  # rows buffered before they are folded into the window's profile


@dataclass(eq=False)
class _Window:
    """One model version's traffic since its first record; then its progress into the store."""

    model: ModelRef
    baseline: MonitoringBaseline | None
    start: datetime
    end: datetime | None = None
    profile: Profile | None = None
    frames: list[pd.DataFrame] = field(default_factory=list)
    buffered_rows: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # seconds, while open
    latency: LatencyProfile | None = None  # the latencies bucketed, once closed
    evaluation: WindowEvaluation | None = None  # against the baseline, once closed
    records: int = 0
    rejected_records: int = 0
    rows_out: int = 0
    run_id: str | None = None
    saved: set[str] = field(default_factory=set)
    answered: Answered = field(default_factory=list)  # for the prediction log
    shadow: dict[str, ShadowProfile] = field(default_factory=dict)  # by challenger version
    estimating: bool = True  # summarise confidence for CBPE (off once it failed)
    estimated: PerformanceRecord | None = None  # its CBPE estimates, once stored
    shadow_model: ModelRef | None = None  # the challenger whose answers are kept
    shadow_answered: Answered = field(default_factory=list)  # its answers, for the log

    def add_shadow_answers(self, challenger: ModelRef, answered: Answered) -> None:
        """Keep the challenger's answers; one challenger version per window (the latest)."""
        if self.shadow_model is not None and self.shadow_model.version != challenger.version:
            log.warning(
                "the challenger changed from v%s to v%s in an online window: only v%s's "
                "predictions are logged for it",
                self.shadow_model.version,
                challenger.version,
                challenger.version,
            )
            self.shadow_answered = []
        self.shadow_model = challenger
        self.shadow_answered.extend(answered)

    def add_shadow(self, found: ShadowProfile) -> None:
        """Add a shadow batch's profile (or drops) to its challenger version's."""
        earlier = self.shadow.get(found.challenger_version)
        self.shadow[found.challenger_version] = found if earlier is None else earlier.merge(found)

    def add_rows(self, rows: pd.DataFrame) -> None:
        self.frames.append(rows)
        self.buffered_rows += len(rows)
        if self.buffered_rows >= SUMMARY_ROWS:
            self.summarise()

    def summarise(self) -> None:
        """Fold the buffered rows into the profile."""
        frames, self.frames, self.buffered_rows = self.frames, [], 0
        if self.baseline is None or not frames:
            return
        rows = pd.concat(frames, ignore_index=True)
        try:
            found = profile(rows, self.baseline.spec)
        except Exception as error:  # a baseline that does not fit the flow's columns
            log.warning(
                "model %s v%s: online rows cannot be profiled on its baseline (%s); "
                "windows keep latencies and counts only",
                self.model.name,
                self.model.version,
                error,
            )
            self.baseline = None
            return
        if self.estimating:
            found = self._with_confidence(found, rows)
        self.profile = found if self.profile is None else self.profile.merge(found)

    def _with_confidence(self, found: Profile, rows: pd.DataFrame) -> Profile:
        """The profile with the rows' confidence summary, for CBPE (when the model has one)."""
        reference = self.baseline.performance if self.baseline is not None else None
        if reference is None:
            return found
        try:
            summary = reference.summarize(rows)
        except Exception as error:  # probabilities CBPE cannot read: no estimates, still drift
            log.warning(
                "model %s v%s: CBPE cannot read the online probabilities (%s); "
                "online windows are not estimated",
                self.model.name,
                self.model.version,
                error,
            )
            self.estimating = False
            return found
        return found.model_copy(update={"confidence": summary})

    def close(self, end: datetime, rules: MonitoringConfig) -> None:
        """End the window: profile the rows still buffered, bucket the latencies, evaluate."""
        self.end = end
        self.summarise()
        self.latency = LatencyProfile.from_samples(self.latencies)
        self.latencies = {}
        if self.baseline is not None and self.profile is not None:
            self.evaluation = evaluate_window(self.baseline, self.profile, self.latency, rules)

    def payloads(self) -> dict[str, dict[str, Any]]:
        assert self.latency is not None, "only a closed window is stored"
        payloads = {LATENCY: self.latency.model_dump(mode="json")}
        if self.profile is not None:
            payloads[PROFILE] = self.profile.model_dump(mode="json")
        if self.evaluation is not None:
            payloads[EVALUATION] = self.evaluation.model_dump(mode="json")
        if self.shadow:
            shadows = ShadowProfiles(challengers=list(self.shadow.values()))
            payloads[SHADOW] = shadows.model_dump(mode="json")
        return payloads


class OnlineMonitor:
    """Summarises scored batches and request latencies; stores them as online windows."""

    def __init__(
        self,
        store: Callable[[], RunStore],
        *,
        pipeline: str,
        lineage: Mapping[str, Any],
        flush_seconds: float,
        flush_requests: int,
        rules: MonitoringConfig | None = None,
        on_evaluated: OnEvaluated | None = None,
        on_stored: OnStored | None = None,
        log_predictions: LogPredictions | None = None,
    ) -> None:
        self._store = store
        self._log_predictions = log_predictions
        self._rules = rules or MonitoringConfig()
        self._on_evaluated = on_evaluated
        self._on_stored = on_stored
        self._pipeline = pipeline
        self._lineage = dict(lineage)
        self._flush_seconds = flush_seconds
        self._flush_requests = flush_requests
        self._lock = threading.Lock()  # guards the open and the unsaved windows
        self._storing = threading.Lock()  # one store_windows at a time
        self._open: dict[str, _Window] = {}
        self._baselines: dict[str, MonitoringBaseline | None] = {}
        self._unsaved: list[_Window] = []
        self._latencies: deque[tuple[ModelRef, float]] = deque()
        self._requests = 0
        self._due = asyncio.Event()

    def record_batch(
        self,
        model: ModelRef,
        baseline: MonitoringBaseline | None,
        *,
        features: Sequence[pd.DataFrame],
        predictions: Sequence[pd.DataFrame],
        steps: Sequence[StepTiming],
        records: int,
        rejected_records: int,
    ) -> None:
        """Add a scored batch (called by the thread that scores)."""
        with self._lock:
            self._baselines[model.version] = baseline
            window = self._window(model)
            window.records += records
            window.rejected_records += rejected_records
            for timing in steps:
                window.latencies.setdefault(timing.step, []).append(timing.duration_s)
            for scored_features, scored in zip(features, predictions, strict=True):
                window.rows_out += len(scored)
                if window.baseline is not None and len(scored):
                    window.add_rows(_together(scored_features, scored))

    @property
    def logs_predictions(self) -> bool:
        """Whether answered predictions are kept for the prediction log (`[labels]`)."""
        return self._log_predictions is not None

    def record_answers(self, model: ModelRef, answered: Answered) -> None:
        """Keep a batch's answered rows with their request ids, for the prediction log.

        Only references are kept here (called by the scoring thread after answering); the
        frame is built and written by the flush, once per window.
        """
        if self._log_predictions is None or not answered:
            return
        with self._lock:
            self._window(model).answered.extend(answered)

    def record_shadow(self, champion: ModelRef, found: ShadowProfile) -> None:
        """Add a shadow batch's comparison to the window of the champion version it shadowed
        (called by the shadow's thread)."""
        with self._lock:
            self._window(champion).add_shadow(found)

    def record_shadow_answers(
        self, champion: ModelRef, challenger: ModelRef, answered: Answered
    ) -> None:
        """Keep the challenger's output rows with their request ids, for the prediction log
        (called by the shadow's thread; only references are kept, the flush writes them)."""
        if self._log_predictions is None or not answered:
            return
        with self._lock:
            self._window(champion).add_shadow_answers(challenger, answered)

    def record_request(self, model: ModelRef, seconds: float) -> None:
        """Add a request's end-to-end latency (called on the event loop; takes no lock)."""
        self._latencies.append((model, seconds))
        self._requests += 1
        if self._requests >= self._flush_requests:
            self._due.set()

    async def run(self, after_batches: InScoringThread) -> None:
        """Flush every `flush_seconds`, or sooner once `flush_requests` requests came in.

        Windows are closed through `after_batches`, after the bookkeeping of the batches
        already answered, so that a window holds the rows of the requests it counts.
        """
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self._flush_seconds)
            self._due.clear()
            self._requests = 0
            await after_batches(self.close_windows)
            await asyncio.to_thread(self.store_windows)

    def flush(self) -> int:
        """Close the open windows and store every unsaved one; return how many remain unsaved."""
        self.close_windows()
        return self.store_windows()

    def close_windows(self) -> None:
        """End the open windows now; they wait to be stored."""
        now = datetime.now(UTC)
        with self._lock:
            while self._latencies:
                model, seconds = self._latencies.popleft()
                window = self._window(model)
                window.latencies.setdefault(END_TO_END, []).append(seconds)
            closed, self._open = list(self._open.values()), {}
        for window in closed:
            window.close(now, self._rules)
        with self._lock:
            self._unsaved += closed

    def store_windows(self) -> int:
        """Store the closed windows, oldest first; return how many remain unsaved."""
        with self._storing:
            try:
                store = self._store()
                while self._unsaved:
                    self._save(store, self._unsaved[0])
                    with self._lock:
                        self._unsaved.pop(0)
            except Exception as error:  # retried at the next flush; predictions go on meanwhile
                log.warning(
                    "cannot store %d online monitoring window(s), will retry: %s",
                    len(self._unsaved),
                    first_line(error),
                )
            return len(self._unsaved)

    def _window(self, model: ModelRef) -> _Window:
        window = self._open.get(model.version)
        if window is None:
            baseline = self._baselines.get(model.version)
            window = _Window(model, baseline, start=datetime.now(UTC))
            self._open[model.version] = window
        return window

    def _save(self, store: RunStore, window: _Window) -> None:
        """Store one window; after a failure, a new attempt skips what was already stored."""
        model = window.model
        versions = {"model_name": model.name, "model_version": model.version}
        if window.run_id is None:
            window.run_id = store.start_run(
                self._pipeline,
                KIND,
                window_start=window.start,
                window_end=window.end,
                lineage={**self._lineage, **versions, "model_alias": model.alias},
            )
        for name, payload in window.payloads().items():
            if name in window.saved:
                continue
            store.save_profile(
                self._pipeline,
                KIND,
                name,
                payload,
                run_id=window.run_id,
                window_start=window.start,
                window_end=window.end,
                **versions,
            )
            window.saved.add(name)
        if "log" not in window.saved and self._log_predictions is not None and window.answered:
            assert window.end is not None
            self._log_predictions(model, window.start, window.end, window.run_id, window.answered)
            window.saved.add("log")
        if "shadow log" not in window.saved and self._log_predictions and window.shadow_answered:
            assert window.end is not None
            self._log_predictions(
                model,
                window.start,
                window.end,
                window.run_id,
                window.shadow_answered,
                challenger=window.shadow_model,
            )
            window.saved.add("shadow log")
        failure = _failure(window, self._rules.max_rejected_fraction)
        if "run" not in window.saved:
            store.finish_run(
                window.run_id,
                status="failed" if failure else "succeeded",
                rows_in=window.records,
                rows_valid=window.records - window.rejected_records,
                rows_invalid=window.rejected_records,
                rows_quarantined=0,  # rejected with a 422, not set aside
                rows_out=window.rows_out,
                error=failure,
            )
            window.saved.add("run")
        if "estimated" not in window.saved and window.evaluation is not None:
            assert window.end is not None
            name, span = online_log_window(window.start, window.end, model.version)
            window.estimated = save_estimates(
                store,
                self._pipeline,
                window.evaluation,
                self._rules.estimate_alerts_on,
                window=name,
                span=span,
                model_version=model.version,
                online=True,
                run_id=window.run_id,
            )
            window.saved.add("estimated")
        if window.evaluation is not None and self._on_evaluated is not None:
            self._on_evaluated(window.run_id, window.start, window.evaluation, window.estimated)
        if self._on_stored is not None:
            self._on_stored(window.run_id, window.start, failure)


def _failure(window: _Window, max_rejected_fraction: float) -> str | None:
    """Why an online window failed (most of its records rejected), or None."""
    if not window.records or window.rejected_records / window.records <= max_rejected_fraction:
        return None
    return (
        f"{window.rejected_records} of {window.records} records rejected "
        f"({window.rejected_records / window.records:.0%}, more than "
        f"max_rejected_fraction {max_rejected_fraction:.0%})"
    )


def _together(features: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """The features beside the prediction columns they do not already have, row by row."""
    added = predictions.columns.difference(features.columns)
    return features.loc[predictions.index].join(predictions[added])
