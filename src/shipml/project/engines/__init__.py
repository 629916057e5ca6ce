"""Engines run a flow on a window's rows: in this process, or partitioned on a Dask cluster.

The Dask engine is imported only when chosen (`engine_by_name("dask")`): distributed takes a
while to import.
"""

from shipml.project.engines.local import ENGINE_NAMES, Engine, LocalEngine, engine_by_name

__all__ = ["ENGINE_NAMES", "Engine", "LocalEngine", "engine_by_name"]
