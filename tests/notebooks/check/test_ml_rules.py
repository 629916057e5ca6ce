"""What `convert` would rewrite in a notebook is a note of `check`; what it would refuse is a
finding; both carry the names convert uses."""

from __future__ import annotations

from shipml.notebooks.check import check_notebook, read_notebook

from ..helpers import FIXTURES

KAGGLE = FIXTURES / "kaggle"


def test_what_convert_rewrites_in_a_kaggle_notebook_is_noted_cell_by_cell() -> None:
    report = check_notebook(read_notebook(KAGGLE / "titanic" / "titanic.ipynb"))

    notes = {(n.cell, n.kind.value) for n in report.notes}
    assert notes >= {
        (13, "learned_from_data"),  # train["Age"].median(), train["Embarked"].mode()
        (13, "mutated_across_cells"),
        (18, "learned_from_data"),  # pd.get_dummies(train, ...)
        (20, "split_replaced"),
        (26, "other_models"),
        (28, "file_write"),  # submission.to_csv(...)
    }
    models = next(n for n in report.notes if n.kind.value == "other_models")
    assert models.names == ["rf", "logreg", "tree"]
    assert "`rf` makes the last predictions (cell 28)" in models.message
    learned = next(n for n in report.notes if (n.cell, n.kind.value) == (13, "learned_from_data"))
    assert "`train['Age'].median()`" in learned.message


def test_notes_do_not_make_a_notebook_unclean() -> None:
    report = check_notebook(read_notebook(FIXTURES / "clean_classification" / "churn.ipynb"))

    assert report.clean
    assert [(n.cell, n.kind.value) for n in report.notes] == [
        (6, "rows_renumbered"),  # `clean` resets the index
        (10, "split_replaced"),
    ]


def test_a_notebook_without_a_model_gets_no_ml_notes(write_notebook) -> None:
    path = write_notebook([('import pandas as pd\ndf = pd.read_csv("x.csv")\ndf.head()', 1)])

    report = check_notebook(read_notebook(path))

    assert report.notes == [] and report.findings == []
