"""`shipml validate` and `shipml contract infer`: check data against a contract, or draft one.

Exit codes of `validate`: 0 when the data passes (under `quarantine`, when the invalid rows stay
within the limit), 1 when the contract rejects it (the report is printed), 2 when the data file
is unusable or the contract reference is bad (one line on stderr).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console

from shipml.contracts.errors import ContractViolation, UnusableInput
from shipml.contracts.infer import ContractInferenceError, infer_contract
from shipml.contracts.reading import DEFAULT_MAX_CELL_CHARS, read_table, text_columns_of
from shipml.contracts.report import ValidationReport
from shipml.contracts.validate import validate

EXIT_INVALID = 1
EXIT_UNUSABLE = 2


class PolicyChoice(StrEnum):
    """What `validate` does with invalid rows."""

    fail = "fail"
    quarantine = "quarantine"


class BadContractReference(Exception):
    """`module:Model` does not name an importable Pydantic model; the message is one line."""


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
    int, typer.Option(min=1, help="Refuse a cell longer than this many characters.")
]


def register(app: typer.Typer) -> None:
    """Add `validate` and the `contract` group (with `infer`) to `app`."""
    app.command("validate")(validate_data)
    contract_app = typer.Typer(help="Work with contracts.", no_args_is_help=True)
    contract_app.command("infer")(infer)
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
    max_cell_chars: MaxCellChars = DEFAULT_MAX_CELL_CHARS,
) -> None:
    """Validate a data file against a Pydantic contract; exit 1 with a report when it fails."""
    try:
        model = load_contract(contract)
        frame = read_table(
            data,
            max_bytes=max_bytes,
            max_cell_chars=max_cell_chars,
            delimiter=delimiter,
            encoding=encoding,
            text_columns=text_columns_of(model),
        )
    except (BadContractReference, UnusableInput) as error:
        _refuse(str(error))
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
    max_cell_chars: MaxCellChars = DEFAULT_MAX_CELL_CHARS,
) -> None:
    """Print the source of a Pydantic contract inferred from a data file (or write it to --out)."""
    if out is not None and out.exists() and not force:
        _refuse(f"{out} exists; pass --force to overwrite it")
    try:
        frame = read_table(
            data,
            max_bytes=max_bytes,
            max_cell_chars=max_cell_chars,
            delimiter=delimiter,
            encoding=encoding,
        )
        source = infer_contract(frame, name, bounds=bounds)
    except (UnusableInput, ContractInferenceError) as error:
        _refuse(str(error))
    if out is None:
        typer.echo(source, nl=False)
        return
    out.write_text(source, encoding="utf-8")
    typer.echo(f"wrote {out}: {name} with {len(frame.columns)} fields", err=True)


def load_contract(reference: str) -> type[BaseModel]:
    """The Pydantic model named by `module:Model` (current directory first) or `file.py:Model`."""
    target, _, attribute = reference.rpartition(":")
    if not target or not attribute:
        raise BadContractReference(
            f"contract {reference!r}: expected module:Model or path/to/file.py:Model"
        )
    module = _import_file(Path(target)) if target.endswith(".py") else _import_module(target)
    model = getattr(module, attribute, None)
    if model is None:
        found = _models_in(module)
        listed = f" (it defines: {', '.join(found)})" if found else " (it defines no models)"
        raise BadContractReference(f"{target} has no {attribute!r}{listed}")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise BadContractReference(f"{reference} is not a Pydantic model class")
    return model


def _import_module(name: str) -> ModuleType:
    with _first_on_path(Path.cwd()):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and (name == error.name or name.startswith(f"{error.name}.")):
                raise BadContractReference(
                    f"no module named {name!r} in the current directory or installed packages"
                ) from None
            raise BadContractReference(f"importing {name!r} failed: {error}") from None
        except Exception as error:  # the user's module may fail in any way while importing
            raise BadContractReference(
                f"importing {name!r} failed: {type(error).__name__}: {_first_line(error)}"
            ) from None


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise BadContractReference(f"contract file {path} not found")
    module_name = f"_shipml_contract_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise BadContractReference(f"{path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # Pydantic resolves annotations through sys.modules
    with _first_on_path(path.resolve().parent):
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # the user's module may fail in any way while importing
            del sys.modules[module_name]
            raise BadContractReference(
                f"importing {path} failed: {type(error).__name__}: {_first_line(error)}"
            ) from None
    return module


@contextmanager
def _first_on_path(directory: Path) -> Iterator[None]:
    """Put `directory` first on sys.path while importing, as `python -m` does for the cwd."""
    entry = str(directory)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)


def _models_in(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    )


def _show(
    report: ValidationReport, *, as_json: bool, reason: str | None, policy: PolicyChoice
) -> None:
    if as_json:
        typer.echo(report.to_json())
        if reason:
            typer.echo(reason, err=True)
        return
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


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_UNUSABLE)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""
