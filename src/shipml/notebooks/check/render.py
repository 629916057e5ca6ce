"""Show a NotebookReport in the terminal with Rich: findings grouped under their cell."""

from __future__ import annotations

from itertools import groupby

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from shipml.notebooks.check.findings import Finding, NotebookReport, RunSummary


def render_report(report: NotebookReport) -> RenderableType:
    """A summary line, then per cell its number, name and section, and one row per finding."""
    parts: list[RenderableType] = [_summary(report)]
    for cell, findings in groupby(report.findings, key=lambda finding: finding.cell):
        parts += _cell_block(cell, list(findings))
    if report.notes:
        parts.append(
            Text(
                f"\nnotes: what `shipml notebook convert` would change or leave out "
                f"({len(report.notes)})",
                style="bold",
            )
        )
        for cell, notes in groupby(report.notes, key=lambda note: note.cell):
            parts += _cell_block(cell, list(notes), style="dim")
    if report.run is not None:
        parts.append(_run_line(report.run))
    return Group(*parts)


def _cell_block(cell: int, findings: list[Finding], style: str = "") -> list[RenderableType]:
    first = findings[0]
    header = Text.assemble("\n", (f"cell {cell}", "bold"), "  ", (first.cell_name, "cyan"))
    if first.section:
        header.append(f"  ({first.section})", style="dim")
    rows = Table.grid(padding=(0, 1))
    rows.style = style
    rows.add_column(justify="right", no_wrap=True, min_width=9)
    rows.add_column(no_wrap=True, style="bold yellow")
    rows.add_column(ratio=1)
    for finding in findings:
        line = "" if finding.line is None else f"line {finding.line}"
        rows.add_row(line, finding.kind.value, Text(finding.message))
    return [header, rows]


def _summary(report: NotebookReport) -> Text:
    if report.clean:
        return Text(f"{report.notebook}: no traps found in {report.code_cells} code cells")
    cells = len({finding.cell for finding in report.findings})
    count = len(report.findings)
    return Text(
        f"{report.notebook}: {count} finding{'s' if count != 1 else ''} in {cells} "
        f"of {report.code_cells} code cells",
        style="bold red",
    )


def _run_line(run: RunSummary) -> Text:
    verdict = "ran top to bottom" if run.ok else "failed"
    return Text(
        f"\n--run: {verdict} in a fresh {run.kernel!r} kernel "
        f"({run.cells_run} cells ran, {run.seconds:g} s)",
        style="green" if run.ok else "bold red",
    )
