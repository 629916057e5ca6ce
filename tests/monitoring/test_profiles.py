"""Profiles: fixed bins from a baseline, exact counts, exact merges, exact JSON round-trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shipml.monitoring import (
    CategoricalColumnSpec,
    MonitoringError,
    NumericColumnSpec,
    Profile,
    ProfileSpec,
    merge,
    profile,
)

SPEC = ProfileSpec(
    columns={
        "x": NumericColumnSpec(edges=[0.0, 1.0, 2.0]),
        "n": NumericColumnSpec(edges=[-5.0, 0.0, 5.0]),
        "mode": CategoricalColumnSpec(categories=["run", "idle"]),
    }
)


def test_numeric_bins_are_closed_on_the_last_edge_and_open_outside() -> None:
    spec = ProfileSpec(columns={"x": NumericColumnSpec(edges=[0.0, 1.0, 2.0])})
    df = pd.DataFrame({"x": [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, np.nan]})

    column = profile(df, spec).columns["x"]

    # bins: (-inf, 0)  [0, 1)  [1, 2]  (2, +inf)
    assert column.counts == [1, 2, 2, 1]
    assert (column.rows, column.nulls) == (7, 1)
    assert column.moments.count == 6
    assert column.moments.min == -1.0
    assert column.moments.max == 3.0
    assert column.moments.mean == pytest.approx(5.5 / 6)


def test_categories_outside_the_spec_count_as_other_and_nulls_apart() -> None:
    spec = ProfileSpec(columns={"mode": CategoricalColumnSpec(categories=["run", "idle"])})
    df = pd.DataFrame({"mode": pd.Series(["run", "run", "idle", "broken", None], dtype="str")})

    column = profile(df, spec).columns["mode"]

    assert column.counts == [2, 1]
    assert column.other == 1
    assert column.nulls == 1


def test_spec_from_baseline_detects_kinds_by_dtype() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "temperature": rng.normal(50, 10, 1000),
            "count": rng.integers(0, 10, 1000),
            "mode": pd.Series(rng.choice(["idle", "run"], 1000), dtype="str"),
            "alarm": rng.random(1000) < 0.1,
            "ts": pd.date_range("2026-01-01", periods=1000, freq="min"),
        }
    )

    spec = ProfileSpec.from_baseline(df)

    kinds = {name: column.kind for name, column in spec.columns.items()}
    assert kinds == {
        "temperature": "numeric",
        "count": "numeric",
        "mode": "categorical",
        "alarm": "categorical",
    }
    assert len(spec.columns["temperature"].edges) == 21  # 20 inner bins
    assert spec.columns["count"].edges == [float(v) for v in range(10)]  # ties collapse
    assert spec.columns["alarm"].categories == ["False", "True"]


def test_the_baseline_never_lands_in_an_outer_bin() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.lognormal(0, 2, 5000)})

    spec = ProfileSpec.from_baseline(df, bins=10)
    counts = profile(df, spec).columns["x"].counts

    assert counts[0] == 0 and counts[-1] == 0
    assert all(count > 0 for count in counts[1:-1])


def test_a_constant_column_gets_a_single_point_bin() -> None:
    df = pd.DataFrame({"x": [3.0] * 5})

    spec = ProfileSpec.from_baseline(df)
    later = profile(pd.DataFrame({"x": [2.0, 3.0, 3.0, 4.0]}), spec)

    assert spec.columns["x"].edges == [3.0, 3.0]
    assert later.columns["x"].counts == [1, 2, 1]


def test_top_k_keeps_the_most_frequent_categories() -> None:
    df = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"]})

    spec = ProfileSpec.from_baseline(df, categorical=["c"], top_k=2)
    column = profile(df, spec).columns["c"]

    assert spec.columns["c"].categories == ["a", "b"]  # ties broken alphabetically
    assert column.counts == [5, 3]
    assert column.other == 4


def test_listing_columns_profiles_exactly_those() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 4.0], "s": ["a", "b"]})

    spec = ProfileSpec.from_baseline(df, numeric=["y"])

    assert list(spec.columns) == ["y"]


def test_empty_profile_is_the_identity_of_merge() -> None:
    df = pd.DataFrame({"x": [0.5, 1.5], "n": [1, 2], "mode": ["run", "idle"]})
    one = profile(df, SPEC)

    assert Profile.empty(SPEC).merge(one) == one
    assert one.merge(Profile.empty(SPEC)) == one


def test_profiles_of_disjoint_columns_join() -> None:
    df = pd.DataFrame({"x": [0.5, 1.5], "n": [1, 2], "mode": ["run", "idle"]})

    joined = profile(df, SPEC.select(["x"])).join(profile(df, SPEC.select(["n", "mode"])))

    assert joined.columns == profile(df, SPEC).columns


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": [1.0], "n": [1]}), "no columns \\['mode'\\]"),
        (pd.DataFrame({"x": [np.inf], "n": [1], "mode": ["run"]}), "'x' contains infinite"),
        (pd.DataFrame({"x": ["1.0"], "n": [1], "mode": ["run"]}), "'x' is numeric in the spec"),
    ],
)
def test_unusable_frames_are_refused_with_the_reason(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(MonitoringError, match=message):
        profile(frame, SPEC)


def test_profiles_on_different_edges_do_not_merge() -> None:
    other_spec = ProfileSpec(columns={"x": NumericColumnSpec(edges=[0.0, 1.0, 3.0])})
    df = pd.DataFrame({"x": [0.5]})

    with pytest.raises(MonitoringError, match="different edges"):
        profile(df, SPEC.select(["x"])).merge(profile(df, other_spec))


def test_profiles_of_different_columns_do_not_merge() -> None:
    df = pd.DataFrame({"x": [0.5], "n": [1], "mode": ["run"]})

    with pytest.raises(MonitoringError, match="different columns"):
        profile(df, SPEC).merge(profile(df, SPEC.select(["x"])))


def test_spec_from_an_all_null_baseline_column_is_refused() -> None:
    with pytest.raises(MonitoringError, match="'x' has no non-null values"):
        ProfileSpec.from_baseline(pd.DataFrame({"x": [np.nan, np.nan]}))


def test_merge_needs_at_least_one_profile() -> None:
    with pytest.raises(MonitoringError, match="at least one"):
        merge([])


# --- properties --------------------------------------------------------------------------

_floats = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))
_rows = st.lists(
    st.tuples(_floats, st.integers(-10, 10), st.sampled_from(["run", "idle", "off", None])),
    max_size=40,
)


def _frame(rows: list[tuple[float | None, int, str | None]]) -> pd.DataFrame:
    x, n, mode = zip(*rows, strict=True) if rows else ((), (), ())
    return pd.DataFrame(
        {
            "x": pd.Series(x, dtype="float64"),
            "n": pd.Series(n, dtype="int64"),
            "mode": pd.Series(mode, dtype="str"),
        }
    )


def _assert_same_profile(left: Profile, right: Profile) -> None:
    """Counts exactly equal, float moments equal within a relative tolerance."""
    assert list(left.columns) == list(right.columns)
    for name, column in left.columns.items():
        other = right.columns[name]
        assert column.model_dump(exclude={"moments"}) == other.model_dump(exclude={"moments"})
        if column.kind == "numeric":
            a, b = column.moments, other.moments
            assert (a.count, a.min, a.max) == (b.count, b.min, b.max)
            assert a.mean == pytest.approx(b.mean, rel=1e-9, abs=1e-6)
            assert a.m2 == pytest.approx(b.m2, rel=1e-9, abs=1e-3)


@settings(max_examples=60, deadline=None)
@given(_rows, _rows)
def test_profile_of_concatenation_equals_merge_of_profiles(left: list, right: list) -> None:
    x, y = _frame(left), _frame(right)

    whole = profile(pd.concat([x, y], ignore_index=True), SPEC)

    _assert_same_profile(whole, merge([profile(x, SPEC), profile(y, SPEC)]))


@settings(max_examples=40, deadline=None)
@given(_rows, _rows, _rows)
def test_merge_is_associative(a: list, b: list, c: list) -> None:
    pa, pb, pc = (profile(_frame(rows), SPEC) for rows in (a, b, c))

    _assert_same_profile(pa.merge(pb).merge(pc), pa.merge(pb.merge(pc)))


@settings(max_examples=40, deadline=None)
@given(_rows, st.integers(1, 8))
def test_profile_round_trips_through_json_exactly(rows: list, bins: int) -> None:
    df = _frame(rows)
    assume(df["x"].notna().any() and df["mode"].notna().any())
    spec = ProfileSpec.from_baseline(df, ["x", "n"], ["mode"], bins)

    original = profile(df, spec)

    assert Profile.model_validate_json(original.model_dump_json()) == original
    assert ProfileSpec.model_validate_json(spec.model_dump_json()) == spec
