"""An example record for the API docs: the contract's own examples, else one made from it.

A made-up record follows the JSON schema of the contract: a field's `examples`, its
default, the first allowed value, a number inside its bounds, a date, a string matching
its pattern. Whatever is offered, only a record the contract accepts is used.
"""

from __future__ import annotations

import re
from re import _parser as regex_parser  # type: ignore[attr-defined]
from typing import Any

import pandas as pd
from pydantic import BaseModel

from shipml.contracts import validate

_FORMATS = {
    "date-time": "2026-01-01T12:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00",
    "duration": "PT1H",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "someone@example.com",
    "uri": "https://example.com",
}
_CATEGORY_CHARACTERS = {"DIGIT": "0", "WORD": "a", "SPACE": " "}


def example_record(contract: type[BaseModel]) -> dict[str, Any] | None:
    """A record that satisfies `contract`, or None when none can be found."""
    schema = contract.model_json_schema()
    offered = [e for e in schema.get("examples", []) if isinstance(e, dict)]
    made = _value(schema, schema.get("$defs", {}))
    candidates = [*offered, made] if isinstance(made, dict) else offered
    for candidate in candidates:
        if _accepted(candidate, contract):
            return candidate
    return None


def _accepted(record: dict[str, Any], contract: type[BaseModel]) -> bool:
    frame = pd.DataFrame([record])
    return validate(frame, contract, policy="quarantine", max_invalid_fraction=1.0).report.ok


def _value(schema: dict[str, Any], definitions: dict[str, Any]) -> Any:
    """A value that fits `schema` (best effort; the caller checks it)."""
    if "$ref" in schema:
        return _value(definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions)
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    if "const" in schema:
        return schema["const"]
    if schema.get("default") is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        branches = [b for b in schema.get(key, []) if b.get("type") != "null"]
        if branches:
            return _value(branches[0], definitions)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _value(field, definitions) for name, field in properties.items()}
    if kind == "array":
        items = schema.get("items")
        count = max(int(schema.get("minItems", 1)), 1)
        return [_value(items, definitions)] * count if items else []
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "string":
        return _string(schema)
    return True if kind == "boolean" else None


def _number(schema: dict[str, Any], *, integer: bool) -> float | int:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and high is not None:
        middle = (low + high) / 2
    elif low is not None:
        middle = low + 1
    elif high is not None:
        middle = high - 1
    else:
        middle = 1
    return int(middle) if integer else round(float(middle), 3)


def _string(schema: dict[str, Any]) -> str | None:
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    if "pattern" in schema:
        return _matching(schema["pattern"])
    shortest, longest = int(schema.get("minLength", 0)), schema.get("maxLength")
    text = "example".ljust(shortest, "x")
    return text[:longest] if longest is not None else text


def _matching(pattern: str) -> str | None:
    """The shortest obvious string that `pattern` finds, or None."""
    try:
        text = _emit(regex_parser.parse(pattern))
    except (ValueError, KeyError, TypeError, re.error):
        return None
    return text if re.search(pattern, text) else None


def _emit(parsed: Any) -> str:
    out: list[str] = []
    for opcode, argument in parsed:
        name = str(opcode)
        if name == "LITERAL":
            out.append(chr(argument))
        elif name in ("ANY", "NOT_LITERAL"):
            out.append("a" if argument != ord("a") else "b")
        elif name == "IN":
            out.append(_one_of(argument))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            least, _, inner = argument
            out.append(_emit(inner) * least)
        elif name == "SUBPATTERN":
            out.append(_emit(argument[-1]))
        elif name == "ATOMIC_GROUP":
            out.append(_emit(argument))
        elif name == "BRANCH":
            out.append(_emit(argument[1][0]))
        elif name != "AT":
            raise ValueError(f"cannot make an example for {name}")
    return "".join(out)


def _one_of(items: list[tuple[Any, Any]]) -> str:
    opcode, argument = items[0]
    name = str(opcode)
    if name == "LITERAL":
        return chr(argument)
    if name == "RANGE":
        return chr(argument[0])
    if name == "CATEGORY":
        return _CATEGORY_CHARACTERS[str(argument).removeprefix("CATEGORY_")]
    raise ValueError(f"cannot make an example for a set starting with {name}")
