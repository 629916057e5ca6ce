"""Scoring: requests that arrive together are scored as one frame, each gets its own answer.

Micro-batching (`MicroBatcher`): pandas and scikit-learn cost far more per call than per
row, so the flow runs once for all the requests waiting, in one worker thread, while the
event loop keeps reading new requests. Under load the queue fills while a batch runs, and
the next batch takes it all. When idle, a request goes at once. A batch waits for more, at
most `wait_seconds`, only when there are signs of company: requests being read at that
moment, or fewer requests queued than were lately in flight together (the callers just
answered are about to send their next ones; without the wait, concurrent callers split
into alternating half batches).

A batch's bookkeeping (metrics, monitoring) waits up to `RECORD_DELAY_SECONDS` and runs
with the others that came meanwhile: run right after each batch, it stood in front of the
next request in the scoring thread (about 0.2 ms of a lone request's latency), and a run
over several batches costs less than as many cold runs.

Scoring a batch (`Scorer`): the online flow runs once on all records, with every boundary
set to quarantine, so an invalid record is set aside instead of failing the frame. The
frame's index (0..n-1 over the concatenated records) travels through the steps, so each
output row and each set-aside row is traced back to the request it came from. A request
with a set-aside record is run again on its own, which yields its own validation report
(row numbers and example values of its records only, never another caller's). When the
frame cannot be scored together (a step raised, or a step renumbered the rows), every
request is run on its own.

`PredictionService` joins the two: it scores a batch with the model being served, and
records it afterwards (metrics, monitoring, the log of failed steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from shipml.contracts import ContractViolation, ValidationReport, validate
from shipml.errors import ApiError
from shipml.logs import request_context
from shipml.pipeline import (
    BoundaryOutcome,
    BoundaryPolicy,
    Flow,
    FlowFailed,
    FlowResult,
    Pipeline,
    Policies,
    StepTiming,
    run_flow,
)
from shipml.serving.metrics import ServingMetrics
from shipml.serving.model import ModelSlot, ServedModel
from shipml.serving.monitor import OnlineMonitor
from shipml.serving.shapes import Record
from shipml.versioning.tracking import ModelRef

log = logging.getLogger(__name__)

# Every boundary sets invalid rows aside, whatever their share: one caller's bad records
# must not fail the others'.
PER_ROW = Policies(default=BoundaryPolicy("quarantine", 1.0))


@dataclass(frozen=True)
class Scored:
    """The request's output rows, in the order of its records."""

    rows: list[Record]
    model: ModelRef


@dataclass(frozen=True)
class Rejected:
    """The request's records broke the contract at `boundary`; the report says how."""

    boundary: str
    report: ValidationReport
    model: ModelRef


@dataclass(frozen=True)
class Failed:
    """A step raised on the request's records (a fault of the pipeline, not of the input)."""

    step: str
    error: str  # the exception's type, for the caller
    model: ModelRef
    traceback: str  # for the log only


Outcome = Scored | Rejected | Failed


@dataclass
class BatchResult:
    """One outcome per request, plus what the flow runs measured and produced."""

    outcomes: list[Outcome]
    steps: list[StepTiming] = field(default_factory=list)
    features: list[pd.DataFrame] = field(default_factory=list)  # what predict got, per run
    predictions: list[pd.DataFrame] = field(default_factory=list)  # what predict returned


@dataclass(frozen=True)
class _Run:
    output: pd.DataFrame
    features: pd.DataFrame
    predictions: pd.DataFrame
    steps: list[StepTiming]
    boundaries: list[BoundaryOutcome]


