"""steps.py, pipeline.py and notebook_code.py of a converted project, from their templates."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable

from shipml.notebooks.convert.project_spec import (
    CLASSES_MODULE,
    ContractSpec,
    Design,
    PredictSpec,
    TransformSpec,
)
from shipml.notebooks.convert.source_layout import INDENT as _INDENT
from shipml.notebooks.convert.source_layout import from_import, import_block, python_literal
from shipml.notebooks.convert.templating import piece, render


def steps_source(design: Design) -> str:
    """The source of steps.py."""
    head = ["\n".join(_imports(design)), "\n".join(_constants(design))]
    if design.constants:
        head.append("\n".join(c.text.rstrip() for c in design.constants))
    definitions = [
        *(h.text.rstrip() for h in design.helpers),
        *(_transform(design, spec) for spec in design.transforms),
        _prepare(design),
        _train(design),
        _predict(design, design.predict),
    ]
    return render(
        "steps.py.tmpl",
        name=design.name,
        notebook=design.notebook.name,
        head="\n\n".join(head),
        definitions="\n\n\n".join(definitions),
    )


def pipeline_source(design: Design) -> str:
    """The source of pipeline.py."""
    names = [spec.name for spec in design.transforms]
    imports = import_block(
        ["from shipml import Pipeline", from_import("steps", ["LABEL", *names, "predict", "train"])]
    )
    return render(
        "pipeline.py.tmpl",
        imports=imports,
        name=json.dumps(design.name),
        transforms=", ".join(names),
    )


def classes_source(design: Design) -> str | None:
    """The source of notebook_code.py (None when the notebook defines no class the steps use)."""
    if not design.classes:
        return None
    parts = [import_block(design.class_imports)] if design.class_imports else []
    parts += [c.text.rstrip() for c in design.classes]
    return render("notebook_code.py.tmpl", notebook=design.notebook.name, body="\n\n\n".join(parts))


def _imports(design: Design) -> list[str]:
    statements = list(design.imports)
    if "import pandas as pd" not in statements:
        statements.append("import pandas as pd")
    contracts = {design.predict.input_contract, design.predict.output_contract}
    contracts |= {design.train.input_contract}
    contracts |= {s.input_contract for s in design.transforms}
    contracts |= {s.output_contract for s in design.transforms}
    statements += [
        from_import("contracts", contracts),
        from_import("learned", ["Learned", "NotebookModel", "Prepared"]),
        "from shipml import Table, step",
    ]
    if design.classes:
        statements.append(
            from_import(CLASSES_MODULE, [_class_name(c.text) for c in design.classes])
        )
    return [import_block(statements)]


def _class_name(text: str) -> str:
    return text.split("class ", 1)[1].split("(")[0].split(":")[0].strip()


def _constants(design: Design) -> list[str]:
    lines = [f"LABEL = {python_literal(design.label)}"]
    if design.renames:
        lines.append(f"FIELD_NAMES = {python_literal(design.renames)}")
        lines.append("NOTEBOOK_NAMES = {field: column for column, field in FIELD_NAMES.items()}")
    return lines


def _renamed(design: Design, contract: str) -> bool:
    spec: ContractSpec = design.contract[contract]
    columns = set(spec.frame.columns)
    while spec.base is not None:
        spec = design.contract[spec.base]
        columns |= set(spec.frame.columns)
    return bool(columns & set(design.renames))


def _transform(design: Design, spec: TransformSpec) -> str:
    lines = []
    if _renamed(design, spec.input_contract):
        lines.append(f"{spec.parameter} = {spec.parameter}.rename(columns=NOTEBOOK_NAMES)")
    if spec.copies:
        lines.append(
            f"{spec.parameter} = {spec.parameter}.copy()  # the notebook changes it in place"
        )
    lines += [s.text.rstrip() for s in spec.body]
    if spec.carried:
        lines.append(f"{spec.output} = {spec.output}.assign({_carried(spec)})  # names the rows")
    result = spec.output
    if _renamed(design, spec.output_contract):
        result += ".rename(columns=FIELD_NAMES)"
    return piece(
        "transform.py.tmpl",
        name=spec.name,
        parameter=spec.parameter,
        input_contract=spec.input_contract,
        output_contract=spec.output_contract,
        section=repr(spec.section),
        cells=_cells(spec.cells),
        body=_indented(lines),
        result=result,
    )


def _carried(spec: TransformSpec) -> str:
    """`customer_id=clean["customer_id"]`, or `**{...}` for columns that are not identifiers."""
    pairs = [(c, f"{spec.parameter}[{python_literal(c)}]") for c in spec.carried]
    if all(c.isidentifier() for c, _ in pairs):
        return ", ".join(f"{c}={value}" for c, value in pairs)
    return "**{" + ", ".join(f"{python_literal(c)}: {value}" for c, value in pairs) + "}"


def _prepare(design: Design) -> str:
    spec = design.prepare
    return piece(
        "prepare.py.tmpl",
        cells=_cells(spec.cells) if spec.cells else "no cell: the rows as they come",
        body=_indented(spec.lines),
        features=spec.features,
        label=spec.label,
        index=spec.index,
    )


def _train(design: Design) -> str:
    spec = design.train
    return piece(
        "train.py.tmpl",
        input_contract=spec.input_contract,
        cells=_cells(spec.cells),
        body=_indented(spec.lines),
        model=spec.model,
    )


def _predict(design: Design, spec: PredictSpec) -> str:
    columns = [f"{_INDENT * 3}{python_literal(name)}: {e}," for name, e in spec.columns.items()]
    return piece(
        "predict.py.tmpl",
        input_contract=spec.input_contract,
        output_contract=spec.output_contract,
        cell=spec.cell,
        body=_indented([spec.scoring]),
        columns="\n".join(columns),
        rename=".rename(columns=FIELD_NAMES)" if _renamed(design, spec.output_contract) else "",
    )


def _indented(lines: Iterable[str]) -> str:
    """Lines of code (each maybe several lines long) as a function body."""
    return "\n".join(textwrap.indent(line.rstrip(), _INDENT) for line in lines)


def _cells(cells: Iterable[int]) -> str:
    numbers = sorted(set(cells))
    return ("cell " if len(numbers) == 1 else "cells ") + ", ".join(str(n) for n in numbers)
