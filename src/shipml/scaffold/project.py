"""`shipml init`: write a new project that trains, runs a window and passes its own tests.

The project is one of three tasks on the same customer records: `binary` (did the customer
convert, true/false), `multiclass` (which plan they chose: "basic", "plus" or "premium")
or `regression` (what they spend next month). `template/` holds what every task shares,
`tasks/<task>/` the contracts, steps, settings and step tests of each.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Literal

import numpy as np
import pandas as pd

from shipml.errors import ScaffoldError

WINDOW_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_TEMPLATE_SUFFIX = ".tmpl"
ScaffoldTask = Literal["binary", "multiclass", "regression"]
TASKS: tuple[ScaffoldTask, ...] = ("binary", "multiclass", "regression")
LABELS: dict[ScaffoldTask, str] = {
    "binary": "converted",
    "multiclass": "plan",
    "regression": "spend",
}
PLANS = ("basic", "plus", "premium")

# Dotfiles are stored without their dot: a packaged `.gitignore` would be read as one by git.
_DOTFILES = {"gitignore": ".gitignore"}


def init_project(directory: Path, name: str, task: ScaffoldTask = "binary") -> Path:
    """Write a new project called `name` into `directory` (which must be absent or empty)."""
    if task not in TASKS:
        raise ScaffoldError(f"task {task!r}: expected one of {', '.join(TASKS)}")
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
    _copy_templates(files("shipml.scaffold") / "tasks" / task, directory, values)
    _write_data(directory, task)
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


def _write_data(directory: Path, task: ScaffoldTask) -> None:
    """Seeded example data: a training file and one window of live records."""
    data = directory / "data"
    (data / "windows").mkdir(parents=True, exist_ok=True)
    start = WINDOW_START - timedelta(days=7)
    history = _records(start, rows=2000, span=timedelta(days=7), seed=0, task=task)
    history.to_csv(data / "train.csv", index=False)
    window = _records(WINDOW_START, rows=60, span=WINDOW, seed=1, task=task)
    window = window.drop(columns=[LABELS[task]])
    window.to_csv(data / "windows" / f"records_{WINDOW_START:%Y%m%dT%H%M}.csv", index=False)


def _records(
    start: datetime, *, rows: int, span: timedelta, seed: int, task: ScaffoldTask
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 40.0, rows).round(2)
    visits = rng.poisson(3, rows)
    channel = rng.choice(["web", "store", "phone"], rows, p=[0.5, 0.3, 0.2])
    offsets = np.sort(rng.uniform(0, span.total_seconds(), rows))
    records = pd.DataFrame(
        {
            "id": [f"r{seed}-{i:05d}" for i in range(rows)],
            "ts": [_iso(start + timedelta(seconds=float(s))) for s in offsets.round()],
            "amount": amount,
            "visits": visits,
            "channel": channel,
        }
    )
    return records.assign(**{LABELS[task]: _label(rng, task, amount, visits, channel)})


def _label(
    rng: np.random.Generator,
    task: ScaffoldTask,
    amount: np.ndarray,
    visits: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """What happened: converted (true/false), the plan chosen, or next month's spend."""
    size = np.log1p(amount)
    if task == "regression":
        spend = 10 + 0.6 * amount + 4 * visits + 15 * (channel == "web")
        spent: np.ndarray = np.maximum(spend + rng.normal(0, 15, len(amount)), 0).round(2)
        return spent
    if task == "multiclass":
        scores = np.column_stack(
            [np.zeros(len(amount)), 1.5 * size - 6, 3 * size + 0.4 * visits - 15]
        )
        chosen = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        picks = (rng.random(len(amount))[:, None] > chosen.cumsum(axis=1)).sum(axis=1)
        plans: np.ndarray = np.asarray(PLANS, dtype=object)[np.minimum(picks, len(PLANS) - 1)]
        return plans
    logit = -5.5 + 1.2 * size + 0.3 * visits + 0.8 * (channel == "web")
    converted: np.ndarray = rng.random(len(amount)) < 1 / (1 + np.exp(-logit))
    return converted


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
