"""Engines run a flow on a window's rows: in this process, or partitioned on a Dask cluster.

`window.score_window(engine, job)` is what a batch window calls: it reads, runs, profiles
and writes the window, by the engine itself when it can (the Dask engine's workers read and
write their own partitions), else around the engine's `run` in this process.

The Dask engine is imported only when chosen (`engine_by_name("dask")`): distributed takes a
while to import.
"""

from shipml.project.engines.local import ENGINE_NAMES, Engine, LocalEngine, engine_by_name
from shipml.project.engines.window import ScoredWindow, WindowJob, score_window

__all__ = [
    "ENGINE_NAMES",
    "Engine",
    "LocalEngine",
    "ScoredWindow",
    "WindowJob",
    "engine_by_name",
    "score_window",
]
