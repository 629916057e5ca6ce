"""A batch window scored by the challenger too, into an output of its own.

With `[model] challenger_in_batch = true` and the challenger alias (`[model] challenger`)
set, a batch window that succeeded with the champion is scored again with the challenger:
the same input, flow and policies, written by the same sink under the pipeline name
`<pipeline>.challenger` (Parquet: `outputs/<pipeline>.challenger/<window>.parquet`; SQL:
rows whose pipeline is `<pipeline>.challenger`), each row carrying the challenger's
`model_version`. The champion's output, run record and alerts are the window's; the
challenger's scoring never fails the window: its failure is logged and reported in the
outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shipml.project.engines import Engine, WindowJob, score_window
from shipml.project.project import Project
from shipml.windows import Window

log = logging.getLogger(__name__)

SUFFIX = ".challenger"


@dataclass(frozen=True)
class ChallengerOutput:
    """Where the challenger's scores of a window went (or why they did not)."""

    version: str | None
    output: str | None = None
    error: str | None = None


def challenger_pipeline(pipeline: str) -> str:
    """The pipeline name the challenger's outputs are written under."""
    return f"{pipeline}{SUFFIX}"


def score_challenger(
    project: Project, window: Window, run_id: str, engine: Engine, *, version_column: str
) -> ChallengerOutput | None:
    """Score `window` with the challenger into its own output; None when none is set."""
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
        )
        location = score_window(engine, job).commit()
    except Exception as error:  # the champion's window stands; the challenger's failure is told
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.error("window %s: the challenger (%s) could not score it: %s", window, alias, message)
        return ChallengerOutput(version, error=message)
    log.info("window %s: challenger v%s scored into %s", window, version, location)
    return ChallengerOutput(version, location)
