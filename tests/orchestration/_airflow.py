"""A throwaway Airflow installation home for tests, in the cached Airflow virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "airflow-env"
# Installs: one build of the environment, then a few seconds to install this checkout.
BUILD_TIMEOUT = 1800


@dataclass(frozen=True)
class Airflow:
    """An Airflow home (SQLite metadata database) run with the Airflow virtualenv."""

    environment: Path
    home: Path

    def run(self, *arguments: str, dags: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run `airflow <arguments>` with `dags` as the DAGs folder; output kept for asserts."""
        started = time.monotonic()
        completed = subprocess.run(
            [str(self.environment / "bin" / "airflow"), *arguments],
            env=self._environ(dags),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        print(f"airflow {' '.join(arguments)}: {time.monotonic() - started:.0f} s", flush=True)
        return completed

    def _environ(self, dags: Path) -> dict[str, str]:
        return {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "1",
        }


def airflow_environment() -> Path:
    """The cached Airflow virtualenv with this checkout of shipml (built when missing)."""
    print(f"preparing the Airflow environment with {BUILD_SCRIPT}", file=sys.stderr, flush=True)
    completed = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT)],
        stdout=subprocess.PIPE,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed with exit code {completed.returncode}")
    return Path(completed.stdout.strip().splitlines()[-1])
