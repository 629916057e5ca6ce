"""The name rules on small notebooks: what is a trap and, as much, what is not."""

from __future__ import annotations

from ..helpers import findings_of, summary


def test_builtins_and_every_kind_of_binding_are_defined(write_notebook) -> None:
    path = write_notebook(
        [
            (("import numpy as np\nfor i in range(3):\n    pass\nwith open('data.csv') as f:\n"
             "    pass"), None),
            (("try:\n    pass\nexcept ValueError as error:\n    pass\n"
             "squares = [v * v for v in range(4)]\nif (n := len(squares)):\n    pass"), None),
            ("def g():\n    return 1\nclass K:\n    pass", None),
            ("print(np, i, f, error, squares, n, g, K, len, sorted)", None),
        ]
    )  # fmt: skip
    assert findings_of(path) == []


def test_a_comprehension_variable_does_not_leak(write_notebook) -> None:
    path = write_notebook([("squares = [v * v for v in range(4)]", None), ("print(v)", None)])
    assert summary(findings_of(path)) == [(2, 1, "undefined_name", ["v"])]


def test_a_name_from_a_deleted_cell_is_undefined(write_notebook) -> None:
    path = write_notebook([("import pandas as pd", 1), ("clean = raw.dropna()", 3)])
    findings = findings_of(path)
    assert summary(findings)[-1] == (2, 1, "undefined_name", ["raw"])
    assert "no cell defines it" in findings[-1].message


def test_a_name_defined_further_down_is_used_before_definition(write_notebook) -> None:
    path = write_notebook([("total = price * 2", None), ("price = 10", None)])
    findings = findings_of(path)
    assert summary(findings) == [(1, 1, "used_before_definition", ["price"])]
    assert "first bound in cell 2 below" in findings[0].message


def test_a_read_after_del_is_reported(write_notebook) -> None:
    path = write_notebook([("tmp = 1", None), ("del tmp", None), ("tmp + 1", None)])
    assert summary(findings_of(path)) == [(3, 1, "used_after_delete", ["tmp"])]


def test_function_bodies_are_resolved_when_called(write_notebook) -> None:
    defined_later_called_after = write_notebook(
        [("def scale(x):\n    return x * factor", None), ("factor = 2", None), ("scale(3)", None)],
        name="ok.ipynb",
    )
    assert findings_of(defined_later_called_after) == []
    called_too_early = write_notebook(
        [("def scale(x):\n    return x * factor", None), ("scale(3)", None), ("factor = 2", None)],
        name="early.ipynb",
    )
    findings = findings_of(called_too_early)
    assert summary(findings) == [(2, 1, "used_before_definition", ["factor"])]
    assert "through `scale`" in findings[0].message


def test_an_undefined_name_inside_a_function_is_reported_where_it_is_read(write_notebook) -> None:
    path = write_notebook([("def f():\n    return missing + 1", None), ("f()", None)])
    findings = findings_of(path)
    assert summary(findings) == [(1, 2, "undefined_name", ["missing"])]
    assert "read by `f`" in findings[0].message


def test_rebinding_a_name_an_earlier_cell_read(write_notebook) -> None:
    path = write_notebook(
        [
            ("df = load()", None),
            ("df.describe()", None),
            ("df = df.dropna()", None),
        ]
    )
    findings = findings_of(path)
    assert summary(findings)[-1] == (3, 1, "redefined_after_use", ["df"])
    assert "after cell 2 above read it" in findings[-1].message


def test_mutations_and_augmented_assignments_count_as_redefinitions(write_notebook) -> None:
    path = write_notebook(
        [
            ("import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ntotal = 0", None),
            ("print(df.a.sum(), total)", None),
            ("df['b'] = df['a'] * 2", None),
            ("total += 1", None),
        ]
    )
    assert summary(findings_of(path)) == [
        (3, 1, "redefined_after_use", ["df"]),
        (4, 1, "redefined_after_use", ["total"]),
    ]


def test_a_cell_that_rebinds_what_only_it_reads_is_not_reported(write_notebook) -> None:
    path = write_notebook([("df = load()", None), ("df = df.dropna()", None), ("df.head()", None)])
    assert [f.kind.value for f in findings_of(path)] == ["undefined_name"]  # only `load`


def test_importing_again_is_not_a_redefinition(write_notebook) -> None:
    path = write_notebook(
        [("import numpy as np", None), ("np.zeros(2)", None), ("import numpy as np", None)]
    )
    assert findings_of(path) == []


