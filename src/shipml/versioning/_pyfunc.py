"""An MLflow pyfunc wrapper for model objects that have no MLflow flavor of their own."""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.pyfunc.model import PythonModel


class ObjectModel(PythonModel):
    """Any picklable model object; `predict` delegates to the object's own `predict`."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        """Delegate to the wrapped object."""
        return self.model.predict(model_input)
