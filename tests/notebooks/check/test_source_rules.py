"""Traps in the text of cells: magics, shell commands, absolute paths."""

from __future__ import annotations

import ast

import pytest

from shipml.notebooks.check.source_rules import absolute_paths

from ..helpers import findings_of, summary


def paths_in(code: str) -> list[str]:
    return [path for path, _ in absolute_paths(ast.parse(code))]


@pytest.mark.parametrize(
    "literal",
    [
        "/home/ana/data/train.csv",
        "/Users/ana/My Drive/sales.xlsx",
        "/data.parquet",
        "/mnt/shared/",
        "~/data/houses.csv",
        "C:\\Users\\ana\\train.csv",
        "D:/exports/out.csv",
        "\\\\fileserver\\share\\x.csv",
    ],
)
def test_absolute_paths_are_found(literal: str) -> None:
    assert paths_in(f"frame = read({literal!r})") == [literal]


@pytest.mark.parametrize(
    "literal",
    [
        "data/train.csv",
        "./train.csv",
        "../data",
        "https://example.org/data.csv",
        "/",
        "//comment",
        "%Y/%m/%d",
        "a / b",
        "/predict",
    ],
)
def test_other_strings_are_not_paths(literal: str) -> None:
    assert paths_in(f"value = f({literal!r})") == []


def test_an_fstring_is_judged_by_its_start_and_docstrings_are_skipped() -> None:
    code = (
        'def load(root):\n    """Reads /home/ana/data/x.csv when run locally."""\n'
        '    return read(f"{root}/data/x.csv"), read(f"/home/{user}/x.csv")\n'
    )
    assert paths_in(code) == ["/home/"]


def test_path_findings_carry_the_path_and_line(write_notebook) -> None:
    path = write_notebook([('import pandas as pd\nraw = pd.read_csv("/srv/data/raw.csv")', None)])
    findings = findings_of(path)
    assert summary(findings) == [(1, 2, "absolute_path", ["/srv/data/raw.csv"])]
    assert "take it from configuration" in findings[0].message


def test_magics_and_shell_commands_are_findings_with_hints(write_notebook) -> None:
    path = write_notebook(
        [
            ("%load_ext autoreload\n%autoreload 2\n!pip install lightgbm\n%pip install shap", None),
            ("%%bash\necho hello", None),
            ("files = !ls\n?files", None),
        ]
    )
    findings = findings_of(path)
    assert summary(findings) == [
        (1, 1, "magic", ["%load_ext"]),
        (1, 2, "magic", ["%autoreload"]),
        (1, 3, "shell_command", ["!pip"]),
        (1, 4, "magic", ["%pip"]),
        (2, 1, "magic", ["%%bash"]),
        (3, 1, "shell_command", ["!ls"]),
        (3, 2, "magic", ["?files"]),
    ]
    assert "declare the package as a dependency" in findings[2].message
    assert "declare the package as a dependency" in findings[3].message
    assert "IPython's help syntax" in findings[6].message


def test_a_cell_magic_body_in_another_language_is_not_read_as_python(write_notebook) -> None:
    path = write_notebook([("%%writefile helper.py\ndef f(:\n    undefined_thing", None)])
    assert summary(findings_of(path)) == [(1, 1, "magic", ["%%writefile"])]
