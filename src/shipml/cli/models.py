"""`shipml train`, `promote`, `rollback`, `models` (and `models history`): training runs,
registered versions and the moves of their aliases.

Exit codes: 0 done; 1 the promotion gate refused the version (the refusal is recorded, and
`--force` promotes anyway) or training failed; 2 unusable input (no such version, no
stored holdout, no earlier version to roll back to, a bad shipml.toml).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

if TYPE_CHECKING:
    from shipml.monitoring import GateVerdict
    from shipml.project import AliasMove
    from shipml.store import AliasMoveRecord
    from shipml.versioning import ModelVersionInfo

from shipml.cli._common import (
    EXIT_FAILED,
    JsonFlag,
    ProjectDir,
    command,
    console,
    fail,
    open_project,
    print_json,
    step_progress,
)

ForceFlag = Annotated[
    bool,
    typer.Option("--force", help="Move the alias even if the promotion gate refuses (recorded)."),
]
NoteOption = Annotated[str | None, typer.Option(help="Why, kept with the move.")]


def register(app: typer.Typer) -> None:
    """Add `train`, `promote`, `rollback` and `models` (with `models history`) to `app`."""
    command(app, "train")(train_command)
    command(app, "promote")(promote)
    command(app, "rollback")(rollback)
    group = typer.Typer(
        invoke_without_command=True,
        no_args_is_help=False,
        help="List registered versions; `models history` shows every alias move.",
    )
    group.callback()(models)
    command(group, "history")(history)
    app.add_typer(group, name="models")


def train_command(
    project_dir: ProjectDir = Path("."),
    data: Annotated[Path | None, typer.Option(help="Train on this file instead.")] = None,
    promote_to: Annotated[
        str | None, typer.Option("--promote", help="Point this alias at the new version.")
    ] = None,
    metrics_file: Annotated[
        Path | None, typer.Option(help="Also write the holdout metrics to this JSON file.")
    ] = None,
    force: ForceFlag = False,
    json_output: JsonFlag = False,
) -> None:
    """Train, evaluate on the holdout, log to MLflow and register a new model version.

    With --promote ALIAS, the new version goes through the promotion gate first (exit 1 when
    it is refused: the version stays registered, the refusal is recorded).
    """
    from shipml.errors import FlowFailed, PromotionRefused
    from shipml.project import promote as promote_version
    from shipml.project.training import train

    project = open_project(project_dir)
    try:
        with step_progress("training") as progress:
            outcome = train(project, data=data, on_step=progress)
    except FlowFailed as error:
        fail(f"training failed at {error}", EXIT_FAILED)
    move: AliasMove | None = None
    refused: PromotionRefused | None = None
    if promote_to:
        try:
            move = promote_version(project, outcome.model.version, alias=promote_to, force=force)
        except PromotionRefused as error:
            refused, move = error, error.move
    if metrics_file is not None:
        metrics_file.write_text(json.dumps(outcome.metrics, indent=2, sort_keys=True) + "\n")
    if json_output:
        print_json({**dataclasses.asdict(outcome), "promotion": _move_json(move)})
        if refused is not None:
            raise refused
        return
    scores = ", ".join(f"{k} {v:.3f}" for k, v in sorted(outcome.metrics.items()))
    console.print(
        f"[bold green]✓[/] trained {outcome.model.name} v{outcome.model.version} on "
        f"{outcome.rows_train} rows ({outcome.data_version[:19]}); holdout of "
        f"{outcome.rows_holdout}: {scores}"
    )
    for note in outcome.notes:
        console.print(f"  {note}", markup=False, highlight=False)
    if move is not None:
        _print_move(move)
    if refused is not None:
        raise refused


def promote(
    version: Annotated[str, typer.Argument(help="The model version to promote.")],
    alias: Annotated[str, typer.Option(help="The alias to move.")] = "champion",
    force: ForceFlag = False,
    note: NoteOption = None,
    project_dir: ProjectDir = Path("."),
    json_output: JsonFlag = False,
) -> None:
    """Gate a version against the champion on the same rows, then point an alias at it.

    The candidate and the current champion are compared on the candidate's holdout, or, once
    the candidate scored production windows as the challenger and labels were joined to them,
    on those labelled rows (both models' predictions of them). The version is refused (exit
    1, recorded) when `[promotion] metric` drops by more than `max_drop` or a `min_<metric>`
    floor fails. --force moves it anyway, recorded as forced.
    """
    from shipml.errors import PromotionRefused
    from shipml.project import promote as promote_version

    project = open_project(project_dir)
    try:
        move = promote_version(project, version, alias=alias, force=force, note=note)
    except PromotionRefused as error:
        if json_output:
            print_json(_move_json(error.move))
        else:
            _print_move(error.move)
        raise
    if json_output:
        print_json(_move_json(move))
        return
    _print_move(move)


def rollback(
    alias: Annotated[str, typer.Option(help="The alias to move back.")] = "champion",
    note: NoteOption = None,
    project_dir: ProjectDir = Path("."),
    json_output: JsonFlag = False,
) -> None:
    """Point an alias (default: champion) back at the version it had before its last move."""
    from shipml.project import rollback as roll_back

    project = open_project(project_dir)
    move = roll_back(project, alias=alias, note=note)
    if json_output:
        print_json(_move_json(move))
        return
    _print_move(move)


def history(
    alias: Annotated[str | None, typer.Option(help="Only the moves of this alias.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many moves.")] = 50,
    project_dir: ProjectDir = Path("."),
    json_output: JsonFlag = False,
) -> None:
    """Every alias move, newest first: who, when, from and to which version, gate, reason."""
    project = open_project(project_dir)
    moves = project.store.alias_moves(project.tracker.model_name, alias, limit=limit)
    if json_output:
        print_json([dataclasses.asdict(m) for m in moves])
        return
    table = Table(title=f"alias moves of model {project.tracker.model_name}")
    for column in ("#", "UTC", "alias", "move", "reason", "gate", "by"):
        table.add_column(column, overflow="fold")
    for m in moves:
        was = f"v{m.from_version}" if m.from_version else "-"
        refused = " refused" if m.outcome == "refused" else ""
        table.add_row(
            str(m.id),
            f"{m.moved_at:%m-%d %H:%M:%S}",
            m.alias,
            f"{was}->v{m.to_version}{refused}",
            m.reason,
            _gate_cell(m),
            m.moved_by,
        )
    console.print(table)


def models(
    ctx: typer.Context, project_dir: ProjectDir = Path("."), json_output: JsonFlag = False
) -> None:
    """List registered versions with their metrics, data versions and aliases."""
    from shipml.errors import ShipmlError

    if ctx.invoked_subcommand is not None:
        return
    try:
        _list_versions(project_dir, json_output)
    except ShipmlError as error:
        fail(str(error), error.exit_code)


def _list_versions(project_dir: Path, json_output: bool) -> None:
    project = open_project(project_dir)
    versions = project.tracker.versions()
    if json_output:
        print_json([dataclasses.asdict(v) for v in versions])
        return
    table = Table(title=f"model {project.tracker.model_name}")
    columns = ("version", "aliases", "trained", "task", "metrics", "data version", "git commit")
    for column in columns:
        table.add_column(column)
    for v in versions:
        table.add_row(
            v.ref.version,
            ", ".join(v.aliases),
            f"{v.created_at:%Y-%m-%d %H:%M}",
            _task(v),
            _metrics(v.metrics),
            (v.data_version or "")[:23],
            (v.git_commit or "")[:10],
        )
    console.print(table)


def _task(version: ModelVersionInfo) -> str:
    """'binary (malignant, threshold 0.42)', 'multiclass (3 classes)', 'regression'."""
    if version.task == "binary":
        threshold = "" if version.threshold is None else f", threshold {version.threshold:.3g}"
        return f"binary ({version.positive_label}{threshold})"
    if version.task == "multiclass":
        return f"multiclass ({len(version.classes or [])} classes)"
    return version.task or ""


def _metrics(metrics: dict[str, float]) -> str:
    """Overall metrics; per-class ones (`precision.setosa`) counted, shown by --json."""
    overall = ", ".join(f"{k} {m:.3f}" for k, m in sorted(metrics.items()) if "." not in k)
    per_class = sum("." in k for k in metrics)
    return f"{overall} (+{per_class} per class, see --json)" if per_class else overall


def _gate_cell(move: AliasMoveRecord) -> str:
    """'passed roc_auc 0.91 vs 0.9 (champion)', 'refused ...', 'forced: refused ...', '-'."""
    if move.gate is None:
        return "forced: no gate" if move.forced else "-"
    verdict = "passed" if move.gate_passed else "refused"
    text = f"{verdict} {move.gate.get('headline', '')}".strip()
    return f"forced: {text}" if move.forced else text


def _move_json(move: AliasMove | None) -> dict[str, Any] | None:
    if move is None:
        return None
    return {
        "move": dataclasses.asdict(move.record),
        "gate": None if move.verdict is None else move.verdict.model_dump(mode="json"),
    }


def _print_move(move: AliasMove) -> None:
    record = move.record
    if move.verdict is not None:
        _print_verdict(move.verdict)
    name = f"{record.model_name}@{record.alias}"
    was = f"v{record.from_version}" if record.from_version else "nothing"
    if record.outcome == "refused":
        console.print(f"[bold red]✗[/] {name} stays on {was}: v{record.to_version} refused")
        return
    forced = " [bold yellow](forced past the gate)[/]" if record.forced else ""
    console.print(
        f"[bold green]✓[/] {name} -> v{record.to_version} (was {was}; {record.reason}){forced}"
    )


def _print_verdict(verdict: GateVerdict) -> None:
    title = f"v{verdict.candidate_version} vs champion " + (
        f"v{verdict.champion_version}" if verdict.champion_version else "(none)"
    )
    table = Table(title=f"{title} on {verdict.evaluated_on}")
    for column in ("metric", "candidate", "champion", "change", "better"):
        table.add_column(column)
    for row in verdict.rows:
        if "." in row.metric and row.metric != verdict.metric:
            continue  # per-class metrics: see --json
        gated = row.metric == verdict.metric
        table.add_row(
            f"[bold]{row.metric}[/] (gated)" if gated else row.metric,
            _number(row.candidate),
            _number(row.champion),
            _number(row.change, signed=True),
            "lower" if row.lower_is_better else "higher",
        )
    console.print(table)
    console.print(f"gate {verdict.summary}", markup=False, highlight=False)


def _number(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
