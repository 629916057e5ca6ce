"""The run store: runs, step timings, validation reports, quarantined rows, profiles, alerts,
alias moves.

SQLite file by default (`<project>/.shipml/shipml.db`), PostgreSQL by URL. The schema is
versioned with Alembic migrations shipped in this package and applied on open.
"""

from shipml.errors import AlertNotFound, RunNotFound, StoreError, StoreUnavailable
from shipml.store._engine import create_store_engine, store_faults
from shipml.store.records import (
    AlertOutcome,
    AlertRecord,
    AliasMoveRecord,
    EngineKind,
    LabelIngestRecord,
    Lineage,
    MoveOutcome,
    MoveReason,
    ProfileRecord,
    RunDetail,
    RunRecord,
    StepRecord,
    UndeliveredRecord,
    ValidationRecord,
)
from shipml.store.store import RunStore

__all__ = [
    "AlertNotFound",
    "AlertOutcome",
    "AlertRecord",
    "AliasMoveRecord",
    "EngineKind",
    "LabelIngestRecord",
    "Lineage",
    "MoveOutcome",
    "MoveReason",
    "ProfileRecord",
    "RunDetail",
    "RunNotFound",
    "RunRecord",
    "RunStore",
    "StepRecord",
    "StoreError",
    "StoreUnavailable",
    "UndeliveredRecord",
    "ValidationRecord",
    "create_store_engine",
    "store_faults",
]
