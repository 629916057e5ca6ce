"""`shipml validate` and `shipml contract infer`, run through Typer on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from shipml.cli.contracts import register

CONTRACTS = """
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Reading(BaseModel):
    machine_id: str
    ts: datetime
    temperature_c: float = Field(ge=-40, le=150)
    mode: Literal["idle", "run"]


def helper() -> None:
    pass
"""

GOOD_ROWS = [
    "m1,2024-03-01T10:00:00,20.5,idle",
    "m2,2024-03-01T10:01:00,21.0,run",
    "m3,2024-03-01T10:02:00,22.5,run",
]


def run(*args: str) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def csv_file(folder: Path, rows: list[str], name: str = "readings.csv") -> Path:
    path = folder / name
    path.write_text("machine_id,ts,temperature_c,mode\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def contract(tmp_path: Path) -> str:
    path = tmp_path / "contracts.py"
    path.write_text(CONTRACTS)
    return f"{path}:Reading"


def one_error_line(result: Result) -> str:
    """The refusal: exit 2, nothing on stdout, exactly one line on stderr."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --- shipml validate -------------------------------------------------------------------


def test_valid_data_exits_0(tmp_path: Path, contract: str) -> None:
    result = run("validate", str(csv_file(tmp_path, GOOD_ROWS)), "--contract", contract)
    assert result.exit_code == 0, result.output
    assert "Reading: all 3 rows valid" in result.stdout


def test_invalid_data_exits_1_with_the_report(tmp_path: Path, contract: str) -> None:
    rows = [*GOOD_ROWS, "m4,2024-03-01T10:03:00,-99.0,run"]
    result = run("validate", str(csv_file(tmp_path, rows)), "--contract", contract)
    assert result.exit_code == 1
    assert "Reading: 1 of 4 rows invalid" in result.stdout
    assert "temperature_c: Input should be greater than or equal to -40 (1 rows; row 3: -99.0)" in (
        result.stdout
    )
    assert result.stderr == ""


