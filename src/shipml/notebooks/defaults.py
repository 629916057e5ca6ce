"""Defaults of the notebook commands, in a module light enough for the CLI to import."""

DEFAULT_KERNEL = "python3"
"""The Jupyter kernel `check --run` starts."""
CHECK_CELL_TIMEOUT = 120.0
"""Seconds `check --run` allows each cell."""
CONVERT_TIMEOUT = 600.0
"""Seconds `convert` allows the notebook's one run."""
