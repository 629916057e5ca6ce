"""Engines are chosen by name, as `shipml run --engine` chooses them."""

from __future__ import annotations

import pytest

from shipml.project.engines import LocalEngine, engine_by_name
from shipml.project.engines.dask import DaskEngine


def test_each_engine_is_found_by_its_name() -> None:
    assert isinstance(engine_by_name("local"), LocalEngine)
    dask = engine_by_name("dask", scheduler_address="tcp://scheduler.example:8786")
    assert isinstance(dask, DaskEngine)
    assert dask.scheduler_address == "tcp://scheduler.example:8786"


@pytest.mark.parametrize(
    ("name", "address", "message"),
    [
        ("spark", None, "unknown engine 'spark': expected one of local, dask"),
        ("local", "tcp://127.0.0.1:8786", "a scheduler address is for the dask engine"),
    ],
)
def test_a_wrong_choice_is_refused(name: str, address: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        engine_by_name(name, scheduler_address=address)
