"""`Table[M]`: the annotation for a DataFrame whose rows satisfy the model `M`."""

from __future__ import annotations

from typing import Annotated, get_type_hints

import pandas as pd
import pytest
from pydantic import BaseModel

from shipml.contracts import Table, contract_of, validate


class Sale(BaseModel):
    item: str
    amount: float


class Total(BaseModel):
    amount: float


def total(sales: Table[Sale]) -> Table[Total]:
    return pd.DataFrame({"amount": [sales["amount"].sum()]})


def test_a_table_annotation_is_a_dataframe_that_names_its_contract() -> None:
    hints = get_type_hints(total, include_extras=True)
    assert contract_of(hints["sales"]) is Sale
    assert contract_of(hints["return"]) is Total
    assert hints["sales"].__origin__ is pd.DataFrame


def test_other_annotations_have_no_contract() -> None:
    assert contract_of(pd.DataFrame) is None
    assert contract_of(int) is None
    assert contract_of(Annotated[pd.DataFrame, "note"]) is None


def test_the_contract_of_an_annotation_validates_frames() -> None:
    sales = pd.DataFrame({"item": ["a", "b"], "amount": [1.5, 2.0]})
    hints = get_type_hints(total, include_extras=True)
    checked = validate(sales, contract_of(hints["sales"])).valid
    out = validate(total(checked), contract_of(hints["return"])).valid
    assert out["amount"].tolist() == [3.5]


def test_a_table_of_something_else_than_a_model_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Table\[\.\.\.\] takes a Pydantic model class, not"):
        Table[dict]