class Scorer:
    """Runs a pipeline's online flow on the records of a batch of requests."""

    def __init__(self, pipeline: Pipeline) -> None:
        # Scoring and postprocessing run apart, so that the features the predict step
        # received (the monitoring baseline's features) are at hand.
        self._scoring = Flow("online", (*pipeline.transforms, pipeline.predict))
        post = pipeline.postprocess
        self._postprocess = Flow("online", (post,)) if post is not None else None
        self._warned_of_renumbering = False
        first = self._scoring.steps[0]
        self._input = first.input if first.data_parameter is not None else None
        self._input_boundary = f"{first.name}.input"

    def score(self, model: ServedModel, requests: Sequence[list[Record]]) -> BatchResult:
        """One outcome per request, in order.

        Requests whose records break the input contract are answered from their own
        validation, without running a step: they never take the batch off its fast path.
        """
        result = BatchResult(outcomes=[])
        screened = [self._screened(model, records) for records in requests]
        passed = [r for r, rejected in zip(requests, screened, strict=True) if rejected is None]
        outcomes = self._score(model, passed, result) if passed else []
        scored = iter(outcomes)
        result.outcomes = [next(scored) if r is None else r for r in screened]
        return result

    def _score(
        self, model: ServedModel, requests: Sequence[list[Record]], result: BatchResult
    ) -> list[Outcome]:
        if len(requests) > 1:
            together = self._together(model, requests, result)
            if together is not None:
                return together
        return [self._alone(model, records, result) for records in requests]

    def _screened(self, model: ServedModel, records: list[Record]) -> Rejected | None:
        """The rejection of records that break the input contract; None for the others.

        Pydantic decides first, in microseconds. Only for records it refuses does the
        contracts engine validate them (the verdict and report the flow would give, with the
        same diagnoses); records the engine accepts after all (it reads records as a frame)
        go on to the flow like the others.
        """
        contract = self._input
        if contract is None:
            return None
        try:
            for record in records:
                contract.model_validate(record)
        except ValidationError:
            pass
        else:
            return None
        try:
            # Under "fail", a frame with an invalid row raises as soon as its report is written,
            # without building the frames of valid and set-aside rows (most of the time).
            validate(pd.DataFrame(records), contract, policy="fail")
        except ContractViolation as violation:
            return Rejected(self._input_boundary, violation.report, model.ref)
        except Exception:  # the flow will meet the same problem and say what it is
            return None
        return None  # the engine accepts what Pydantic refused (it reads records as a frame)

    def _together(
        self, model: ServedModel, requests: Sequence[list[Record]], result: BatchResult
    ) -> list[Outcome] | None:
        """Outcomes from one run over all records; None when each must run on its own."""
        starts = np.cumsum([0, *(len(records) for records in requests)])[:-1]
        try:
            frame = pd.DataFrame(list(chain.from_iterable(requests)))
            run = self._run(model, frame)
        except Exception:
            return None  # somebody's records broke a step: find whose
        owners = _owners(run.output.index, starts, len(frame))
        set_aside = [_owners(b.quarantined.index, starts, len(frame)) for b in run.boundaries]
        if owners is None or any(o is None for o in set_aside):
            self._warn_of_renumbering()
            return None
        rejected = set(chain.from_iterable(o for o in set_aside if o is not None))
        rows_by_request = _group(_rows(run.output), owners, len(requests))
        outcomes: list[Outcome] = []
        for position, records in enumerate(requests):
            if position in rejected:
                outcomes.append(self._alone(model, records, result))
            else:
                outcomes.append(Scored(rows_by_request[position], model.ref))
        result.steps += run.steps
        kept = np.isin(owners, sorted(rejected), invert=True)
        _keep_for_monitoring(result, run, kept)
        return outcomes

    def _alone(self, model: ServedModel, records: list[Record], result: BatchResult) -> Outcome:
        """The outcome of one request scored by itself."""
        try:
            run = self._run(model, pd.DataFrame(records))
        except FlowFailed as failure:
            result.steps += failure.result.steps
            rejection = _first_rejection(failure.result.boundaries, model.ref)
            error = type(failure.error).__name__
            return rejection or Failed(failure.step, error, model.ref, failure.traceback)
        except Exception as error:  # a fault outside the steps must not take the server down
            trace = "".join(traceback.format_exception(error))
            return Failed("(scoring)", type(error).__name__, model.ref, trace)
        result.steps += run.steps
        rejection = _first_rejection(run.boundaries, model.ref)
        if rejection is not None:
            return rejection
        _keep_for_monitoring(result, run, None)
        return Scored(_rows(run.output), model.ref)

    def _warn_of_renumbering(self) -> None:
        if not self._warned_of_renumbering:
            log.warning(
                "a step renumbered the rows: scoring each request of a batch alone (slower); "
                "keep the frame's index in the transforms to batch requests"
            )
            self._warned_of_renumbering = True

    def _run(self, model: ServedModel, frame: pd.DataFrame) -> _Run:
        context = model.loaded.scoring_context()
        scored = run_flow(self._scoring, frame, context=context, policies=PER_ROW)
        assert scored.last_input is not None  # predict always takes a frame
        if self._postprocess is None:
            return _Run(
                scored.output, scored.last_input, scored.output, scored.steps, scored.boundaries
            )
        try:
            post = run_flow(self._postprocess, scored.output, context=context, policies=PER_ROW)
        except FlowFailed as failure:
            raise FlowFailed(
                failure.step, failure.error, _joined(scored, failure.result), failure.boundary
            ) from failure.error
        joined = _joined(scored, post)
        return _Run(post.output, scored.last_input, scored.output, joined.steps, joined.boundaries)


