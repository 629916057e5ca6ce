"""`Table[M]`: the annotation for a pandas DataFrame whose rows satisfy the Pydantic model `M`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, get_args, get_origin

import pandas as pd
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class TableOf:
    """Marker carried in `Annotated[pd.DataFrame, TableOf(M)]`."""

    model: type[BaseModel]


if TYPE_CHECKING:

    class Table(pd.DataFrame, Generic[M]):
        """A DataFrame whose rows satisfy `M` (static view)."""

else:

    class Table:
        """`Table[M]` is `Annotated[pd.DataFrame, TableOf(M)]`: a frame whose rows satisfy `M`."""

        def __class_getitem__(cls, model: type[BaseModel]) -> Any:
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise TypeError(f"Table[...] takes a Pydantic model class, not {model!r}")
            return Annotated[pd.DataFrame, TableOf(model)]


def contract_of(annotation: Any) -> type[BaseModel] | None:
    """The model `M` of a `Table[M]` annotation, or None for any other annotation."""
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, TableOf):
                return meta.model
    return None
