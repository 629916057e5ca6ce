"""The transforms: the leading sections of the preparation that only reshape rows, each one
table in and one table out, the notebook's code as it was (rows keeping their index)."""

from __future__ import annotations

import pandas as pd

from shipml.notebooks.check.plan import GENERATED_NAMES
from shipml.notebooks.convert.adaptations import keeping_row_index
from shipml.notebooks.convert.designer import Designer, snippet_of
from shipml.notebooks.convert.frames import snake_case
from shipml.notebooks.convert.project_spec import TransformSpec


def transform_specs(
    d: Designer, raw: pd.DataFrame, label: str, ids: list[str]
) -> tuple[list[TransformSpec], list[pd.DataFrame]]:
    plan = d.plan
    specs: list[TransformSpec] = []
    frames: list[pd.DataFrame] = []
    previous = raw.drop(columns=[label])
    parameter = plan.source.names[-1]
    taken = set(plan.module.names) | GENERATED_NAMES
    taken |= {n for s in plan.prep for n in s.binds | s.changes}
    for number, position in enumerate(plan.transform_groups):
        statements = [s for s in plan.in_group(position) if id(s) not in plan.label_only]
        later = [s for s in plan.prep if plan.group_of(s) > position]
        produced = {n for s in statements for n in s.binds | s.changes}
        output = next(iter({n for s in later for n in s.reads} & produced & plan.data_names))
        value = d.value("after", statements[-1], output)
        if not isinstance(value, pd.DataFrame):
            d.block(
                statements[-1].cell,
                statements[-1].line,
                f"`{output}` is not a pandas DataFrame: steps pass tables",
            )
            d.stop_if_blocked()
        frame = value.drop(columns=[label], errors="ignore")
        carried = []
        for column in ids:
            if column not in frame.columns and frame.index.isin(previous.index).all():
                frame = frame.assign(**{column: previous[column].loc[frame.index]})
                carried.append(column)
        body = []
        for statement in statements:
            snippet, changes, blockers = keeping_row_index(snippet_of(statement))
            body.append(snippet)
            d.changes += changes
            d.blockers += blockers
        copies = any(parameter in s.changes and parameter not in s.binds for s in statements)
        group = plan.groups[position]
        name = _unique_step(snake_case(group.name or f"section_{number + 1}"), taken)
        specs.append(
            TransformSpec(
                name=name,
                section=group.name or f"cells {group.cells[0]}-{group.cells[-1]}",
                cells=tuple(sorted({s.cell for s in statements})),
                parameter=parameter,
                output=output,
                input_contract="",
                output_contract="",
                body=body,
                carried=tuple(carried),
                copies=copies,
            )
        )
        frames.append(frame)
        previous = frame
        parameter = output
    d.stop_if_blocked()
    return specs, frames


def chained(specs: list[TransformSpec], raw: str, outputs: list[str]) -> list[TransformSpec]:
    chained = []
    for number, spec in enumerate(specs):
        chained.append(
            TransformSpec(
                **{
                    **spec.__dict__,
                    "input_contract": outputs[number - 1] if number else raw,
                    "output_contract": outputs[number],
                }
            )
        )
    return chained


def _unique_step(name: str, taken: set[str]) -> str:
    candidate = name if name not in taken else f"{name}_step"
    number = 2
    while candidate in taken:
        candidate, number = f"{name}_step{number}", number + 1
    taken.add(candidate)
    return candidate
