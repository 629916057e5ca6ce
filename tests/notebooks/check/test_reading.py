"""Reading .ipynb files: the cells as saved, or one clear line on why the file is unusable."""

from __future__ import annotations

import json

import pytest

from shipml.notebooks import UnreadableNotebook, read_notebook

from ..helpers import FIXTURES, notebook_json


def test_cells_are_read_in_order_with_counts_and_tags(tmp_path) -> None:
    document = notebook_json(["# Title", ("x = 1\ny = 2\n", 3, ["step:load"])])
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(document), encoding="utf-8")
    notebook = read_notebook(path)
    assert [c.kind for c in notebook.cells] == ["markdown", "code"]
    code = notebook.code_cells[0]
    assert (code.number, code.source, code.execution_count, code.tags) == (
        2,
        "x = 1\ny = 2\n",
        3,
        ("step:load",),
    )


def test_a_notebook_saved_by_jupyter_is_read() -> None:
    notebook = read_notebook(FIXTURES / "clean_classification" / "churn.ipynb")
    assert len(notebook.cells) == 13
    assert [c.execution_count for c in notebook.code_cells] == [1, 2, 3, 4, 5, 6, 7]


def _write(tmp_path, content: str | bytes):
    path = tmp_path / "bad.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not a notebook: invalid JSON (Expecting property name"),
        (b"\xff\xfe\x00x", "is not a notebook: not UTF-8 text"),
        ("[1, 2]", "is not a notebook: no 'nbformat' field"),
        ('{"nbformat": 3, "worksheets": []}', "uses nbformat 3; only nbformat 4 is read"),
        ('{"nbformat": 4, "cells": {}}', "is not a notebook: 'cells' is not a list"),
        ('{"nbformat": 4, "cells": [{"cell_type": "chart"}]}', "cell 1 has an unknown cell_type"),
        (
            '{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}',
            "cell 1: source is neither a string nor a list of strings",
        ),
        (
            (
                '{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", '
                '"execution_count": "3"}]}'
            ),
            "cell 1: execution_count '3' is not an integer",
        ),
        (
            json.dumps(notebook_json([("x <- 1", 1)], language="R")),
            "is a R notebook; only Python notebooks can be checked",
        ),
    ],
)
def test_an_unusable_file_is_refused_in_one_line(tmp_path, content, expected) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(UnreadableNotebook) as refused:
        read_notebook(path)
    message = str(refused.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_a_missing_file_and_a_directory_are_refused(tmp_path) -> None:
    with pytest.raises(UnreadableNotebook, match=r"missing\.ipynb not found"):
        read_notebook(tmp_path / "missing.ipynb")
    with pytest.raises(UnreadableNotebook, match="is a directory"):
        read_notebook(tmp_path)
