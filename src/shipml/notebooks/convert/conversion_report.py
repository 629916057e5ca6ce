"""CONVERSION.md: how each part of the notebook became a step, what changed, what is left."""

from __future__ import annotations

from shipml.notebooks.convert.project_spec import Design
from shipml.notebooks.convert.project_writer import window_path
from shipml.notebooks.convert.tests_source import EVIDENCE_DIR, evidence_files
from shipml.scaffold import WINDOW, WINDOW_START


def conversion_markdown(design: Design, verification: str | None) -> str:
    """The text of CONVERSION.md."""
    sections = [
        _summary(design),
        _steps(design),
        _data(design),
        _listed(
            "Changed on the way (review)",
            [str(change) for change in design.changes],
            "Nothing: every kept statement is the notebook's code as it was.",
        ),
        _listed(
            "Not carried over",
            [
                f"cell {d.cell} line {d.line}: `{d.text}` — {d.reason}"
                + (f" ({d.kind})" if d.kind else "")
                for d in design.dropped
            ],
            "Nothing: every statement is part of a step.",
        ),
        _tests(design, verification),
        "## TODO\n\n" + "\n".join(f"- [ ] {item}" for item in design.todo),
    ]
    return "\n\n".join(sections) + "\n"


def _summary(design: Design) -> str:
    return (
        f"# {design.name}: converted from {design.notebook.name}\n\n"
        f"`shipml notebook convert` read {design.code_cells} code cells in {design.sections} "
        f"sections, ran the notebook once on its own data ({design.capture_seconds:.1f} s, in a "
        "copy of its folder) to capture the tables and what its preparation learned, and "
        "wrote this project from them."
    )


def _steps(design: Design) -> str:
    rows = ["| step | role | from the notebook | takes | gives |", "|---|---|---|---|---|"]
    for spec in design.transforms:
        rows.append(
            f"| `{spec.name}` | transform | section {spec.section!r}, {_cells(spec.cells)} "
            f"| `{spec.input_contract}` | `{spec.output_contract}` |"
        )
    train, predict = design.train, design.predict
    rows.append(
        f"| `train` | train | {_cells(train.cells)} | `{train.input_contract}` | the model "
        f"(`{design.model_class}` with what `prepare` learned) |"
    )
    rows.append(
        f"| `predict` | predict | `.{predict.method}(...)` in cell {predict.cell} "
        f"| `{predict.input_contract}` | `{predict.output_contract}` |"
    )
    learned = (
        f"`prepare` ({_cells(design.prepare.cells)}) runs inside the model: `train` runs it "
        f"learning ({design.learned_sites} statistic(s), fitted object(s) or column set(s), "
        "listed below), `predict` replays it on rows to score, so both prepare rows the same "
        "way."
        if design.prepare.cells
        else "`prepare` only hands the rows to the model."
    )
    roles = (
        "Roles not in the notebook: **ingest** (none: training reads `[training] data`, batch "
        "windows read `[source]`) and **postprocess** (none)."
    )
    return "## Steps\n\n" + "\n".join(rows) + "\n\n" + learned + "\n\n" + roles


def _data(design: Design) -> str:
    frame, training = design.raw.frame, design.raw.training
    unlabelled = len(frame) - len(training)
    kept = f"{len(training)} rows" + (
        f"; {unlabelled} rows without a label left out" if unlabelled else ""
    )
    origin = (
        f"`{design.raw.source.name}` as the notebook reads it"
        if design.raw.source is not None
        else f"scikit-learn's `{design.raw.loader}()` as the notebook loads it"
    )
    start = WINDOW_START.isoformat().replace("+00:00", "Z")
    end = (WINDOW_START + WINDOW).isoformat().replace("+00:00", "Z")
    window = window_path(design).format(start=WINDOW_START)
    holdout = (
        f"{design.holdout_fraction} (the notebook's test size)"
        if design.holdout_fraction is not None
        else "0.2 (shipml's default)"
    )
    lines = [
        f"- `data/train.csv`: {origin} ({kept}).",
        (
            f"- Label `{design.label}`: the column the model learns (`.fit(...)` in cell "
            f"{design.fit_cell}); task: {design.task}; prediction column: "
            f"`{design.prediction_column}`; holdout fraction {holdout}."
        ),
        (
            f"- `{window}`: all {len(frame)} rows without the label, as one batch window: "
            f"`shipml run --start {start} --end {end}`."
        ),
    ]
    return "## Data\n\n" + "\n".join(lines)


def _tests(design: Design, verification: str | None) -> str:
    files = "\n".join(
        f"- `{EVIDENCE_DIR}/{name}`: {what}" for name, what in evidence_files(design).items()
    )
    result = f"\n\nWhen converted: {verification}." if verification else ""
    return (
        "## Tests\n\n`tests/test_contracts.py` checks the data files against the contracts; "
        "`tests/test_notebook.py` runs the pipeline on the notebook's own rows and compares "
        f"it with what the notebook computed, saved in `{EVIDENCE_DIR}/`:\n\n{files}{result}"
    )


def _listed(title: str, items: list[str], empty: str) -> str:
    body = "\n".join(f"- {item}" for item in items) if items else empty
    return f"## {title}\n\n{body}"


def _cells(cells: tuple[int, ...]) -> str:
    return ("cell " if len(cells) == 1 else "cells ") + ", ".join(str(c) for c in cells)


def conversion_summary(design: Design, directory: str, verification: str | None) -> str:
    """What the console shows after a conversion: the project in short, and the TODO list."""
    steps = [f"{t.name} ({_cells(t.cells)})" for t in design.transforms]
    steps += [f"train ({_cells(design.train.cells)})", f"predict (cell {design.predict.cell})"]
    lines = [
        f"converted {design.notebook} -> {directory} (project {design.name})",
        f"  steps: {' -> '.join(steps)}",
        (
            f"  data: data/train.csv (label {design.label}), batch window "
            f"{window_path(design).format(start=WINDOW_START)}"
        ),
        f"  contracts: {', '.join(spec.name for spec in design.contracts)}",
        (
            f"  changed: {len(design.changes)} statement(s); left out: "
            f"{len(design.dropped)} statement(s) (CONVERSION.md lists them)"
        ),
        f"  tests: {verification or 'not run'}",
        "TODO (also in CONVERSION.md):",
        *(f"  - {item}" for item in design.todo),
    ]
    return "\n".join(lines)
