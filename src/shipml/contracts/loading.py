"""Find a contract by reference: `module:Model` (current directory first) or `file.py:Model`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from pydantic import BaseModel

from shipml.errors import BadContractReference


def load_contract(reference: str) -> type[BaseModel]:
    """The Pydantic model named by `module:Model` (current directory first) or `file.py:Model`."""
    target, _, attribute = reference.rpartition(":")
    if not target or not attribute:
        raise BadContractReference(
            f"contract {reference!r}: expected module:Model or path/to/file.py:Model"
        )
    module = _import_file(Path(target)) if target.endswith(".py") else _import_module(target)
    model = getattr(module, attribute, None)
    if model is None:
        found = _models_in(module)
        listed = f" (it defines: {', '.join(found)})" if found else " (it defines no models)"
        raise BadContractReference(f"{target} has no {attribute!r}{listed}")
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise BadContractReference(f"{reference} is not a Pydantic model class")
    return model


def _import_module(name: str) -> ModuleType:
    with _first_on_path(Path.cwd()):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and (name == error.name or name.startswith(f"{error.name}.")):
                raise BadContractReference(
                    f"no module named {name!r} in the current directory or installed packages"
                ) from None
            raise BadContractReference(f"importing {name!r} failed: {error}") from None
        except Exception as error:  # the user's module may fail in any way while importing
            raise BadContractReference(
                f"importing {name!r} failed: {type(error).__name__}: {_first_line(error)}"
            ) from None


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise BadContractReference(f"contract file {path} not found")
    module_name = f"_shipml_contract_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise BadContractReference(f"{path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # Pydantic resolves annotations through sys.modules
    with _first_on_path(path.resolve().parent):
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # the user's module may fail in any way while importing
            del sys.modules[module_name]
            raise BadContractReference(
                f"importing {path} failed: {type(error).__name__}: {_first_line(error)}"
            ) from None
    return module


@contextmanager
def _first_on_path(directory: Path) -> Iterator[None]:
    """Put `directory` first on sys.path while importing, as `python -m` does for the cwd."""
    entry = str(directory)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path.remove(entry)


def _models_in(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""
