"""Content fingerprints of data: what a run records as the version of the rows it read."""

from __future__ import annotations

import hashlib
import json

import pandas as pd


def frame_version(frame: pd.DataFrame) -> str:
    """'sha256:<hash>' of a frame's column names, types and values, row order included."""
    digest = hashlib.sha256()
    layout = [[str(name), str(dtype)] for name, dtype in frame.dtypes.items()]
    digest.update(json.dumps(layout).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"
