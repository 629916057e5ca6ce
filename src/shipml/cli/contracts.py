"""`shipml validate` and `shipml contract infer`: check data against a contract, or draft one.

Exit codes of `validate`: 0 when the data passes (under `quarantine`, when the invalid rows stay
within the limit), 1 when the contract rejects it (the report is printed), 2 when the data file
is unusable or the contract reference is bad (one line on stderr).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shipml.cli._common import EXIT_UNUSABLE, command, fail

if TYPE_CHECKING:
    from shipml.contracts.report import ValidationReport

EXIT_INVALID = 1


class PolicyChoice(StrEnum):
    """What `validate` does with invalid rows."""

    fail = "fail"
    quarantine = "quarantine"


Data = Annotated[Path, typer.Argument(help="A .csv, .tsv, .parquet or .pq file.")]
Delimiter = Annotated[
    str | None, typer.Option(help="CSV field delimiter (default: ',' for .csv, tab for .tsv).")
]
Encoding = Annotated[str, typer.Option(help="Text encoding of a CSV file.")]
MaxBytes = Annotated[
    int | None,
    typer.Option(
        min=1, help="Refuse files larger than this (default: a quarter of available memory)."
    ),
]
MaxCellChars = Annotated[
    int | None,
    typer.Option(min=1, help="Refuse a cell longer than this many characters. [default: 1000000]"),
]


def register(app: typer.Typer) -> None:
    """Add `validate` and the `contract` group (with `infer`) to `app`."""
    command(app, "validate")(validate_data)
    contract_app = typer.Typer(help="Work with contracts.", no_args_is_help=True)
    command(contract_app, "infer")(infer)
    app.add_typer(contract_app, name="contract")


def validate_data(
    data: Data,
    contract: Annotated[
        str, typer.Option("--contract", "-c", help="module:Model or path/to/file.py:Model.")
    ],
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    policy: Annotated[
        PolicyChoice,
        typer.Option(help="fail on any invalid row, or quarantine: set invalid rows aside."),
    ] = PolicyChoice.fail,
    max_invalid_fraction: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Under quarantine, the largest share of invalid rows accepted."
        ),
    ] = 0.1,
    delimiter: Delimiter = None,
    encoding: Encoding = "utf-8",
    max_bytes: MaxBytes = None,
    max_cell_chars: MaxCellChars = None,
) -> None:
    """Validate a data file against a Pydantic contract; exit 1 with a report when it fails."""
    from shipml.contracts.loading import load_contract
    from shipml.contracts.reading import DEFAULT_MAX_CELL_CHARS, read_table, text_columns_of
    from shipml.contracts.validate import validate
    from shipml.errors import ContractViolation

    model = load_contract(contract)
    frame = read_table(
        data,
        text_columns=text_columns_of(model),
        max_bytes=max_bytes,
        max_cell_chars=max_cell_chars or DEFAULT_MAX_CELL_CHARS,
        delimiter=delimiter,
        encoding=encoding,
    )
    exit_code, reason = 0, None
    try:
        report = validate(
            frame, model, policy=policy.value, max_invalid_fraction=max_invalid_fraction
        ).report
    except ContractViolation as violation:
        exit_code, report, reason = EXIT_INVALID, violation.report, violation.reason
    _show(report, as_json=json_output, reason=reason, policy=policy)
    raise typer.Exit(exit_code)


def infer(
    data: Data,
    name: Annotated[str, typer.Option(help="Class name of the model.")],
    bounds: Annotated[
        bool, typer.Option(help="Add Field(ge=min, le=max) from the observed numeric values.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Write the source to this file.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists.")] = False,
    delimiter: Delimiter = None,
    encoding: Encoding = "utf-8",
    max_bytes: MaxBytes = None,
    max_cell_chars: MaxCellChars = None,
) -> None:
    """Print the source of a Pydantic contract inferred from a data file (or write it to --out)."""
    from shipml.contracts.infer import infer_contract
    from shipml.contracts.reading import DEFAULT_MAX_CELL_CHARS, read_table

    if out is not None and out.exists() and not force:
        fail(f"{out} exists; pass --force to overwrite it", EXIT_UNUSABLE)
    frame = read_table(
        data,
        max_bytes=max_bytes,
        max_cell_chars=max_cell_chars or DEFAULT_MAX_CELL_CHARS,
        delimiter=delimiter,
        encoding=encoding,
    )
    source = infer_contract(frame, name, bounds=bounds)
    if out is None:
        typer.echo(source, nl=False)
        return
    out.write_text(source, encoding="utf-8")
    typer.echo(f"wrote {out}: {name} with {len(frame.columns)} fields", err=True)


def _show(
    report: ValidationReport, *, as_json: bool, reason: str | None, policy: PolicyChoice
) -> None:
    if as_json:
        typer.echo(report.to_json())
        if reason:
            typer.echo(reason, err=True)
        return
    from rich.console import Console

    console = Console()
    if console.is_terminal:
        console.print(report)
    else:  # plain lines read better than a folded table in logs and pipes
        typer.echo(report.summary())
    if reason:
        typer.echo(reason)
    elif policy is PolicyChoice.quarantine and not report.ok:
        typer.echo(
            f"quarantine: {report.invalid_rows} rows set aside, {report.valid_rows} valid rows "
            "go on"
        )
