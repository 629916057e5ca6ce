"""A simulated fleet of machines: per-minute sensor readings, failures, faults, window files.

This is the example's data source, standing in for the plant's systems; the pipeline's own
code (contracts.py, steps.py) does not import it.
"""

from .faults import (
    AMERICAN_DATE_FORMAT,
    AmericanDates,
    FailureRateShift,
    Fault,
    RelationChanged,
    RenamedColumn,
    SensorDrift,
    SensorNulls,
)
from .files import FILE_TEMPLATE, ISO_8601, window_file_name, window_starts, write_windows
from .readings import LABEL, LABEL_HORIZON_MINUTES, MAX_MACHINES, machine_ids, simulate
from .regime import Regime

__all__ = [
    "AMERICAN_DATE_FORMAT",
    "FILE_TEMPLATE",
    "ISO_8601",
    "LABEL",
    "LABEL_HORIZON_MINUTES",
    "MAX_MACHINES",
    "AmericanDates",
    "FailureRateShift",
    "Fault",
    "Regime",
    "RelationChanged",
    "RenamedColumn",
    "SensorDrift",
    "SensorNulls",
    "machine_ids",
    "simulate",
    "window_file_name",
    "window_starts",
    "write_windows",
]
