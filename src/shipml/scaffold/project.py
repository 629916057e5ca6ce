"""`shipml init`: write a new project that trains, runs a window and passes its own tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd

from shipml.errors import ScaffoldError

WINDOW_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_TEMPLATE_SUFFIX = ".tmpl"
# Dotfiles are stored without their dot: a packaged `.gitignore` would be read as one by git.
_DOTFILES = {"gitignore": ".gitignore"}


def init_project(directory: Path, name: str) -> Path:
    """Write a new project called `name` into `directory` (which must be absent or empty)."""
    if not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"project name {name!r}: use lowercase letters, digits, '-' and '_', "
            "starting with a letter"
        )
    if directory.exists() and any(directory.iterdir()):
        raise ScaffoldError(f"{directory} already exists and is not empty")
    values = {
        "name": name,
        "window_start": _iso(WINDOW_START),
        "window_end": _iso(WINDOW_START + WINDOW),
    }
    _copy_templates(files("shipml.scaffold") / "template", directory, values)
    _write_data(directory)
    return directory


def _copy_templates(source: object, target: Path, values: dict[str, str]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():  # type: ignore[attr-defined]
        if entry.is_dir():
            _copy_templates(entry, target / entry.name, values)
        elif entry.name.endswith(_TEMPLATE_SUFFIX):
            text = Template(entry.read_text(encoding="utf-8")).substitute(values)
            name = entry.name.removesuffix(_TEMPLATE_SUFFIX)
            (target / _DOTFILES.get(name, name)).write_text(text, encoding="utf-8")


def _write_data(directory: Path) -> None:
    """Seeded example data: a training file and one window of live records."""
    data = directory / "data"
    (data / "windows").mkdir(parents=True, exist_ok=True)
    history = _records(WINDOW_START - timedelta(days=7), rows=2000, span=timedelta(days=7), seed=0)
    history.to_csv(data / "train.csv", index=False)
    window = _records(WINDOW_START, rows=60, span=WINDOW, seed=1).drop(columns=["converted"])
    window.to_csv(data / "windows" / f"records_{WINDOW_START:%Y%m%dT%H%M}.csv", index=False)


def _records(start: datetime, *, rows: int, span: timedelta, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 40.0, rows).round(2)
    visits = rng.poisson(3, rows)
    channel = rng.choice(["web", "store", "phone"], rows, p=[0.5, 0.3, 0.2])
    logit = -5.5 + 1.2 * np.log1p(amount) + 0.3 * visits + 0.8 * (channel == "web")
    offsets = np.sort(rng.uniform(0, span.total_seconds(), rows))
    return pd.DataFrame(
        {
            "id": [f"r{seed}-{i:05d}" for i in range(rows)],
            "ts": [_iso(start + timedelta(seconds=float(s))) for s in offsets.round()],
            "amount": amount,
            "visits": visits,
            "channel": channel,
            "converted": rng.random(rows) < 1 / (1 + np.exp(-logit)),
        }
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
