"""A batch window scored by the challenger too, into an output of its own.

With `[model] challenger_in_batch = true` and the challenger alias (`[model] challenger`)
set, a batch window that succeeded with the champion is scored again with the challenger:
the same input, flow and policies, written by the same sink under the pipeline name
`<pipeline>.challenger` (Parquet: `outputs/<pipeline>.challenger/<window>.parquet`; SQL:
rows whose pipeline is `<pipeline>.challenger`), each row carrying the challenger's
`model_version`. The champion's output, run record and alerts are the window's; the
challenger's scoring never fails the window: its failure is logged and reported in the
outcome.

With `[labels]` set, the challenger's predictions are logged with their keys as the
champion's are, under `<pipeline>.challenger` in the prediction log, so that labels judge both
(`shipml.project.realized`). The window's run keeps where the challenger's output went, its
version and the alias move that put it there (a "challenger" profile of the run, read back by
`challenger_lineage`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shipml.project.engines import Engine, WindowJob, score_window
from shipml.project.predictions import CHALLENGER_SUFFIX, WindowLog
from shipml.project.project import Project
from shipml.store import AliasMoveRecord, RunRecord, RunStore
from shipml.windows import Window

log = logging.getLogger(__name__)

LINEAGE = "challenger"  # the profile of a batch run that says where its challenger's scores went
_KIND = "batch"


@dataclass(frozen=True)
class ChallengerOutput:
    """Where the challenger's scores of a window went (or why they did not)."""

    version: str | None
    output: str | None = None
    error: str | None = None
    model_name: str | None = None
    alias: str | None = None
    alias_move: int | None = None  # the id of the recorded move that put the alias there


@dataclass(frozen=True)
class ChallengerLineage:
    """A batch run's challenger output, as its lineage shows it."""

    scored: ChallengerOutput
    move: AliasMoveRecord | None  # the move that put the challenger alias on its version


def challenger_pipeline(pipeline: str) -> str:
    """The pipeline name the challenger's outputs are written under."""
    return f"{pipeline}{CHALLENGER_SUFFIX}"


def score_challenger(
    project: Project,
    window: Window,
    run_id: str,
    engine: Engine,
    *,
    version_column: str,
    log_predictions: bool = False,
) -> ChallengerOutput | None:
    """Score `window` with the challenger into its own output; None when none is set.

    `log_predictions` (with `[labels]`): the challenger's predictions go to the prediction log
    under `<pipeline>.challenger`, keyed as the champion's.
    """
    alias = project.settings.model.challenger
    if alias is None or not project.settings.model.challenger_in_batch:
        return None
    version: str | None = None
    try:
        info = project.tracker.resolve_if_set(alias)
        if info is None:
            log.info(
                "no version has the alias %s: window %s scored by the champion only", alias, window
            )
            return None
        model = project.tracker.load(alias)
        version = model.ref.version
        log_to = None
        if log_predictions:
            log_to = WindowLog.of(
                project.root,
                challenger_pipeline(project.name),
                project.settings.labels,
                window,
                model_version=version,
                run_id=run_id,
            )
        job = WindowJob(
            project.pipeline.batch,
            window,
            run_id,
            challenger_pipeline(project.name),
            project.source() if project.pipeline.ingest is None else None,
            project.sink(),
            context={**model.scoring_context(), "window": window},
            policies=project.policies(),
            output_columns={version_column: version},
            log=log_to,
        )
        location = score_window(engine, job).commit()
        move = project.store.alias_move_behind(model.ref.name, alias, version, datetime.now(UTC))
    except Exception as error:  # the champion's window stands; the challenger's failure is told
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.error("window %s: the challenger (%s) could not score it: %s", window, alias, message)
        failed = ChallengerOutput(version, error=message, alias=alias)
        return _recorded(project, window, run_id, failed)
    log.info("window %s: challenger v%s scored into %s", window, version, location)
    found = ChallengerOutput(
        version,
        location,
        model_name=model.ref.name,
        alias=alias,
        alias_move=None if move is None else move.id,
    )
    return _recorded(project, window, run_id, found)


def challenger_lineage(store: RunStore, run: RunRecord) -> ChallengerLineage | None:
    """Where a batch run's challenger scores went, and the move behind its version (None:
    the run had no challenger)."""
    if run.kind != _KIND or run.window_start is None:
        return None
    found = [
        p
        for p in store.profiles(
            run.pipeline,
            _KIND,
            LINEAGE,
            since=run.window_start,
            before=run.window_start + timedelta(microseconds=1),
        )
        if p.run_id == run.id
    ]
    if not found:
        return None
    scored = ChallengerOutput(**found[-1].payload)
    move = None
    if scored.alias_move is not None and scored.model_name and scored.alias:
        moves = store.alias_moves(scored.model_name, scored.alias, limit=None)
        move = next((m for m in moves if m.id == scored.alias_move), None)
    return ChallengerLineage(scored, move)


def _recorded(
    project: Project, window: Window, run_id: str, found: ChallengerOutput
) -> ChallengerOutput:
    """Keep the challenger's output with the window's run (its lineage); never fail on it."""
    payload: dict[str, Any] = asdict(found)
    try:
        project.store.save_profile(
            project.name,
            _KIND,
            LINEAGE,
            payload,
            run_id=run_id,
            window_start=window.start,
            window_end=window.end,
            model_name=found.model_name,
            model_version=found.version,
        )
    except Exception:
        log.exception("the challenger output of run %s could not be recorded", run_id)
    return found
