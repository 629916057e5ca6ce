"""`shipml notebook convert`: a notebook becomes a shipml project that trains, scores and tests."""

from shipml.notebooks.convert.convert import (
    Conversion,
    Verification,
    convert_notebook,
    project_name_for,
)

__all__ = ["Conversion", "Verification", "convert_notebook", "project_name_for"]
