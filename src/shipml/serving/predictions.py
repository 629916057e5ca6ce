"""Which output column is the prediction, and the histogram buckets its values fall in."""

from __future__ import annotations

from typing import Any, get_args

import annotated_types
import numpy as np
from pydantic import BaseModel

from shipml.monitoring import NumericColumnProfile
from shipml.serving.metrics import DEFAULT_PREDICTION_BUCKETS
from shipml.serving.model import ServedModel

_BUCKETS = 20


def prediction_column(
    served: ServedModel, output: type[BaseModel] | None, configured: str | None
) -> str | None:
    """The baseline's prediction column, else `[training] prediction`, else the only float."""
    if served.baseline is not None:
        return served.baseline.predictions.column
    if configured:
        return configured
    if output is None:
        return None
    floats = [name for name, f in output.model_fields.items() if _is_float(f.annotation)]
    return floats[0] if len(floats) == 1 else None


def prediction_buckets(
    served: ServedModel, output: type[BaseModel] | None, column: str | None
) -> tuple[float, ...]:
    """The baseline's bin edges of the column, else steps between its bounds, else 0.05..1."""
    if column is None:
        return DEFAULT_PREDICTION_BUCKETS
    if served.baseline is not None:
        profiled = served.baseline.profile.columns.get(column)
        if isinstance(profiled, NumericColumnProfile) and len(set(profiled.edges)) > 1:
            return tuple(sorted(set(profiled.edges)))
    bounds = _bounds(output, column)
    if bounds is not None:
        low, high = bounds
        return tuple(float(edge) for edge in np.linspace(low, high, _BUCKETS + 1)[1:])
    return DEFAULT_PREDICTION_BUCKETS


def _is_float(annotation: Any) -> bool:
    return annotation is float or float in get_args(annotation)


def _bounds(output: type[BaseModel] | None, column: str) -> tuple[float, float] | None:
    """The field's lower and upper bounds (ge/gt and le/lt), when it has both."""
    if output is None or column not in output.model_fields:
        return None
    low = high = None
    for constraint in output.model_fields[column].metadata:
        match constraint:
            case annotated_types.Ge(ge=value) | annotated_types.Gt(gt=value):
                low = float(value)
            case annotated_types.Le(le=value) | annotated_types.Lt(lt=value):
                high = float(value)
    if low is None or high is None or not low < high:
        return None
    return low, high
