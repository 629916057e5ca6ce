"""`shipml run`, `shipml runs`, `shipml lineage`: batch windows and their records."""

from __future__ import annotations

import dataclasses
import threading
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from shipml.cli._common import (
    EXIT_FAILED,
    EXIT_UNUSABLE,
    JsonFlag,
    ProjectDir,
    command,
    console,
    fail,
    open_project,
    print_json,
    step_progress,
)
from shipml.errors import WindowInputError

if TYPE_CHECKING:
    from shipml.project.batch import WindowOutcome
    from shipml.project.challenger import ChallengerLineage
    from shipml.project.engines import Engine
    from shipml.store.records import AliasMoveRecord, RunDetail, RunRecord
    from shipml.windows import Window


def register(app: typer.Typer) -> None:
    """Add `run`, `runs` and `lineage` to `app`."""
    command(app, "run")(run)
    command(app, "runs")(runs)
    command(app, "lineage")(lineage)


def run(
    project_dir: ProjectDir = Path("."),
    start: Annotated[str | None, typer.Option(help="Window start, ISO 8601 (UTC if naive).")] = (
        None
    ),
    end: Annotated[str | None, typer.Option(help="Window end, ISO 8601 (UTC if naive).")] = None,
    force: Annotated[bool, typer.Option(help="Run windows that already succeeded again.")] = False,
    engine: Annotated[str, typer.Option(help="Where the flow runs: local or dask.")] = "local",
    scheduler_address: Annotated[
        str | None,
        typer.Option(help="Dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster)."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Run one batch window (default: the latest complete one) and write its output."""
    from shipml.orchestration.locks import PipelineLock
    from shipml.windows import latest_complete_window, parse_datetime, windows_between

    project = open_project(project_dir)
    cadence = project.settings.schedule.cadence()
    if (start is None) != (end is None):
        raise WindowInputError("give both --start and --end, or neither")
    if start is None or end is None:
        windows = [latest_complete_window(cadence)]
    else:
        windows = windows_between(parse_datetime(start), parse_datetime(end), cadence)
    with ExitStack() as cleanup:
        # One window at a time per pipeline, with schedulers and other `shipml run`s alike.
        cleanup.enter_context(PipelineLock(project).held(threading.Event()))
        chosen = _engine(engine, scheduler_address, cleanup)
        results = [
            _run_one(project, window, force, chosen, quiet=json_output) for window in windows
        ]
        _alert_after(project, [outcome for outcome, _ in results], quiet=json_output)
    if json_output:
        print_json([dataclasses.asdict(outcome) for outcome, _ in results])
    if any(failed for _, failed in results):
        raise typer.Exit(EXIT_FAILED)


def _alert_after(project: Any, outcomes: list[WindowOutcome], *, quiet: bool) -> None:
    """One missing-input alert for the windows without input; one summary for past windows.

    Then wait (at most `[alerts] exit_wait_seconds`) for the webhook; what it could not
    deliver is kept in the store for the next run, which sends it again (building the
    sinks here sends what an earlier run kept).
    """
    from shipml.alerting import deliver_before_exit, notify_backfill
    from shipml.orchestration import alert_missing_input

    without_input = [o for o in outcomes if o.missing_input]
    if without_input:
        alert_missing_input(
            project,
            [o.window for o in without_input],
            without_input[-1].error or "no input",
            attempts=1,
            run_id=without_input[-1].run_id,
        )
    past = [o for o in outcomes if o.past]
    findings = [finding for o in past for finding in o.held]
    notice = notify_backfill(project.name, findings, len(past), project.alert_sinks)
    if notice is not None and not quiet:
        console.print(f"[yellow]summary sent:[/] {notice.message}", highlight=False)
    deliver_before_exit(project.alert_sinks)


def _engine(name: str, scheduler_address: str | None, cleanup: ExitStack) -> Engine:
    """The chosen engine, its cluster reached up front and closed by `cleanup`."""
    from shipml.project.engines import engine_by_name

    try:
        engine = engine_by_name(name, scheduler_address=scheduler_address)
        if isinstance(engine, AbstractContextManager):
            cleanup.enter_context(engine)
    except (ValueError, OSError) as error:
        fail(str(error), EXIT_UNUSABLE)
    return engine


def _run_one(
    project: Any, window: Window, force: bool, engine: Engine, *, quiet: bool
) -> tuple[WindowOutcome, bool]:
    """Run one window; the outcome, and whether it counts as failed (the exit code)."""
    from shipml.errors import CriticalAlert, WindowFailed
    from shipml.project.batch import run_window

    try:
        with step_progress(f"window {window}") as progress:
            outcome = run_window(project, window, force=force, on_step=progress, engine=engine)
    except WindowFailed as failed:
        if not quiet:
            outcome = failed.outcome
            console.print(f"[bold red]✗[/] window {window} failed (run {outcome.run_id})")
            console.print(f"  {outcome.error}", highlight=False)
            console.print(
                f"  rows: {outcome.rows_in} in = {outcome.rows_valid} valid + "
                f"{outcome.rows_invalid} invalid",
                highlight=False,
            )
            for message in outcome.alerts:
                console.print(f"  [red]alert:[/] {message}", highlight=False)
            if outcome.past:
                console.print("  (a later window already ran: no alert, see the summary)")
        return failed.outcome, True
    except CriticalAlert as alert:
        outcome, critical = alert.outcome, True
    else:
        critical = False
    if not quiet:
        _print_outcome(outcome)
    return outcome, critical


def _print_outcome(outcome: WindowOutcome) -> None:
    if outcome.status == "skipped":
        console.print(
            f"[yellow]•[/] window {outcome.window} already succeeded (run {outcome.run_id}); "
            "nothing to do (--force runs it again)"
        )
        return
    console.print(
        f"[bold green]✓[/] window {outcome.window}: {outcome.rows_in} rows in, "
        f"{outcome.rows_invalid} invalid, {outcome.rows_quarantined} quarantined, "
        f"{outcome.rows_out} out "
        f"-> {outcome.output} (model v{outcome.model_version}, run {outcome.run_id})"
    )
    for message in outcome.alerts:
        console.print(f"  [yellow]alert:[/] {message}", highlight=False)
    if outcome.past and outcome.held:
        console.print(
            f"  {len(outcome.held)} finding(s) not alerted: a later window already ran",
            highlight=False,
        )


def runs(
    project_dir: ProjectDir = Path("."),
    limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20,
    kind: Annotated[str | None, typer.Option(help="train, batch or online.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """List recent runs, newest first."""
    project = open_project(project_dir)
    found = project.store.runs(limit=limit, pipeline=project.name, kind=kind)  # type: ignore[arg-type]  # the store checks the kind
    if json_output:
        print_json([dataclasses.asdict(r) for r in found])
        return
    table = Table(title=f"runs of {project.name}")
    headers = ("run", "kind", "window", "status", "in", "valid", "invalid", "quar.", "out")
    for column in (*headers, "model", "s"):
        table.add_column(column)
    for record in found:
        table.add_row(*_run_row(record))
    console.print(table)


def _run_row(record: RunRecord) -> list[str]:
    window = f"{record.window_start:%Y-%m-%d %H:%M}" if record.window_start else ""
    status = {"succeeded": "[green]succeeded", "failed": "[red]failed"}.get(
        record.status, record.status
    )
    model = f"v{record.model_version}" if record.model_version else ""
    duration = f"{record.duration_s:.1f}" if record.duration_s is not None else ""
    counts = (
        record.rows_in,
        record.rows_valid,
        record.rows_invalid,
        record.rows_quarantined,
        record.rows_out,
    )
    return [
        record.id[:12],
        record.kind,
        window,
        status,
        *(str(c) if c is not None else "" for c in counts),
        model,
        duration,
    ]


def lineage(
    run_id: Annotated[str, typer.Argument(help="A run id (or a unique prefix of one).")],
    project_dir: ProjectDir = Path("."),
    json_output: JsonFlag = False,
) -> None:
    """Show one run: its versions, counts, step timings, validations and quarantine, and the
    challenger's output beside the window's."""
    from shipml.errors import RunNotFound
    from shipml.project.challenger import challenger_lineage

    project = open_project(project_dir)
    try:
        detail = project.store.run(_full_id(project, run_id))
    except RunNotFound:
        fail(f"no run {run_id!r} in {project.name}", EXIT_UNUSABLE)
    challenger = challenger_lineage(project.store, detail.run)
    if json_output:
        found = dataclasses.asdict(detail)
        found["challenger"] = None if challenger is None else dataclasses.asdict(challenger)
        print_json(found)
        return
    _print_lineage(detail, challenger)


def _full_id(project: Any, prefix: str) -> str:
    matches = [r.id for r in project.store.runs(limit=10_000) if r.id.startswith(prefix)]
    if len(matches) > 1:
        fail(f"run id prefix {prefix!r} is ambiguous ({len(matches)} runs)", EXIT_UNUSABLE)
    return matches[0] if matches else prefix


def _move(move: AliasMoveRecord | None) -> str:
    """'move #3 (manual, gate passed): v1 -> v2 by ana@host at 2026-12-03 10:00'."""
    if move is None:
        return ""
    gate = (
        "no gate"
        if move.gate_passed is None
        else f"gate {'passed' if move.gate_passed else 'failed'}"
    )
    forced = ", forced" if move.forced else ""
    return (
        f"move #{move.id} ({move.reason}, {gate}{forced}): v{move.from_version or '-'} -> "
        f"v{move.to_version} by {move.moved_by} at {move.moved_at:%Y-%m-%d %H:%M:%S}"
    )


def _challenger_rows(challenger: ChallengerLineage | None) -> dict[str, str]:
    """The lineage rows of the challenger's output of a batch window (none without one)."""
    if challenger is None:
        return {}
    scored = challenger.scored
    model = f"{scored.model_name or '?'} v{scored.version or '?'} ({scored.alias or '-'})"
    return {
        "challenger": model,
        "challenger set by": _move(challenger.move),
        "challenger output": scored.output or "",
        "challenger error": scored.error or "",
    }


def _print_lineage(detail: RunDetail, challenger: ChallengerLineage | None = None) -> None:
    run = detail.run
    facts = Table(show_header=False, title=f"run {run.id}")
    facts.add_column(style="bold")
    facts.add_column()
    rows = {
        "kind / status": f"{run.kind} / {run.status}",
        "window": f"{run.window_start} .. {run.window_end}" if run.window_start else "",
        "git commit": f"{run.git_commit or '?'}{' (dirty)' if run.git_dirty else ''}",
        "data version": run.data_version or "",
        "config hash": (run.config_hash or "")[:16],
        "model": f"{run.model_name} v{run.model_version} ({run.model_alias or '-'})"
        if run.model_name
        else "",
        "model set by": _move(detail.alias_move),
        "shipml": run.shipml_version or "",
        "rows in/valid/invalid/quarantined/out": " / ".join(
            str(c)
            for c in (
                run.rows_in,
                run.rows_valid,
                run.rows_invalid,
                run.rows_quarantined,
                run.rows_out,
            )
        ),
        "output": run.output or "",
        **_challenger_rows(challenger),
        "error": f"{run.failed_step or ''}: {run.error}" if run.error else "",
    }
    for key, value in rows.items():
        if value:
            facts.add_row(key, value)
    console.print(facts)
    steps = Table(title="steps")
    for column in ("step", "seconds", "rows in", "rows out"):
        steps.add_column(column)
    for s in detail.steps:
        steps.add_row(s.step, f"{s.duration_s:.3f}", str(s.rows_in), str(s.rows_out))
    console.print(steps)
    checks = Table(title="validation")
    for column in ("boundary", "ok", "rows", "invalid", "quarantined"):
        checks.add_column(column)
    for v in detail.validations:
        ok = "[green]yes" if v.ok else "[red]no"
        checks.add_row(v.boundary, ok, str(v.rows), str(v.invalid_rows), str(v.quarantined_rows))
    console.print(checks)
