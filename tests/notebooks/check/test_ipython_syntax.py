"""IPython syntax is taken out of a cell without IPython, keeping the cell's line numbers."""

from __future__ import annotations

import ast

from shipml.notebooks.check import to_python


def test_plain_python_is_left_alone() -> None:
    source = "x = 10 % 3\nprint(x)"
    assert to_python(source).code == source
    assert to_python(source).ipython == ()


def test_line_magics_and_shell_escapes_become_pass_on_the_same_line() -> None:
    python = to_python("%matplotlib inline\n!pip install xgboost\nimport pandas as pd")
    assert python.code.splitlines() == ["pass", "pass", "import pandas as pd"]
    assert [(i.line, i.kind, i.command) for i in python.ipython] == [
        (1, "line_magic", "%matplotlib"),
        (2, "shell", "!pip"),
    ]


def test_an_indented_escape_keeps_the_block_valid() -> None:
    python = to_python("for name in names:\n    !echo {name}\n    print(name)")
    ast.parse(python.code)
    assert python.code.splitlines()[1] == "    pass"


def test_captured_output_binds_its_target() -> None:
    python = to_python("files = !ls data\nresult = %timeit -o sum(range(10))")
    assert python.code.splitlines() == ["files = None", "result = None"]
    assert [i.command for i in python.ipython] == ["!ls", "%timeit"]


def test_time_runs_its_statement_in_the_notebook() -> None:
    python = to_python("%time model = fit(data)\nmodel")
    assert python.code.splitlines() == ["model = fit(data)", "model"]


def test_a_python_cell_magic_keeps_its_body() -> None:
    python = to_python("%%time\nmodel = fit(data)\n%time score = model.score()")
    assert python.code.splitlines() == ["", "model = fit(data)", "score = model.score()"]
    assert [i.command for i in python.ipython] == ["%%time", "%time"]


def test_capture_binds_the_name_it_is_given() -> None:
    python = to_python("%%capture output\nprint('noisy')")
    assert python.code.splitlines() == ["output = None", "print('noisy')"]


def test_a_cell_magic_in_another_language_has_no_python() -> None:
    python = to_python("%%bash\nfor f in *.csv; do wc -l $f; done")
    assert python.code == ""
    assert [(i.kind, i.command) for i in python.ipython] == [("cell_magic", "%%bash")]


def test_help_syntax_is_recognised() -> None:
    python = to_python("?pd.read_csv\ndf.merge??\nx = 1")
    assert python.code.splitlines() == ["pass", "pass", "x = 1"]
    assert [i.kind for i in python.ipython] == ["help", "help"]


def test_a_continued_shell_command_spans_its_lines() -> None:
    python = to_python("!pip install \\\n    pandas \\\n    numpy\nimport pandas")
    assert python.code.splitlines() == ["pass", "", "", "import pandas"]
    assert len(python.ipython) == 1