def test_json_report(tmp_path: Path, contract: str) -> None:
    rows = [*GOOD_ROWS, "m4,03/01/2024 10:03,20.0,broken"]
    data = csv_file(tmp_path, rows)
    result = run("validate", str(data), "--contract", contract, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["rows"] == 4 and report["invalid_rows"] == 1
    assert {f["column"] for f in report["failures"]} == {"ts", "mode"}
    assert report["failures"][0]["examples"][0]["row"] == 3


def test_quarantine_within_the_limit_exits_0(tmp_path: Path, contract: str) -> None:
    rows = GOOD_ROWS * 3 + ["m9,2024-03-01T11:00:00,999.0,run"]
    data = str(csv_file(tmp_path, rows))
    result = run("validate", data, "-c", contract, "--policy", "quarantine")
    assert result.exit_code == 0, result.output
    assert "quarantine: 1 rows set aside, 9 valid rows go on" in result.stdout
    stricter = run(
        "validate", data, "-c", contract, "--policy", "quarantine", "--max-invalid-fraction", "0.05"
    )
    assert stricter.exit_code == 1
    assert "10.0% of rows invalid, above the quarantine limit of 5.0%" in stricter.stdout


def test_string_fields_are_read_as_text(tmp_path: Path) -> None:
    (tmp_path / "zips.py").write_text(
        "from pydantic import BaseModel\n\n\nclass Place(BaseModel):\n    zip: str\n    n: int\n"
    )
    data = tmp_path / "places.csv"
    data.write_text("zip,n\n01234,1\n75001,2\n")
    result = run("validate", str(data), "--contract", f"{tmp_path / 'zips.py'}:Place")
    assert result.exit_code == 0, result.output


def test_module_reference_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cli_limits.py").write_text("LOW = -40\n")
    (tmp_path / "cli_module_contracts.py").write_text(
        CONTRACTS.replace("from datetime", "from cli_limits import LOW\nfrom datetime").replace(
            "ge=-40", "ge=LOW"
        )
    )
    monkeypatch.chdir(tmp_path)
    csv_file(tmp_path, GOOD_ROWS)
    result = run("validate", "readings.csv", "--contract", "cli_module_contracts:Reading")
    assert result.exit_code == 0, result.output
    assert str(tmp_path) not in sys.path


def test_unusable_data_exits_2_with_one_line(tmp_path: Path, contract: str) -> None:
    data = tmp_path / "eu.csv"
    data.write_text("machine_id;ts;temperature_c;mode\nm1;2024-03-01;20,5;idle\n")
    line = one_error_line(run("validate", str(data), "--contract", contract))
    assert "looks ;-delimited" in line and "--delimiter ';'" in line


def test_delimiter_option(tmp_path: Path, contract: str) -> None:
    data = tmp_path / "eu.csv"
    data.write_text("machine_id;ts;temperature_c;mode\nm1;2024-03-01T10:00:00;20.5;idle\n")
    result = run("validate", str(data), "--contract", contract, "--delimiter", ";")
    assert result.exit_code == 0, result.output


def test_out_of_range_fraction_is_a_usage_error(tmp_path: Path, contract: str) -> None:
    data = str(csv_file(tmp_path, GOOD_ROWS))
    result = run("validate", data, "-c", contract, "--max-invalid-fraction", "1.5")
    assert result.exit_code == 2
    assert "--max-invalid-fraction" in result.stderr


def test_missing_data_file(tmp_path: Path, contract: str) -> None:
    line = one_error_line(run("validate", str(tmp_path / "nope.csv"), "--contract", contract))
    assert line == f"error: {tmp_path / 'nope.csv'}: no such file"


def test_size_limit_option(tmp_path: Path, contract: str) -> None:
    data = str(csv_file(tmp_path, GOOD_ROWS))
    line = one_error_line(run("validate", data, "--contract", contract, "--max-bytes", "50"))
    assert "above the read limit of 50 bytes" in line


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("no_colon_here", "contract 'no_colon_here': expected module:Model"),
        (
            "module_that_does_not_exist_42:Reading",
            "no module named 'module_that_does_not_exist_42'",
        ),
        ("{folder}/contracts.py:Missing", "has no 'Missing' (it defines: Reading)"),
        ("{folder}/contracts.py:helper", "contracts.py:helper is not a Pydantic model class"),
        ("{folder}/absent.py:Reading", "absent.py not found"),
        ("{folder}/broken.py:Reading", "broken.py failed: RuntimeError: boom"),
        (
            "{folder}/needs_dep.py:Reading",
            "failed: ModuleNotFoundError: No module named 'not_a_dep'",
        ),
    ],
)
def test_bad_contract_reference_exits_2(
    tmp_path: Path, contract: str, reference: str, expected: str
) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "needs_dep.py").write_text("import not_a_dep\n")
    data = str(csv_file(tmp_path, GOOD_ROWS))
    line = one_error_line(run("validate", data, "-c", reference.format(folder=tmp_path)))
    assert expected in line


# --- shipml contract infer -------------------------------------------------------------


def test_infer_prints_a_contract(tmp_path: Path) -> None:
    result = run("contract", "infer", str(csv_file(tmp_path, GOOD_ROWS * 2)), "--name", "Reading")
    assert result.exit_code == 0, result.output
    assert "class Reading(BaseModel):" in result.stdout
    assert "    ts: datetime\n" in result.stdout
    assert '    mode: Literal["idle", "run"]\n' in result.stdout


