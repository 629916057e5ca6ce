"""`ProfileSpec`: the bin edges and category sets that every profile of a model shares.

The spec is derived once from a baseline frame (training data, holdout predictions) and
stored with the model version; every later window is profiled on the same edges and
categories, which is what makes profiles comparable and mergeable.

Numeric columns get edges at the baseline's quantiles (20 bins by default). The
histogram then has two more, open-ended bins, so that every future value lands somewhere:

    (-inf, e0)  [e0, e1)  [e1, e2) ... [e(m-1), em]  (em, +inf)

The last inner bin is closed, so the baseline itself never falls into an outer bin;
mass in an outer bin means values outside the range seen in training. Repeated
quantiles (discrete data) collapse into one edge; a constant column gets the edges
[v, v] and its inner bin is the single point v.

Categorical columns keep the baseline's `top_k` most frequent values (as strings, ties
broken alphabetically); every other value is counted in an "other" bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipml.errors import MonitoringError
from shipml.monitoring._columns import category_counts, numeric_values

DEFAULT_BINS = 20
DEFAULT_TOP_K = 20


class NumericColumnSpec(BaseModel):
    """Histogram edges of one numeric column (finite, sorted; see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["numeric"] = "numeric"
    edges: list[float]

    @model_validator(mode="after")
    def _check_edges(self) -> NumericColumnSpec:
        edges = np.asarray(self.edges, dtype=float)
        if len(edges) < 2 or not np.all(np.isfinite(edges)):
            raise ValueError("numeric edges must be at least two finite numbers")
        point_mass = len(edges) == 2 and edges[0] == edges[1]
        if not point_mass and not np.all(np.diff(edges) > 0):
            raise ValueError("numeric edges must be strictly increasing")
        return self

    @property
    def bins(self) -> int:
        """Number of histogram bins, the two open-ended outer bins included."""
        return len(self.edges) + 1


class CategoricalColumnSpec(BaseModel):
    """Known categories of one categorical column; anything else counts as "other"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["categorical"] = "categorical"
    categories: list[str]

    @model_validator(mode="after")
    def _check_categories(self) -> CategoricalColumnSpec:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories must be distinct")
        return self


ColumnSpec = Annotated[NumericColumnSpec | CategoricalColumnSpec, Field(discriminator="kind")]


class ProfileSpec(BaseModel):
    """Per-column edges and categories, fixed by a baseline frame."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: dict[str, ColumnSpec]

    @classmethod
    def from_baseline(
        cls,
        df: pd.DataFrame,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        bins: int = DEFAULT_BINS,
        top_k: int = DEFAULT_TOP_K,
    ) -> ProfileSpec:
        """Derive the spec from `df`; with neither list given, columns are picked by dtype.

        Auto-detection: numbers (not booleans) are numeric; strings, objects, categoricals
        and booleans are categorical; other dtypes (datetimes, timedeltas) are left out.
        When either list is given, exactly the listed columns are profiled.
        """
        if bins < 1 or top_k < 1:
            raise MonitoringError(
                f"bins and top_k must be positive, got bins={bins}, top_k={top_k}"
            )
        if numeric is None and categorical is None:
            numeric, categorical = _detect_kinds(df)
        numeric, categorical = list(numeric or []), list(categorical or [])
        _check_columns(df, numeric + categorical)
        columns: dict[str, NumericColumnSpec | CategoricalColumnSpec] = {}
        for name in numeric:
            columns[name] = NumericColumnSpec(edges=_quantile_edges(df[name], name, bins))
        for name in categorical:
            columns[name] = CategoricalColumnSpec(categories=_top_categories(df[name], name, top_k))
        return cls(columns=columns)

    def select(self, names: Sequence[str]) -> ProfileSpec:
        """The spec restricted to `names` (e.g. the prediction columns only)."""
        unknown = [name for name in names if name not in self.columns]
        if unknown:
            raise MonitoringError(f"columns not in the profile spec: {unknown}")
        return ProfileSpec(columns={name: self.columns[name] for name in names})

    def combine(self, other: ProfileSpec) -> ProfileSpec:
        """The union of two specs over disjoint columns (e.g. features and predictions)."""
        shared = sorted(set(self.columns) & set(other.columns))
        if shared:
            raise MonitoringError(f"cannot combine specs that both define columns {shared}")
        return ProfileSpec(columns={**self.columns, **other.columns})


def _detect_kinds(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    numeric: list[str] = []
    categorical: list[str] = []
    for name, dtype in df.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or _is_text_like(dtype):
            categorical.append(str(name))
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(str(name))
    return numeric, categorical


def _is_text_like(dtype: Any) -> bool:
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
    )


def _check_columns(df: pd.DataFrame, names: list[str]) -> None:
    missing = [name for name in names if name not in df.columns]
    if missing:
        raise MonitoringError(f"baseline frame has no columns {missing}")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise MonitoringError(f"columns listed twice (numeric and categorical?): {duplicated}")


def _quantile_edges(series: pd.Series, name: str, bins: int) -> list[float]:
    values, _ = numeric_values(series, name)
    if len(values) == 0:
        raise MonitoringError(f"column '{name}' has no non-null values in the baseline")
    # np.quantile partitions once per requested quantile; for 21 of them one full sort is
    # about twice as fast, and the quantiles of sorted values are the same numbers.
    edges = np.unique(np.quantile(np.sort(values), np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) == 1:
        edges = np.repeat(edges, 2)
    return [float(edge) for edge in edges]


def _top_categories(series: pd.Series, name: str, top_k: int) -> list[str]:
    counts = category_counts(series)
    if counts.empty:
        raise MonitoringError(f"column '{name}' has no non-null values in the baseline")
    ranked = sorted(counts.items(), key=lambda item: (-int(item[1]), item[0]))
    return [str(label) for label, _ in ranked[:top_k]]