def test_a_function_reading_a_global_frame(write_notebook) -> None:
    path = write_notebook(
        [
            ("import pandas as pd\nSEED = 0\nthreshold = 0.5\ncolumns = ['a']", None),
            ("df = pd.DataFrame({'a': [1.0]})", None),
            ("def helper(x):\n    return x", None),
            (
                (
                    "def select(frame):\n"
                    "    picked = helper(frame[columns])\n"
                    "    return picked[picked.a > threshold].sample(random_state=SEED)\n"
                    "def summarize():\n"
                    "    return pd.Series(df.a).mean()"
                ),
                None,
            ),
        ]
    )
    findings = findings_of(path)
    assert summary(findings) == [(4, 5, "function_reads_global", ["df"])]
    assert findings[0].message.startswith("function `summarize` reads the global `df`")


def test_a_literal_list_changed_somewhere_is_data(write_notebook) -> None:
    path = write_notebook(
        [
            ("columns = ['a', 'b']", None),
            ("def pick(frame):\n    return frame[columns]", None),
            ("columns.append('c')", None),
        ]
    )
    assert summary(findings_of(path)) == [(2, 2, "function_reads_global", ["columns"])]


def test_methods_reading_globals_are_reported_for_their_class(write_notebook) -> None:
    path = write_notebook(
        [
            ("weights = load_weights()", None),
            ("class Scorer:\n    def score(self, x):\n        return x @ weights", None),
        ]
    )
    findings = findings_of(path)
    assert summary(findings)[-1] == (2, 3, "function_reads_global", ["weights"])
    assert findings[-1].message.startswith("class `Scorer` reads")


def test_functions_that_change_globals(write_notebook) -> None:
    path = write_notebook(
        [
            ("import matplotlib.pyplot as plt\nseen = []\ncount = 0", None),
            (
                (
                    "def remember(x):\n"
                    "    global count\n"
                    "    count += 1\n"
                    "    seen.append(x)\n"
                    "    plt.rcParams['figure.dpi'] = 100\n"
                ),
                None,
            ),
        ]
    )
    findings = findings_of(path)
    assert summary(findings) == [(2, 3, "function_mutates_global", ["count", "seen"])]


def test_star_import_lists_the_names_it_presumably_provides(write_notebook) -> None:
    path = write_notebook(
        [
            ("print(before_star)", None),
            ("from sklearn.metrics import *", None),
            ("print(accuracy_score, f1_score)", None),
        ]
    )
    findings = findings_of(path)
    assert summary(findings) == [
        (1, 1, "undefined_name", ["before_star"]),
        (2, 1, "star_import", ["accuracy_score", "f1_score"]),
    ]
    assert "`from sklearn.metrics import *`" in findings[1].message


def test_ipython_names_unless_a_cell_binds_them(write_notebook) -> None:
    path = write_notebook([("_ = 1\nprint(_)", None), ("display(In, _7)", None)])
    assert summary(findings_of(path)) == [
        (2, 1, "ipython_name", ["In"]),
        (2, 1, "ipython_name", ["_7"]),
        (2, 1, "ipython_name", ["display"]),
    ]


def test_a_lambda_reads_where_it_is_written(write_notebook) -> None:
    path = write_notebook(
        [("ranked = sorted([1, 2], key=lambda r: weights[r])", None), ("weights = {}", None)]
    )
    assert summary(findings_of(path)) == [(1, 1, "used_before_definition", ["weights"])]


def test_a_syntax_error_is_a_finding_not_a_crash(write_notebook) -> None:
    path = write_notebook([("x = 1\nprint(x\n", None), ("print(x)", None)])
    findings = findings_of(path)
    assert summary(findings) == [(1, 2, "syntax_error", [])]
    assert findings[0].message.startswith("the cell is not valid Python:")


def test_a_cell_reading_many_names_bound_below_is_one_finding_listing_them(
    write_notebook,
) -> None:
    path = write_notebook(
        [
            (("frame = pd.DataFrame({'a': np.arange(3)})\nplt.plot(frame['a'])\n"
             "model = LinearRegression()"), 2),
            (("import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
             "from sklearn.linear_model import LinearRegression"), 1),
        ]
    )  # fmt: skip

    findings = [f for f in findings_of(path) if f.kind.value == "used_before_definition"]

    [grouped] = findings
    assert (grouped.cell, grouped.line) == (1, 1)
    assert grouped.names == ["LinearRegression", "np", "pd", "plt"]
    assert grouped.message.startswith(
        "4 names: `LinearRegression`, `np`, `pd`, `plt` are read here before a cell binds them"
    )
