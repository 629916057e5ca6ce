"""`shipml labels ingest`: join late labels to logged predictions, judge realized performance."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from shipml.cli._common import JsonFlag, ProjectDir, command, console, open_project, print_json

if TYPE_CHECKING:
    from shipml.project.labels import LabelIngest

labels_app = typer.Typer(
    name="labels",
    help="Ground truth that arrives late: join it, judge performance.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `labels` group (`ingest`) to `app`."""
    command(labels_app, "ingest")(ingest)
    app.add_typer(labels_app)


def ingest(
    project_dir: ProjectDir = Path("."),
    start: Annotated[
        str | None, typer.Option(help="Read labels from, ISO 8601 (default: retention ago).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Read labels until (default: now).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Read the [labels] source for a range, join labels by key, judge each labelled window."""
    from shipml.project.labels import ingest_labels, ingest_range
    from shipml.windows import parse_datetime

    project = open_project(project_dir)
    begin, finish = ingest_range(
        project,
        parse_datetime(start) if start is not None else None,
        parse_datetime(end) if end is not None else None,
    )
    result = ingest_labels(project, begin, finish)
    if json_output:
        print_json(ingest_json(result))
        return
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(_counts_table(result))
    if result.rejected:
        console.print(f"labels not joined kept in {result.rejected}", highlight=False)
    console.print(_windows_table(result))


def ingest_json(result: LabelIngest) -> dict[str, Any]:
    """The ingest as JSON: the range, the counts, each judged window."""
    return {
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        **result.counts,
        "rejected": result.rejected,
        "notes": result.notes,
        "windows": [record.model_dump(mode="json") for record in result.records],
    }


def _counts_table(result: LabelIngest) -> Table:
    table = Table(title=f"labels {result.start.isoformat()} to {result.end.isoformat()}")
    for name in ("read", "matched", "unmatched", "duplicates", "invalid", "overdue"):
        table.add_column(name, justify="right")
    table.add_row(
        *(
            str(v)
            for v in (
                result.labels_read,
                result.matched,
                result.unmatched,
                result.duplicates,
                result.invalid,
                result.overdue,
            )
        )
    )
    return table


def _windows_table(result: LabelIngest) -> Table:
    table = Table(title="realized performance of the windows that received labels")
    for name in ("window", "model", "labels", "metrics", "verdict"):
        table.add_column(name)
    for record in result.records:
        shown = ", ".join(
            f"{name} {value:.4g}" for name, value in sorted(record.metrics.items())[:4]
        )
        if not record.judged:
            verdict = record.reason or "not judged"
        elif record.degraded:
            verdict = "[red]degraded: " + ", ".join(r.metric for r in record.degraded) + "[/]"
        else:
            verdict = "ok"
        table.add_row(
            record.window, record.model_version or "-", str(record.labels), shown, verdict
        )
    return table
