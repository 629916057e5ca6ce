"""`@step`: a plain function whose annotations are its contracts."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel

from shipml.contracts import contract_of
from shipml.errors import StepDefinitionError

# Parameters a step may declare besides its data; the runner passes them by name.
# `threshold` is the model version's binary decision threshold (0.5 when it has none).
CONTEXT_PARAMETERS = ("model", "params", "window", "threshold")


@dataclass(eq=False)
class Step:
    """A step: the function, and the contracts read from its annotations."""

    func: Callable[..., Any]
    name: str
    data_parameter: str | None  # the `Table[M]` parameter, None for ingest steps
    input: type[BaseModel] | None
    output: type[BaseModel] | None
    context_parameters: tuple[str, ...]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def call(self, data: Any, context: dict[str, Any]) -> Any:
        """Run the step on `data` with the context values it asks for."""
        kwargs = {name: context[name] for name in self.context_parameters}
        if self.data_parameter is None:
            return self.func(**kwargs)
        return self.func(data, **kwargs)


def step(func: Callable[..., Any]) -> Step:
    """Make `func` a pipeline step; it stays callable as the plain function."""
    if isinstance(func, Step):
        return func
    signature = inspect.signature(func)
    try:
        hints = get_type_hints(func, include_extras=True)
    except NameError as error:
        message = f"step {func.__name__}: cannot resolve an annotation ({error})"
        raise StepDefinitionError(message) from error
    data_parameter: str | None = None
    contract: type[BaseModel] | None = None
    context: list[str] = []
    for name, parameter in signature.parameters.items():
        if name in CONTEXT_PARAMETERS:
            context.append(name)
            continue
        if data_parameter is not None:
            raise StepDefinitionError(
                f"step {func.__name__}: parameter {name!r} is neither its data (the first "
                f"parameter) nor one of {', '.join(CONTEXT_PARAMETERS)}"
            )
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            message = f"step {func.__name__}: data parameter {name!r} must be positional"
            raise StepDefinitionError(message)
        data_parameter = name
        contract = contract_of(hints.get(name))
    built = Step(
        func=func,
        name=func.__name__,
        data_parameter=data_parameter,
        input=contract,
        output=contract_of(hints.get("return")),
        context_parameters=tuple(context),
    )
    functools.update_wrapper(built, func)
    return built