def _joined(first: FlowResult, second: FlowResult) -> FlowResult:
    return FlowResult(
        output=second.output,
        rows_in=first.rows_in,
        steps=[*first.steps, *second.steps],
        boundaries=[*first.boundaries, *second.boundaries],
    )


def _owners(index: pd.Index, starts: np.ndarray, rows: int) -> np.ndarray | None:
    """The request of each row label, or None when the labels are not the batch's positions."""
    if len(index) == 0:
        return np.empty(0, dtype=np.intp)
    if not pd.api.types.is_integer_dtype(index.dtype) or index.has_duplicates:
        return None
    labels = index.to_numpy()
    if labels.min() < 0 or labels.max() >= rows:
        return None
    return np.searchsorted(starts, labels, side="right") - 1


def _rows(frame: pd.DataFrame) -> list[Record]:
    """The frame's rows as dicts of Python values, missing ones None (faster than `to_dict`)."""
    if frame.shape[1] == 0:
        return [{} for _ in range(len(frame))]
    names = [str(name) for name in frame.columns]
    columns = [[_present(v) for v in column.tolist()] for _, column in frame.items()]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _present(value: Any) -> Any:
    """`value`, or None when it stands for a missing one (NaN, NaT, pd.NA)."""
    if value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _group(rows: list[Record], owners: np.ndarray, requests: int) -> list[list[Record]]:
    grouped: list[list[Record]] = [[] for _ in range(requests)]
    for row, owner in zip(rows, owners.tolist(), strict=True):
        grouped[owner].append(row)
    return grouped


def _first_rejection(boundaries: list[BoundaryOutcome], model: ModelRef) -> Rejected | None:
    for boundary in boundaries:
        if not boundary.report.ok:
            return Rejected(boundary.boundary, boundary.report, model)
    return None


def _keep_for_monitoring(result: BatchResult, run: _Run, kept: np.ndarray | None) -> None:
    """Add the run's features and predictions of answered requests (`kept` output rows)."""
    predictions = run.predictions
    if kept is not None and not kept.all():
        labels = run.output.index[kept]
        predictions = predictions[predictions.index.isin(labels)]
    features = run.features
    if not features.index.equals(predictions.index):
        features = features[features.index.isin(predictions.index)]
    result.predictions.append(predictions)
    result.features.append(features)


# --- a batch, scored and recorded ---------------------------------------------------------


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
            return Answers([], _nothing)
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


# --- micro-batching --------------------------------------------------------------------------


@dataclass(eq=False)
class BatchItem:
    """One request's records, waiting for their outcome."""

    records: list[Record]
    request_id: str
    future: asyncio.Future[Outcome] = field(repr=False)
    challenger: bool = False  # a canary request: the challenger answers it


@dataclass(frozen=True)
class Answers:
    """A batch's outcomes (one per request, in order), and the bookkeeping to do after."""

    outcomes: list[Outcome]
    bookkeeping: Callable[[], None]  # metrics and monitoring: done once callers have answers


ScoreBatch = Callable[[Sequence[BatchItem]], Answers]


