"""Generated code comes from the `.tmpl` files in `templates/`, filled with `string.Template`.

A template holds the fixed text of a file (or of a repeated piece of one, e.g. a test); the
converter computes only the values: names, code taken from the notebook, literals.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template


def render(template: str, /, **values: object) -> str:
    """The template `template` (e.g. `pipeline.py.tmpl`) with `values` substituted."""
    return _template(template).substitute({key: str(value) for key, value in values.items()})


@cache
def _template(name: str) -> Template:
    source = files("shipml.notebooks.convert") / "templates" / name
    return Template(source.read_text(encoding="utf-8"))


def piece(template: str, /, **values: object) -> str:
    """A rendered template that is part of a file (a function, a test): without its margins."""
    return render(template, **values).strip("\n")