def test_inferred_contract_file_validates_its_data(tmp_path: Path) -> None:
    data = str(csv_file(tmp_path, GOOD_ROWS * 2))
    out = tmp_path / "inferred.py"
    result = run("contract", "infer", data, "--name", "Reading", "--bounds", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote {out}: Reading with 4 fields"
    assert "temperature_c: float = Field(ge=20.5, le=22.5)" in out.read_text()
    assert run("validate", data, "--contract", f"{out}:Reading").exit_code == 0
    hotter = str(csv_file(tmp_path, [*GOOD_ROWS, "m4,2024-03-01T10:03:00,30.0,run"], "hot.csv"))
    assert run("validate", hotter, "--contract", f"{out}:Reading").exit_code == 1


def test_infer_does_not_overwrite_without_force(tmp_path: Path) -> None:
    data = str(csv_file(tmp_path, GOOD_ROWS))
    out = tmp_path / "mine.py"
    out.write_text("# hand-written\n")
    line = one_error_line(run("contract", "infer", data, "--name", "R", "--out", str(out)))
    assert line == f"error: {out} exists; pass --force to overwrite it"
    assert out.read_text() == "# hand-written\n"
    forced = run("contract", "infer", data, "--name", "R", "--out", str(out), "--force")
    assert forced.exit_code == 0 and "class R(BaseModel)" in out.read_text()


def test_infer_refuses_column_names_that_cannot_be_fields(tmp_path: Path) -> None:
    data = tmp_path / "shop.csv"
    data.write_text("unit price,qty\n1.5,2\n")
    line = one_error_line(run("contract", "infer", str(data), "--name", "Sale"))
    assert "'unit price' -> 'unit_price'" in line


def test_infer_refuses_unusable_data(tmp_path: Path) -> None:
    data = tmp_path / "header.csv"
    data.write_text("a,b\n")
    line = one_error_line(run("contract", "infer", str(data), "--name", "Row"))
    assert line.endswith("has a header but no rows")


# --- the installed command ---------------------------------------------------------------

SHIPML = Path(sys.executable).with_name("shipml")


@pytest.mark.timeout(120)
def test_exit_codes_of_the_installed_command(tmp_path: Path, contract: str) -> None:
    def shipml(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SHIPML, *args], capture_output=True, text=True, timeout=60)

    bad = str(csv_file(tmp_path, [*GOOD_ROWS, "m4,2024-03-01T10:03:00,20.0,off"]))
    invalid = shipml("validate", bad, "--contract", contract, "--json")
    assert invalid.returncode == 1, invalid.stderr
    assert json.loads(invalid.stdout)["invalid_rows"] == 1
    unusable = shipml("validate", str(tmp_path / "gone.csv"), "--contract", contract)
    assert (unusable.returncode, unusable.stdout) == (2, "")
    assert unusable.stderr == f"error: {tmp_path / 'gone.csv'}: no such file\n"


def test_a_weather_file_with_slashed_dates_round_trips(tmp_path: Path) -> None:
    days = [f"2012/01/{d:02d}" for d in range(1, 32)] + [f"2012/02/{d:02d}" for d in range(1, 29)]
    rows = "\n".join(f"{day},{10 + i % 7}.5,rain" for i, day in enumerate(days))
    data = tmp_path / "weather.csv"
    data.write_text("date,temp_max,weather\n" + rows + "\n")
    out = tmp_path / "weather_contract.py"

    inferred = run("contract", "infer", str(data), "--name", "Weather", "--out", str(out))

    assert inferred.exit_code == 0, inferred.output
    assert '    date: Annotated[date, DateFormat("%Y/%m/%d")]\n' in out.read_text()
    assert run("validate", str(data), "--contract", f"{out}:Weather").exit_code == 0
    american = [f"02/{d:02d}/2012" for d in range(1, 29)]  # February written month first
    switched = tmp_path / "switched.csv"
    switched.write_text(
        "date,temp_max,weather\n"
        + "\n".join(f"{day},12.5,rain" for day in [*days[:31], *american])
        + "\n"
    )
    result = run("validate", str(switched), "--contract", f"{out}:Weather")
    assert result.exit_code == 1
    assert "date: declared YYYY/MM/DD, this file holds MM/DD/YYYY (American) from row 31" in (
        " ".join(result.stdout.split())
    )
