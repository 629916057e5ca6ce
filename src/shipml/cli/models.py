"""`shipml train`, `shipml promote`, `shipml models`: training runs and registered versions."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
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


def register(app: typer.Typer) -> None:
    """Add `train`, `promote` and `models` to `app`."""
    command(app, "train")(train_command)
    command(app, "promote")(promote)
    command(app, "models")(models)


def train_command(
    project_dir: ProjectDir = Path("."),
    data: Annotated[Path | None, typer.Option(help="Train on this file instead.")] = None,
    promote_to: Annotated[
        str | None, typer.Option("--promote", help="Point this alias at the new version.")
    ] = None,
    metrics_file: Annotated[
        Path | None, typer.Option(help="Also write the holdout metrics to this JSON file.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Train, evaluate on the holdout, log to MLflow and register a new model version."""
    from shipml.errors import FlowFailed
    from shipml.project.training import train

    project = open_project(project_dir)
    try:
        with step_progress("training") as progress:
            outcome = train(project, data=data, on_step=progress)
    except FlowFailed as error:
        fail(f"training failed at {error}", EXIT_FAILED)
    if promote_to:
        project.tracker.promote(outcome.model.version, promote_to)
    if metrics_file is not None:
        metrics_file.write_text(json.dumps(outcome.metrics, indent=2, sort_keys=True) + "\n")
    if json_output:
        print_json(dataclasses.asdict(outcome))
        return
    scores = ", ".join(f"{k} {v:.3f}" for k, v in sorted(outcome.metrics.items()))
    console.print(
        f"[bold green]✓[/] trained {outcome.model.name} v{outcome.model.version} on "
        f"{outcome.rows_train} rows ({outcome.data_version[:19]}); holdout of "
        f"{outcome.rows_holdout}: {scores}"
    )
    for note in outcome.notes:
        console.print(f"  {note}", markup=False, highlight=False)
    if promote_to:
        console.print(f"  alias {promote_to!r} -> v{outcome.model.version}")


def promote(
    version: Annotated[str, typer.Argument(help="The model version to promote.")],
    alias: Annotated[str, typer.Option(help="The alias to move.")] = "champion",
    project_dir: ProjectDir = Path("."),
) -> None:
    """Point an alias (default: champion) at a model version."""
    project = open_project(project_dir)
    ref = project.tracker.promote(version, alias)
    console.print(f"[bold green]✓[/] {ref.name}@{alias} -> v{ref.version}")


def models(project_dir: ProjectDir = Path("."), json_output: JsonFlag = False) -> None:
    """List registered versions with their metrics, data versions and aliases."""
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