class MicroBatcher:
    """Queues requests and scores them in batches of at most `max_rows` records."""

    RECORD_DELAY_SECONDS = 0.05
    MAX_UNRECORDED_BATCHES = 64

    def __init__(
        self,
        score: ScoreBatch,
        *,
        max_rows: int,
        wait_seconds: float,
        max_queued_rows: int,
    ) -> None:
        self._score = score
        self._max_rows = max_rows
        self._wait = wait_seconds
        self._max_queued_rows = max_queued_rows
        self._queue: deque[BatchItem] = deque()
        self._queued_rows = 0
        self._arriving = 0
        self._in_flight = 0  # requests queued or being scored
        self._concurrency = 1  # how many requests were lately in flight together
        self._added = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipml-flow")
        self._task: asyncio.Task[None] | None = None
        self._unrecorded: list[Callable[[], None]] = []
        self._record_timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start scoring queued requests (call from the server's event loop)."""
        self._task = asyncio.get_running_loop().create_task(self._serve(), name="shipml-batcher")

    async def stop(self) -> None:
        """Stop; requests still queued get a 503."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._queue:
            item = self._queue.popleft()
            if not item.future.done():
                item.future.set_exception(ApiError(503, "the server is shutting down"))
        self._record_now()
        self._executor.shutdown(wait=True)

    async def after_batches(self, function: Callable[[], None]) -> None:
        """Run `function` in the scoring thread, once the answered batches are recorded."""
        self._record_now()
        await asyncio.wrap_future(self._executor.submit(function))

    async def recorded(self) -> None:
        """Return once the bookkeeping of every answered batch is done."""
        await self.after_batches(_nothing)

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Mark a request as being read: a batch about to go waits a moment for it."""
        self._arriving += 1
        try:
            yield
        finally:
            self._arriving -= 1

    def submit(
        self, records: list[Record], request_id: str, *, challenger: bool = False
    ) -> asyncio.Future[Outcome]:
        """Queue a request's records (for the challenger: a canary); 503 when the queue is full."""
        if self._queued_rows + len(records) > self._max_queued_rows:
            raise ApiError(
                503,
                f"the server is overloaded ({self._queued_rows} records waiting); retry shortly",
                headers={"Retry-After": "1"},
            )
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(BatchItem(records, request_id, future, challenger))
        self._queued_rows += len(records)
        self._in_flight += 1
        self._concurrency = max(self._concurrency, self._in_flight)
        self._added.set()
        return future

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._queue:
                self._added.clear()
                await self._added.wait()
            batch = await self._collect(loop)
            try:
                await self._score_and_answer(loop, batch)
            finally:
                self._in_flight -= len(batch)

    async def _score_and_answer(
        self, loop: asyncio.AbstractEventLoop, batch: list[BatchItem]
    ) -> None:
        if not batch:
            return
        try:
            answers = await loop.run_in_executor(self._executor, self._score, batch)
        except Exception as error:
            log.exception("a batch of %d requests failed", len(batch))
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        for item, outcome in zip(batch, answers.outcomes, strict=True):
            if not item.future.done():  # done: the caller went away
                item.future.set_result(outcome)
        self._record_later(loop, answers.bookkeeping)

    def _record_later(
        self, loop: asyncio.AbstractEventLoop, bookkeeping: Callable[[], None]
    ) -> None:
        self._unrecorded.append(bookkeeping)
        if len(self._unrecorded) >= self.MAX_UNRECORDED_BATCHES:
            self._record_now()
        elif self._record_timer is None:
            self._record_timer = loop.call_later(self.RECORD_DELAY_SECONDS, self._record_now)

    def _record_now(self) -> None:
        """Hand the waiting bookkeeping to the scoring thread (in order, before what follows)."""
        if self._record_timer is not None:
            self._record_timer.cancel()
            self._record_timer = None
        if self._unrecorded:
            waiting, self._unrecorded = self._unrecorded, []
            self._executor.submit(_run_in_order, waiting)

    async def _collect(self, loop: asyncio.AbstractEventLoop) -> list[BatchItem]:
        """The next batch: what is queued, plus what arrives within the wait if others come."""
        batch: list[BatchItem] = []
        self._take(batch)
        alone = self._arriving == 0 and self._concurrency <= len(batch)
        if alone or self._wait <= 0 or self._full(batch):
            return batch
        deadline = loop.time() + self._wait
        await asyncio.sleep(0)  # let requests whose bytes are in already queue up
        self._take(batch)
        while not self._full(batch) and (self._arriving or len(batch) < self._concurrency):
            remaining = deadline - loop.time()
            if remaining <= 0:
                self._concurrency = max(len(batch), 1)  # fewer came than lately: expect fewer
                break
            self._added.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._added.wait(), remaining)
            self._take(batch)
        return batch

    def _take(self, batch: list[BatchItem]) -> None:
        rows = sum(len(item.records) for item in batch)
        while self._queue:
            head = self._queue[0]
            if batch and rows + len(head.records) > self._max_rows:
                return
            self._queue.popleft()
            self._queued_rows -= len(head.records)
            if head.future.done():  # cancelled while waiting
                self._in_flight -= 1
                continue
            batch.append(head)
            rows += len(head.records)

    def _full(self, batch: list[BatchItem]) -> bool:
        return sum(len(item.records) for item in batch) >= self._max_rows


def _run_in_order(functions: list[Callable[[], None]]) -> None:
    for function in functions:
        function()


def _nothing() -> None:
    """No work: queued behind the bookkeeping, it is done when the bookkeeping is."""
