"""steps.py and pipeline.py of a converted project: the notebook's code as shipml steps."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable

from shipml.notebooks.convert.project_spec import (
    FEATURE_COLUMNS,
    ContractSpec,
    Design,
    PredictSpec,
    TrainSpec,
    TransformSpec,
)
from shipml.notebooks.convert.source_layout import INDENT as _INDENT
from shipml.notebooks.convert.source_layout import from_import, import_block, python_literal


def steps_source(design: Design) -> str:
    """The source of steps.py."""
    head = [_header(design), "\n".join(_imports(design)), "\n".join(_constants(design))]
    if design.constants:
        head.append("\n".join(c.text.rstrip() for c in design.constants))
    definitions = [
        *(h.text.rstrip() for h in design.helpers),
        *(_transform(design, spec) for spec in design.transforms),
        _train(design, design.train),
        _predict(design, design.predict),
    ]
    return "\n\n".join(head) + "\n\n\n" + "\n\n\n".join(definitions) + "\n"


def pipeline_source(design: Design) -> str:
    """The source of pipeline.py."""
    names = [spec.name for spec in design.transforms]
    imports = import_block(
        ["from shipml import Pipeline", from_import("steps", ["LABEL", *names, "predict", "train"])]
    )
    transforms = ", ".join(names)
    call = (
        f"pipeline = Pipeline(\n{_INDENT}{json.dumps(design.name)},\n"
        f"{_INDENT}transforms=[{transforms}],\n{_INDENT}train=train,\n"
        f"{_INDENT}predict=predict,\n{_INDENT}target=LABEL,\n)"
    )
    return (
        '"""The pipeline: one definition gives the training, batch and online flows."""\n\n'
        f"{imports}\n\n{call}\n"
    )


def _header(design: Design) -> str:
    return (
        f'"""The steps of {design.name}, converted by shipml from {design.notebook.name}.\n\n'
        "Each step's body is the notebook's own code for its section; CONVERSION.md lists what\n"
        'was changed on the way, and why."""'
    )


def _imports(design: Design) -> list[str]:
    statements = list(design.imports)
    if design.train.model_annotation == "Any":
        statements.append("from typing import Any")
    if "import pandas as pd" not in statements:
        statements.append("import pandas as pd")
    contracts = (
        {design.predict.input_contract, design.predict.output_contract, design.train.input_contract}
        | {s.input_contract for s in design.transforms}
        | {s.output_contract for s in design.transforms}
    )
    statements += [from_import("contracts", contracts), "from shipml import Table, step"]
    return [import_block(statements)]


def _constants(design: Design) -> list[str]:
    lines = [
        f"LABEL = {python_literal(design.label)}",
        f"{FEATURE_COLUMNS} = {python_literal(design.feature_columns)}",
    ]
    lines += [
        f"{name} = {python_literal(columns)}"
        for name, columns in design.train.column_constants.items()
    ]
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
    lines = [
        "@step",
        f"def {spec.name}({spec.parameter}: Table[{spec.input_contract}]) -> "
        f"Table[{spec.output_contract}]:",
        f'{_INDENT}"""Section {spec.section!r} of the notebook ({_cells(spec.cells)})."""',
    ]
    if _renamed(design, spec.input_contract):
        lines.append(f"{_INDENT}{spec.parameter} = {spec.parameter}.rename(columns=NOTEBOOK_NAMES)")
    lines += [textwrap.indent(s.text.rstrip(), _INDENT) for s in spec.body]
    if spec.carried:
        lines.append(
            f"{_INDENT}{spec.output} = {spec.output}.assign({_carried(spec)})  # names the rows"
        )
    result = spec.output
    if _renamed(design, spec.output_contract):
        result += ".rename(columns=FIELD_NAMES)"
    lines.append(f"{_INDENT}return {result}")
    return "\n".join(lines)


def _carried(spec: TransformSpec) -> str:
    """`customer_id=clean["customer_id"]`, or `**{...}` for columns that are not identifiers."""
    pairs = [(c, f"{spec.parameter}[{python_literal(c)}]") for c in spec.carried]
    if all(c.isidentifier() for c, _ in pairs):
        return ", ".join(f"{c}={value}" for c, value in pairs)
    return "**{" + ", ".join(f"{python_literal(c)}: {value}" for c, value in pairs) + "}"


def _train(design: Design, spec: TrainSpec) -> str:
    lines = [
        "@step",
        f"def train({spec.parameter}: Table[{spec.input_contract}]) -> {spec.model_annotation}:",
        f'{_INDENT}"""Section {spec.section!r} of the notebook ({_cells(spec.cells)}): the fit, on '
        "all the rows it is given\n"
        f"{_INDENT}(shipml holds out [training] holdout_fraction of the data and evaluates on "
        'it)."""',
    ]
    if _renamed(design, spec.input_contract):
        lines.append(f"{_INDENT}{spec.parameter} = {spec.parameter}.rename(columns=NOTEBOOK_NAMES)")
    lines += [f"{_INDENT}{name} = {expression}" for name, expression in spec.restored]
    lines += [textwrap.indent(s.text.rstrip(), _INDENT) for s in spec.body]
    lines.append(f"{_INDENT}return {spec.model}")
    return "\n".join(lines)


def _predict(design: Design, spec: PredictSpec) -> str:
    lines = [
        "@step",
        f"def predict({spec.parameter}: Table[{spec.input_contract}], model: "
        f"{design.train.model_annotation}) -> Table[{spec.output_contract}]:",
        f'{_INDENT}"""The notebook\'s scoring (cell {spec.cell}), on the transformed rows."""',
    ]
    if _renamed(design, spec.input_contract):
        lines.append(f"{_INDENT}{spec.parameter} = {spec.parameter}.rename(columns=NOTEBOOK_NAMES)")
    lines.append(textwrap.indent(spec.scoring.rstrip(), _INDENT))
    columns = "".join(
        f"{_INDENT * 3}{python_literal(name)}: {expression},\n"
        for name, expression in spec.columns.items()
    )
    inner = _INDENT * 2
    frame = (
        f"pd.DataFrame(\n{inner}{{\n{columns}{inner}}},\n"
        f"{inner}index={spec.parameter}.index,\n{_INDENT})"
    )
    if _renamed(design, spec.output_contract):
        frame += ".rename(columns=FIELD_NAMES)"
    lines.append(f"{_INDENT}return {frame}")
    return "\n".join(lines)


def _cells(cells: Iterable[int]) -> str:
    numbers = sorted(set(cells))
    return ("cell " if len(numbers) == 1 else "cells ") + ", ".join(str(n) for n in numbers)
