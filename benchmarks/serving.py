"""Serving benchmark: shipml vs a bare FastAPI endpoint, `mlflow models serve` and BentoML.

The same scikit-learn model (StandardScaler + LogisticRegression in a Pipeline, five
features) and the same record, one uvicorn worker each, on 127.0.0.1. The load comes from
a separate client process (asyncio on uvloop, raw HTTP/1.1 keep-alive): sequential requests
(p50/p95/p99), then 16 concurrent clients (throughput and p99), then `--more-clients`
(32 and 64). Each client connection is driven by its own protocol callbacks (an answer,
once whole, is timed and checked and the next request written at once): on this machine's
two cores, the client shares the CPU with the servers, and this costs it about 40 us of CPU
per request, against about 65 us with asyncio streams (and about 30 us for `wrk`, its
start-up included). Every server is measured by the same client; each phase also reports
the client's own CPU time (`client_cpu`) and the server's CPU time per answered request
(`server_cpu_us`: its process and its children, read with psutil; the machine's load moves
it less than it moves throughput, though a slow machine costs CPU time too); for shipml,
also the mean records per micro-batch (`mean_batch`, from its /metrics: what a worker's
share of the clients lets it batch, which is what two workers lose) and, on Linux, the CPU
per request in its main threads (`loop_cpu_us`: the event loops) and its other threads
(`other_cpu_us`: scoring and bookkeeping), from each thread's exact run time (schedstat;
these add up to somewhat more than `server_cpu_us`, which the kernel samples). The servers
run side by side and are measured in turns, `--rounds` times, one at a time while the
others idle: on a shared machine whose speed drifts, each server sees the same conditions.

    python benchmarks/serving.py [--requests 2000] [--seconds 20] [--clients 16]
                                 [--more-clients 32,64] [--rounds 4] [--workers 2]
                                 [--bentoml default] [--bentoml 64,1000]
                                 [--soak 60] [--compare OTHER/src]

Servers, one function each below: shipml (one worker), shipml with `--workers` worker
processes ("shipml-2w"; 1: left out), "before" (`--compare`), bare, mlflow, and BentoML
1.4 (its own virtualenv, benchmarks/.venv-bentoml, created on first use: about a minute),
one worker, a batchable API with adaptive batching: `--bentoml default` (its documented
defaults, max_batch_size 100, max_latency_ms 60000) or `--bentoml SIZE,MS`, repeatable,
one server each; BENTOML_DO_NOT_TRACK=True.

Each turn of shipml (and of "before") ends with a phase "mixed": the 16 clients
again, one request in `--invalid-every` (10) carrying an invalid record (out of bounds, not a
number, or a field missing, in turns; every one different). It gives the latency of the
valid requests and the throughput when a tenth of the traffic is refused with a report.

"shipml+shadow" is shipml with a challenger (a second registered version under the alias
`challenger`) scored in shadow on every answered request, measured in the same turns as
plain shipml (whose challenger is loaded but not scored: `[serving] shadow = false`), so
that the champion's p50/p99 and throughput with a challenger set stand beside those
without (issue 17); the challenger's agreed, failed and dropped records are read from its
/metrics at the end.

"shipml+labels" is shipml with a `[labels]` table: every answered prediction is kept, with
its request id, in the prediction log the online windows write (issue 16), measured in the
same turns, so that the hot path's cost of keeping predictions stands beside plain shipml.

`--soak S` also runs shipml for S seconds under 32 clients and reports errors and the
growth of its resident memory. `--compare DIR` adds a server "before": shipml imported
from DIR (another checkout's `src`), measured in the same turns, so a change is judged
against the code before it under the same conditions. The last line printed is one JSON
object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import pandas as pd

from _peers import peer_environment

FEATURES = ["f0", "f1", "f2", "f3", "f4"]
RECORD = {"f0": 0.5, "f1": -1.2, "f2": 0.3, "f3": 2.0, "f4": -0.7}
STARTUP_SECONDS = 240
MLFLOW_OPTIONS = ["--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}", "-w", "1"]
WARM_UP_REQUESTS = 200
CHALLENGER = "challenger"
SHADOW = "shipml+shadow"
NO_SHADOW = {"SHIPML_SERVING__SHADOW": "false"}  # plain shipml: the challenger is not scored
LABELS = "shipml+labels"
# A [labels] table (from the environment): every answered prediction goes to the log.
WITH_LABELS = {**NO_SHADOW, "SHIPML_LABELS__MIN_LABELS": "100"}

CONTRACTS = """
from pydantic import BaseModel, Field


class Features(BaseModel):
    f0: float = Field(ge=-10, le=10)
    f1: float = Field(ge=-10, le=10)
    f2: float = Field(ge=-10, le=10)
    f3: float = Field(ge=-10, le=10)
    f4: float = Field(ge=-10, le=10)


class Labelled(Features):
    label: bool


class Scored(BaseModel):
    probability: float = Field(ge=0, le=1)
"""

STEPS = """
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from contracts import Features, Labelled, Scored
from shipml import Table, step

FEATURES = ["f0", "f1", "f2", "f3", "f4"]


@step
def train(rows: Table[Labelled]) -> Pipeline:
    model = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression())])
    return model.fit(rows[FEATURES], rows["label"])


@step
def predict(features: Table[Features], model: Pipeline) -> Table[Scored]:
    # The contract hands the step exactly Features' columns, in order: no selection needed.
    probability = model.predict_proba(features)[:, 1]
    return pd.DataFrame({"probability": probability}, index=features.index)
"""

PIPELINE = """
from shipml import Pipeline
from steps import predict, train

pipeline = Pipeline("bench", train=train, predict=predict, target="label")
"""

SETTINGS = """
[project]
name = "bench"

[training]
data = "train.csv"
target = "label"
"""

BARE_SERVER = """
import pickle
import sys

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel, Field

with open(sys.argv[1], "rb") as file:
    model = pickle.load(file)

app = FastAPI()


class Features(BaseModel):
    f0: float = Field(ge=-10, le=10)
    f1: float = Field(ge=-10, le=10)
    f2: float = Field(ge=-10, le=10)
    f3: float = Field(ge=-10, le=10)
    f4: float = Field(ge=-10, le=10)


@app.post("/predict")
def predict(features: Features) -> dict[str, float]:
    frame = pd.DataFrame([features.model_dump()])
    return {"probability": float(model.predict_proba(frame)[0, 1])}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), workers=1)
"""

# BentoML's own way (its docs' scikit-learn example): a service class, one worker, one
# batchable API taking an array; adaptive batching with the given limits (None: defaults).
BENTOML_SERVICE = """
import os
import pickle
import warnings

import bentoml
import numpy as np

# The model was fitted on a DataFrame; an array is what BentoML batches. The check stays,
# only its warning (one per call) is silenced.
warnings.filterwarnings("ignore", message="X does not have valid feature names")
BATCHING = {BATCHING}


@bentoml.service(workers=1)
class Classifier:
    def __init__(self) -> None:
        with open(os.environ["BENCH_MODEL"], "rb") as file:
            self.model = pickle.load(file)

    @bentoml.api(batchable=True, **BATCHING)
    def predict(self, input: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(input)[:, 1]
"""
BENTOML_VENV = Path(__file__).resolve().parent / ".venv-bentoml"
# The model is pickled by this environment's scikit-learn: BentoML's loads it with the same.
BENTOML_REQUIREMENTS = ("bentoml==1.4.*",)


@dataclass(frozen=True)
class Target:
    """A server under test: how to start it and what to post to it."""

    name: str
    command: list[str]
    path: str
    body: dict[str, Any]
    env: dict[str, str]
    mixed: bool = False  # also measured with invalid records among the valid ones
    cwd: Path | None = None


def main() -> None:
    """Set up the project and model, measure each server, print the figures."""
    options = _arguments()
    if options.client is not None:
        job = json.loads(options.client)
        # To a file, not stdout: on uvloop, results over 128 KiB written to the pipe were cut.
        Path(job["result"]).write_text(json.dumps(_run(_client(job))))
        return
    workdir = Path(tempfile.mkdtemp(prefix="shipml-bench-"))
    try:
        targets = _prepare(workdir, options)
        with contextlib.ExitStack() as servers:
            started = {t.name: servers.enter_context(_server(t, workdir)) for t in targets}
            figures = _measure_in_turns(targets, started, options)
            figures[SHADOW]["shadow"] = _shadow_counts(started[SHADOW][0])
        soak = _soak(targets[0], workdir, options.soak) if options.soak else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _report(figures, soak, options)


def _measure_in_turns(
    targets: list[Target], started: dict[str, tuple[str, int]], options: argparse.Namespace
) -> dict[str, Any]:
    """Each server's figures, from `options.rounds` turns of each phase per server."""
    runs: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
    for number in range(1, options.rounds + 1):
        for target in targets:
            _say(f"round {number}/{options.rounds}: {target.name} ...")
            url, pid = started[target.name]
            runs[target.name].append(_measure(url, pid, target, options, first=number == 1))
    return {name: _pooled(found) for name, found in runs.items()}


def _shadow_counts(url: str) -> dict[str, float]:
    """The challenger's records by outcome, and those dropped, from the server's /metrics."""
    counts: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        for name in ("shipml_shadow_records_total{", "shipml_shadow_dropped_records_total "):
            if line.startswith(name):
                key = line.split('"')[1] if "{" in name else "dropped"
                counts[key] = float(line.split()[-1])
    return counts


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Percentiles over every round's latencies; throughput over the rounds' total time."""
    sequential = [latency for run in runs for latency in run["sequential"]["latencies"]]
    concurrent = [latency for run in runs for latency in run["concurrent"]["latencies"]]
    elapsed = sum(run["concurrent"]["elapsed"] for run in runs)
    summary = {
        "sequential": _summary(sequential, sum(run["sequential"]["errors"] for run in runs)),
        "concurrent": _summary(concurrent, sum(run["concurrent"]["errors"] for run in runs)),
    }
    summary["concurrent"]["rps"] = round(len(concurrent) / elapsed, 1)
    summary["concurrent"]["server_cpu_us"] = _cpu_per_request([run["concurrent"] for run in runs])
    summary["concurrent"]["mean_batch"] = _mean_batch([run["concurrent"] for run in runs])
    summary["concurrent"].update(_cpu_by_thread([run["concurrent"] for run in runs]))
    summary["concurrent"]["rps_by_round"] = [
        round(len(run["concurrent"]["latencies"]) / run["concurrent"]["elapsed"], 1) for run in runs
    ]
    summary["more"] = {
        clients: _concurrent_summary([run["more"][clients] for run in runs])
        for clients in runs[0].get("more", {})
    }
    if all("mixed" in run for run in runs):
        valid = [latency for run in runs for latency in run["mixed"]["latencies"]]
        invalid = [latency for run in runs for latency in run["mixed"]["invalid_latencies"]]
        errors = sum(run["mixed"]["errors"] for run in runs)
        elapsed = sum(run["mixed"]["elapsed"] for run in runs)
        summary["mixed"] = {
            "valid": _summary(valid, errors),
            "invalid": _summary(invalid, 0),
            "rps": round((len(valid) + len(invalid)) / elapsed, 1),
            "server_cpu_us": _cpu_per_request([run["mixed"] for run in runs]),
        }
    return summary


def _cpu_per_request(phases: list[dict[str, Any]]) -> float:
    """The server's CPU microseconds per answered request over the phases."""
    answered = sum(len(p["latencies"]) + len(p["invalid_latencies"]) for p in phases)
    cpu = sum(phase.get("server_cpu", 0.0) for phase in phases)
    return round(cpu / answered * 1e6, 1) if answered else float("nan")


def _cpu_by_thread(phases: list[dict[str, Any]]) -> dict[str, float]:
    """The server's CPU microseconds per answered request in its main threads (the event
    loops: HTTP, JSON, routing) and in its other threads (shipml: scoring, bookkeeping)."""
    split = [phase["server_threads"] for phase in phases if phase.get("server_threads")]
    answered = sum(len(p["latencies"]) + len(p["invalid_latencies"]) for p in phases)
    if len(split) < len(phases) or not answered:
        return {}
    return {
        "loop_cpu_us": round(sum(main for main, _ in split) / answered * 1e6, 1),
        "other_cpu_us": round(sum(other for _, other in split) / answered * 1e6, 1),
    }


def _mean_batch(phases: list[dict[str, Any]]) -> float | None:
    """Records per micro-batch over the phases, weighted by their requests (None: not shipml)."""
    weighted = [(p["mean_batch"], len(p["latencies"])) for p in phases if p.get("mean_batch")]
    requests = sum(count for _, count in weighted)
    return round(sum(m * count for m, count in weighted) / requests, 1) if requests else None


def _concurrent_summary(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Percentiles over the rounds' latencies of one phase; throughput over its total time."""
    latencies = [latency for phase in phases for latency in phase["latencies"]]
    summary = _summary(latencies, sum(phase["errors"] for phase in phases))
    summary["rps"] = round(len(latencies) / sum(phase["elapsed"] for phase in phases), 1)
    summary["server_cpu_us"] = _cpu_per_request(phases)
    summary["mean_batch"] = _mean_batch(phases)
    summary.update(_cpu_by_thread(phases))
    summary["rps_by_round"] = [
        round(len(phase["latencies"]) / phase["elapsed"], 1) for phase in phases
    ]
    return summary


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests")
    parser.add_argument("--seconds", type=float, default=20.0, help="concurrent phase length")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument(
        "--more-clients",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[32, 64],
        help="more concurrent phases, with these numbers of clients (comma-separated)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="also serve shipml with N workers (1: not)"
    )
    parser.add_argument(
        "--bentoml",
        action="append",
        help='BentoML batching: "default" or "MAX_BATCH_SIZE,MAX_LATENCY_MS" (repeatable; '
        '"none": no BentoML; default: "default")',
    )
    parser.add_argument("--rounds", type=int, default=4, help="turns taken by each server")
    parser.add_argument("--soak", type=float, default=0.0, help="soak seconds (0: no soak)")
    parser.add_argument("--compare", help="another checkout's src directory, served as 'before'")
    parser.add_argument(
        "--invalid-every", type=int, default=10, help="one invalid request in N (mixed phase)"
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)  # internal: run as the client
    options = parser.parse_args()
    options.bentoml = [b for b in options.bentoml or ["default"] if b != "none"]
    return options


def _prepare(workdir: Path, options: argparse.Namespace) -> list[Target]:
    """Write the project, train and register the model; the servers to measure."""
    project_dir = workdir / "project"
    project_dir.mkdir()
    for name, source in (("contracts.py", CONTRACTS), ("steps.py", STEPS)):
        (project_dir / name).write_text(textwrap.dedent(source).lstrip())
    (project_dir / "pipeline.py").write_text(textwrap.dedent(PIPELINE).lstrip())
    (project_dir / "shipml.toml").write_text(textwrap.dedent(SETTINGS).lstrip())
    _training_data().to_csv(project_dir / "train.csv", index=False)
    _say("training and registering the model (MLflow, SQLite) ...")
    model, tracking_uri = _register(project_dir)
    model_file = workdir / "model.pkl"
    model_file.write_bytes(pickle.dumps(model))
    targets = [
        _shipml(project_dir),
        _shipml(project_dir, shadow=True),
        _shipml(project_dir, labels=True),
        *([_shipml(project_dir, workers=options.workers)] if options.workers > 1 else []),
        *([_before(project_dir, options.compare)] if options.compare else []),
        _bare(workdir, model_file),
        _mlflow(tracking_uri),
    ]
    for batching in options.bentoml:
        targets.append(_bentoml(workdir, model_file, batching))
    return targets


def _shipml_command(project_dir: Path, workers: int = 1) -> list[str]:
    serve = [sys.executable, "-c", "from shipml.cli import app; app()", "serve"]
    return [*serve, "--project", str(project_dir), "--port", "{port}", "--workers", str(workers)]


def _shipml(
    project_dir: Path, workers: int = 1, *, shadow: bool = False, labels: bool = False
) -> Target:
    """`shipml serve` with `workers` worker processes (mixed phase: one plain worker only);
    with `shadow`, the challenger is scored in shadow, else it is loaded and left idle; with
    `labels`, every answered prediction is kept in the prediction log."""
    command = _shipml_command(project_dir, workers)
    if shadow:
        return Target(SHADOW, command, "/predict", RECORD, {})
    if labels:
        return Target(LABELS, command, "/predict", RECORD, WITH_LABELS)
    name = "shipml" if workers == 1 else f"shipml-{workers}w"
    return Target(name, command, "/predict", RECORD, NO_SHADOW, mixed=workers == 1)


def _before(project_dir: Path, compare: str) -> Target:
    """shipml imported from another checkout's `src`, served the same way."""
    command = _shipml_command(project_dir)
    return Target("before", command, "/predict", RECORD, {"PYTHONPATH": compare}, mixed=True)


def _bare(workdir: Path, model_file: Path) -> Target:
    """A hand-written FastAPI endpoint around the same model."""
    (workdir / "bare_server.py").write_text(textwrap.dedent(BARE_SERVER).lstrip())
    command = [sys.executable, str(workdir / "bare_server.py"), str(model_file), "{port}"]
    return Target("bare", command, "/predict", RECORD, {})


def _mlflow(tracking_uri: str) -> Target:
    """`mlflow models serve` of the registered champion."""
    env = {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        # mlflow serve starts `uvicorn` from the PATH: this interpreter's environment's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    serve = [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/bench@champion"]
    return Target(
        "mlflow", [*serve, *MLFLOW_OPTIONS], "/invocations", {"dataframe_records": [RECORD]}, env
    )


def _bentoml(workdir: Path, model_file: Path, batching: str) -> Target:
    """`bentoml serve` (its own virtualenv) with adaptive batching: "default" or "SIZE,MS"."""
    _ensure_bentoml()
    limits: dict[str, int] = {}
    if batching != "default":
        size, latency = batching.split(",")
        limits = {"max_batch_size": int(size), "max_latency_ms": int(latency)}
    name = "bentoml" if batching == "default" else f"bentoml-{batching.replace(',', '-')}"
    service_dir = workdir / name
    service_dir.mkdir()
    source = textwrap.dedent(BENTOML_SERVICE).lstrip().replace("{BATCHING}", repr(limits))
    (service_dir / "service.py").write_text(source)
    bentoml = str(BENTOML_VENV / "bin" / "bentoml")
    command = [bentoml, "serve", "service:Classifier", "--host", "127.0.0.1", "--port", "{port}"]
    env = {
        "BENTOML_DO_NOT_TRACK": "True",
        "BENTOML_HOME": str(workdir / "bentoml-home"),
        "BENCH_MODEL": str(model_file),
    }
    body = {"input": [[RECORD[name] for name in FEATURES]]}
    return Target(name, command, "/predict", body, env, cwd=service_dir)


def _ensure_bentoml() -> None:
    """BentoML's own virtualenv (created once: about a minute), with this scikit-learn."""
    import sklearn

    requirements = [*BENTOML_REQUIREMENTS, f"scikit-learn=={sklearn.__version__}"]
    what = "BentoML (once: about a minute, 400 MB)"
    peer_environment(BENTOML_VENV, requirements, what=what, ready="bentoml")


def _training_data(rows: int = 5000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    features = rng.normal(0, 1.5, (rows, len(FEATURES))).clip(-9, 9).round(3)
    weights = np.array([1.0, -0.5, 0.8, 0.3, -1.2])
    label = rng.random(rows) < 1 / (1 + np.exp(-(features @ weights)))
    return pd.DataFrame(features, columns=FEATURES).assign(label=label)


def _register(project_dir: Path) -> tuple[Any, str]:
    """Fit the model with the project's own train step, log it, make it champion."""
    from shipml.project.project import Project

    project = Project.load(project_dir)
    data = pd.read_csv(project_dir / "train.csv")
    model = project.pipeline.train.func(data)
    example = data[FEATURES].head(5)
    ref = project.tracker.log_training(
        model=model, params={}, metrics={}, tags={}, input_example=example
    )
    project.tracker.promote(ref.version)
    rival = project.pipeline.train.func(data.sample(frac=0.5, random_state=1))
    challenger = project.tracker.log_training(
        model=rival, params={}, metrics={}, tags={}, input_example=example
    )
    project.tracker.promote(challenger.version, alias=CHALLENGER)
    assert project.settings.tracking.uri is not None
    return model, project.settings.tracking.uri


@contextmanager
def _server(target: Target, workdir: Path) -> Iterator[tuple[str, int]]:
    """Start the target on a free port; yield its URL and pid once it answers a prediction."""
    port = _free_port()
    command = [part.replace("{port}", str(port)) for part in target.command]
    log = (workdir / f"{target.name}.log").open("wb")
    env = {**os.environ, **target.env}
    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=target.cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, target, child, workdir / f"{target.name}.log")
        yield url, child.pid
    finally:
        child.terminate()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)
        log.close()


def _wait_for(url: str, target: Target, child: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            break
        with contextlib.suppress(httpx.TransportError):  # not listening yet
            if httpx.post(url + target.path, json=target.body, timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{target.name} did not start; its log:\n{log.read_text()[-3000:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _measure(
    url: str, pid: int, target: Target, options: argparse.Namespace, *, first: bool
) -> dict[str, Any]:
    """One turn's latencies (sequential, then concurrent), from a separate client process."""
    job = {
        "url": url,
        "server_pid": pid,
        "path": target.path,
        "body": target.body,
        "warm_up": WARM_UP_REQUESTS if first else 0,
        "requests": options.requests // options.rounds,
        "seconds": options.seconds / options.rounds,
        "clients": options.clients,
        "more_clients": options.more_clients,
        "invalid_every": options.invalid_every if target.mixed else 0,
    }
    return _run_client(job)


def _run_client(job: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shipml-bench-client-") as directory:
        result = Path(directory) / "result.json"
        command = [sys.executable, __file__, "--client", json.dumps({**job, "result": str(result)})]
        subprocess.run(command, check=True)
        return dict(json.loads(result.read_text()))


def _soak(target: Target, workdir: Path, seconds: float) -> dict[str, Any]:
    """shipml under 32 clients for `seconds`: errors and resident memory growth."""
    import psutil

    _say(f"soak: {target.name}, 32 clients, {seconds:g} s ...")
    with _server(target, workdir) as (url, pid):
        memory = psutil.Process(pid)
        job = {
            "url": url,
            "path": target.path,
            "body": target.body,
            "clients": 32,
            "invalid_every": 0,
        }
        _run_client({**job, "warm_up": 0, "requests": 0, "seconds": 5.0})
        before = memory.memory_info().rss
        soaked = _run_client({**job, "warm_up": 0, "requests": 0, "seconds": seconds})
        after = memory.memory_info().rss
    return {
        "seconds": seconds,
        "clients": 32,
        "requests": len(soaked["concurrent"]["latencies"]),
        "errors": soaked["concurrent"]["errors"],
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "rss_growth": round(after / before - 1, 4),
    }


def _report(
    figures: dict[str, Any], soak: dict[str, Any] | None, options: argparse.Namespace
) -> None:
    shipml, bare, mlflow = figures["shipml"], figures["bare"], figures["mlflow"]
    ratios = {
        "p50_ms_over_bare": round(shipml["sequential"]["p50_ms"] - bare["sequential"]["p50_ms"], 3),
        "throughput_x_bare": _ratio(shipml["concurrent"]["rps"], bare["concurrent"]["rps"]),
        "p99_x_bare_concurrent": _ratio(
            shipml["concurrent"]["p99_ms"], bare["concurrent"]["p99_ms"]
        ),
        "p50_x_mlflow": _ratio(shipml["sequential"]["p50_ms"], mlflow["sequential"]["p50_ms"]),
        "throughput_x_mlflow": _ratio(shipml["concurrent"]["rps"], mlflow["concurrent"]["rps"]),
    }
    goals = {
        "p50_within_1ms_of_bare": ratios["p50_ms_over_bare"] <= 1.0,
        "throughput_5x_bare": ratios["throughput_x_bare"] >= 5.0,
        "p99_no_worse_than_bare": ratios["p99_x_bare_concurrent"] <= 1.0,
        "p50_faster_than_mlflow": ratios["p50_x_mlflow"] < 1.0,
        "throughput_above_mlflow": ratios["throughput_x_mlflow"] > 1.0,
    }
    if "mixed" in shipml:
        ratios["mixed_valid_p50_x_all_valid"] = _ratio(
            shipml["mixed"]["valid"]["p50_ms"], shipml["concurrent"]["p50_ms"]
        )
        ratios["mixed_throughput_x_all_valid"] = _ratio(
            shipml["mixed"]["rps"], shipml["concurrent"]["rps"]
        )
        goals["invalid_tenth_valid_p50_within_1.5x"] = ratios["mixed_valid_p50_x_all_valid"] <= 1.5
        goals["invalid_tenth_throughput_at_least_0.8x"] = (
            ratios["mixed_throughput_x_all_valid"] >= 0.8
        )
    for name in (n for n in figures if n.startswith("bentoml")):
        _against_bentoml(shipml, figures[name], name, ratios, goals)
    workers = next((n for n in figures if n.startswith("shipml-")), None)
    if workers and "32" in shipml["more"]:
        ratios[f"{workers}_throughput_x_one_worker_32_clients"] = _ratio(
            figures[workers]["more"]["32"]["rps"], shipml["more"]["32"]["rps"]
        )
        goals[f"{workers}_at_least_1.6x_one_worker_at_32_clients"] = (
            ratios[f"{workers}_throughput_x_one_worker_32_clients"] >= 1.6
        )
    if "before" in figures:
        before = figures["before"]
        ratios["p50_x_before"] = _ratio(
            shipml["sequential"]["p50_ms"], before["sequential"]["p50_ms"]
        )
        ratios["throughput_x_before"] = _ratio(
            shipml["concurrent"]["rps"], before["concurrent"]["rps"]
        )
    for variant, prefix in ((SHADOW, "shadow"), (LABELS, "labels")):
        if variant in figures:
            _against_plain(shipml, bare, figures[variant], prefix, ratios, goals)
    if soak is not None:
        goals["soak_no_errors_and_rss_growth_under_10pct"] = (
            soak["errors"] == 0 and soak["rss_growth"] < 0.10
        )
    _print_table(figures, ratios, goals)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}",
        "settings": {
            "sequential_requests": options.requests,
            "concurrent_seconds": options.seconds,
            "clients": options.clients,
            "more_clients": options.more_clients,
            "rounds": options.rounds,
            "bentoml": options.bentoml,
        },
        "servers": figures,
        "ratios": ratios,
        "goals": goals,
        "soak": soak,
    }
    print(json.dumps(result))


def _against_plain(
    shipml: dict[str, Any],
    bare: dict[str, Any],
    variant: dict[str, Any],
    prefix: str,
    ratios: dict[str, float],
    goals: dict[str, bool],
) -> None:
    """A variant of shipml (a shadow, a prediction log) against plain shipml and the serving
    goals it must still meet."""
    for figure, phase, measure in (
        ("p50_x_shipml", "sequential", "p50_ms"),
        ("p50_x_shipml_concurrent", "concurrent", "p50_ms"),
        ("p99_x_shipml_concurrent", "concurrent", "p99_ms"),
        ("throughput_x_shipml", "concurrent", "rps"),
        ("server_cpu_x_shipml", "concurrent", "server_cpu_us"),
    ):
        ratios[f"{prefix}_{figure}"] = _ratio(variant[phase][measure], shipml[phase][measure])
    ratios[f"{prefix}_p50_ms_over_bare"] = round(
        variant["sequential"]["p50_ms"] - bare["sequential"]["p50_ms"], 3
    )
    ratios[f"{prefix}_throughput_x_bare"] = _ratio(
        variant["concurrent"]["rps"], bare["concurrent"]["rps"]
    )
    ratios[f"{prefix}_p99_x_bare_concurrent"] = _ratio(
        variant["concurrent"]["p99_ms"], bare["concurrent"]["p99_ms"]
    )
    goals[f"{prefix}_p50_within_1ms_of_bare"] = ratios[f"{prefix}_p50_ms_over_bare"] <= 1.0
    goals[f"{prefix}_throughput_5x_bare"] = ratios[f"{prefix}_throughput_x_bare"] >= 5.0
    goals[f"{prefix}_p99_no_worse_than_bare"] = ratios[f"{prefix}_p99_x_bare_concurrent"] <= 1.0


def _against_bentoml(
    shipml: dict[str, Any],
    bentoml: dict[str, Any],
    name: str,
    ratios: dict[str, float],
    goals: dict[str, bool],
) -> None:
    """Issue 19's goals against one BentoML configuration: 3x its throughput and at most
    half its p99 at 16 and 64 clients, at most half its sequential p50."""
    phases = {"16": (shipml["concurrent"], bentoml["concurrent"])}
    if "64" in shipml["more"] and "64" in bentoml["more"]:
        phases["64"] = (shipml["more"]["64"], bentoml["more"]["64"])
    for clients, (ours, theirs) in phases.items():
        throughput = ratios[f"throughput_x_{name}_{clients}_clients"] = _ratio(
            ours["rps"], theirs["rps"]
        )
        p99 = ratios[f"p99_x_{name}_{clients}_clients"] = _ratio(ours["p99_ms"], theirs["p99_ms"])
        goals[f"throughput_3x_{name}_{clients}_clients"] = throughput >= 3.0
        goals[f"p99_half_of_{name}_{clients}_clients"] = p99 <= 0.5
    p50 = ratios[f"p50_x_{name}"] = _ratio(
        shipml["sequential"]["p50_ms"], bentoml["sequential"]["p50_ms"]
    )
    goals[f"p50_half_of_{name}"] = p50 <= 0.5


def _print_table(figures: dict[str, Any], ratios: dict[str, float], goals: dict[str, bool]) -> None:
    print(
        f"{'server':13} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'p99 ms':>8} "
        f"{'cpu us/req':>10}"
    )
    for name, found in figures.items():
        sequential, concurrent = found["sequential"], found["concurrent"]
        print(
            f"{name:13} {sequential['p50_ms']:8.2f} {sequential['p95_ms']:8.2f} "
            f"{sequential['p99_ms']:8.2f} {concurrent['rps']:8.1f} {concurrent['p99_ms']:8.2f} "
            f"{concurrent['server_cpu_us']:10.0f}"
        )
    for name, found in figures.items():
        for clients, phase in found["more"].items():
            print(
                f"{name} at {clients} clients: {phase['rps']:.1f} req/s, "
                f"p50 {phase['p50_ms']:.2f} ms, p99 {phase['p99_ms']:.2f} ms, "
                f"server CPU {phase['server_cpu_us']:.0f} us/request"
                + (f", {phase['mean_batch']} records a batch" if phase.get("mean_batch") else "")
            )
    for name, found in figures.items():
        phases = {"16": found["concurrent"], **found["more"]}
        if name.startswith("shipml") and all("loop_cpu_us" in p for p in phases.values()):
            print(
                f"{name} CPU per request, event loops / other threads: "
                + ", ".join(
                    f"{p['loop_cpu_us']:.0f} / {p['other_cpu_us']:.0f} us at {clients} clients"
                    for clients, p in phases.items()
                )
            )
    for name, found in figures.items():
        if "mixed" in found:
            mixed = found["mixed"]
            print(
                f"{name} with invalid records: valid p50 {mixed['valid']['p50_ms']:.2f} ms, "
                f"invalid p50 {mixed['invalid']['p50_ms']:.2f} ms, {mixed['rps']:.1f} req/s"
            )
    print("ratios:", ", ".join(f"{k} {v}" for k, v in ratios.items()))
    print("goals:", ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in goals.items()))


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("inf")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the client process ----------------------------------------------------------------


async def _client(job: dict[str, Any]) -> dict[str, Any]:
    """Warm up (if asked), the sequential requests, the concurrent phase, then (if asked) the
    mixed one: raw latencies."""
    host, port = job["url"].removeprefix("http://").split(":")
    request = _request(host, job["path"], job["body"])
    connect = (host, int(port))
    if job["warm_up"]:
        await _sequential(connect, request, job["warm_up"])
    latencies, errors = await _sequential(connect, request, job["requests"])
    result: dict[str, Any] = {"sequential": {"latencies": latencies, "errors": errors}}
    valid: Requests = lambda _: (request, 200)  # noqa: E731
    result["concurrent"] = await _concurrent(connect, job, valid)
    result["more"] = {
        str(clients): await _concurrent(connect, {**job, "clients": clients}, valid)
        for clients in job.get("more_clients", [])
    }
    every = job["invalid_every"]
    if every:

        def mixed(number: int) -> tuple[bytes, int]:
            if number % every:
                return request, 200
            return _request(host, job["path"], _invalid(job["body"], number // every)), 422

        result["mixed"] = await _concurrent(connect, job, mixed)
    return result


def _run(work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run the client's coroutine on uvloop when installed: the client then takes less of
    the machine's two cores from the servers (the same for every server)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def _request(host: str, path: str, record: dict[str, Any]) -> bytes:
    body = json.dumps(record).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _invalid(record: dict[str, Any], number: int) -> dict[str, Any]:
    """The `number`th invalid record: out of bounds, not a number or missing a field, in turns,
    each with values of its own (no two requests alike)."""
    kind, value = number % 3, round(10.5 + (number % 997) / 100, 2)
    if kind == 0:
        return {**record, "f0": value}
    if kind == 1:
        return {**record, "f1": f"n/a-{number}"}
    return {**{k: v for k, v in record.items() if k != "f2"}, "f3": value / 10}


Requests = Callable[[int], tuple[bytes, int]]  # the nth request, and the status it should get


async def _concurrent(
    connect: tuple[str, int], job: dict[str, Any], requests: Requests
) -> dict[str, Any]:
    batches = _BatchSizes(job["url"])  # read outside the phase's time and server CPU
    server = _ServerCpu(job.get("server_pid"))
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + job["seconds"]
    runs = await asyncio.gather(
        *(_until(connect, requests, deadline, offset) for offset in range(job["clients"]))
    )
    elapsed, client_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "elapsed": elapsed,
        "client_cpu": client_cpu,  # the client's own CPU time in the phase
        "server_cpu": server.used(),  # the server's CPU time in the phase, workers included
        "server_threads": server.by_thread(),  # (event loops, other threads), or None
        "mean_batch": batches.mean(),  # records per micro-batch in the phase (shipml only)
        "latencies": [latency for run in runs for latency in run.valid],
        "invalid_latencies": [latency for run in runs for latency in run.invalid],
        "errors": sum(run.errors for run in runs),
    }


async def _sequential(
    connect: tuple[str, int], request: bytes, count: int
) -> tuple[list[float], int]:
    valid: Requests = lambda _: (request, 200)  # noqa: E731
    run = await _Connection.run(connect, valid, lambda sent: sent < count, 0)
    return run.valid, run.errors


async def _until(
    connect: tuple[str, int], requests: Requests, deadline: float, offset: int
) -> _Connection:
    """One client sending requests until the deadline (clients start at different places in
    the sequence of requests)."""
    return await _Connection.run(
        connect, requests, lambda _: time.perf_counter() < deadline, offset
    )


class _Connection(asyncio.Protocol):
    """One keep-alive client connection driven by its own callbacks: each answer, once whole,
    is timed and checked, and the next request is written at once, with no task switch or
    stream reader in between (what made the client cost about 130 us of CPU per request, on
    the cores the servers need; this costs about a third of that)."""

    def __init__(self, requests: Requests, more: Callable[[int], bool], offset: int) -> None:
        self.valid: list[float] = []
        self.invalid: list[float] = []  # latencies of the requests expected to be refused
        self.errors = 0  # answers with another status than expected
        self._requests, self._more, self._number, self._sent = requests, more, offset, 0
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._expected, self._started = 200, 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @classmethod
    async def run(
        cls,
        connect: tuple[str, int],
        requests: Requests,
        more: Callable[[int], bool],
        offset: int,
    ) -> _Connection:
        """Connect, send requests while `more(requests sent)`, return the connection's figures."""
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(lambda: cls(requests, more, offset), *connect)
        client._next()
        try:
            await client.done
        finally:
            if client._transport is not None:
                client._transport.close()
        return client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or ConnectionError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        answer = _answer(self._buffer)
        if answer is None:
            return  # not whole yet
        status, used = answer
        latency = time.perf_counter() - self._started
        self._buffer = self._buffer[used:]
        (self.valid if self._expected == 200 else self.invalid).append(latency)
        self.errors += status != self._expected
        self._next()

    def _next(self) -> None:
        if not self._more(self._sent):
            if not self.done.done():
                self.done.set_result(None)
            return
        request, self._expected = self._requests(self._number)
        self._number += 1
        self._sent += 1
        self._started = time.perf_counter()
        assert self._transport is not None
        self._transport.write(request)


class _ServerCpu:
    """The CPU time a server (its process and every child: workers, gunicorn's, BentoML's)
    uses from now on: a measure of its cost per request that the machine's load and the
    client's share of the cores blur less than they blur throughput. On Linux also split by
    thread, from each thread's exact run time (`/proc/PID/task/TID/schedstat`): the main
    threads (uvicorn's event loops) and all the others (shipml's scoring threads)."""

    def __init__(self, pid: int | None) -> None:
        import psutil

        self._process = None if pid is None else psutil.Process(pid)
        self._start = self._total()
        self._threads_start = self._by_thread()

    def used(self) -> float:
        """CPU seconds used since this was made (0 without a pid)."""
        return self._total() - self._start

    def by_thread(self) -> tuple[float, float] | None:
        """CPU seconds of the main threads and of the other threads since this was made
        (None where /proc has no schedstat)."""
        end = self._by_thread()
        if end is None or self._threads_start is None:
            return None
        start = self._threads_start
        main = sum(t - start.get(k, 0.0) for k, t in end.items() if k[0] == k[1])
        other = sum(t - start.get(k, 0.0) for k, t in end.items() if k[0] != k[1])
        return main, other

    def _processes(self) -> list[Any]:
        if self._process is None:
            return []
        with contextlib.suppress(Exception):  # the server ended
            return [self._process, *self._process.children(recursive=True)]
        return []

    def _total(self) -> float:
        total = 0.0
        for process in self._processes():
            with contextlib.suppress(Exception):  # a child that ended in between
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def _by_thread(self) -> dict[tuple[int, int], float] | None:
        """Each live thread's run time in seconds, by (process id, thread id)."""
        found: dict[tuple[int, int], float] = {}
        for process in self._processes():
            tasks = Path(f"/proc/{process.pid}/task")
            if not tasks.is_dir():
                return None
            for task in tasks.iterdir():
                with contextlib.suppress(OSError, ValueError):  # a thread that ended
                    nanoseconds = int((task / "schedstat").read_text().split()[0])
                    found[(process.pid, int(task.name))] = nanoseconds / 1e9
        return found


class _BatchSizes:
    """The mean records per micro-batch a shipml server scores from now on, read from its
    /metrics (`shipml_batch_records`, every worker's together); None for other servers."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._start = self._totals()

    def mean(self) -> float | None:
        """Records per batch since this was made (None: not shipml, or no batch)."""
        end = self._totals()
        if end is None or self._start is None or end[1] == self._start[1]:
            return None
        return round((end[0] - self._start[0]) / (end[1] - self._start[1]), 1)

    def _totals(self) -> tuple[float, float] | None:
        try:
            text = httpx.get(f"{self._url}/metrics", timeout=30).text
        except httpx.HTTPError:
            return None
        found = {"shipml_batch_records_sum": 0.0, "shipml_batch_records_count": 0.0}
        for line in text.splitlines():
            name = line.split("{")[0].split(" ")[0]
            if name in found:
                found[name] += float(line.split()[-1])
        if not found["shipml_batch_records_count"]:
            return None
        return found["shipml_batch_records_sum"], found["shipml_batch_records_count"]


def _answer(buffer: bytes) -> tuple[int, int] | None:
    """The status of the HTTP answer at the start of `buffer` and its length in bytes, or None
    while it is not all there (Content-Length or chunked)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buffer[:end].lower()
    status = int(head[9:12])
    start = head.find(b"\r\ncontent-length:")
    if start >= 0:
        stop = head.find(b"\r\n", start + 2)
        total = end + 4 + int(head[start + 17 : stop if stop >= 0 else None])
        return (status, total) if len(buffer) >= total else None
    if b"chunked" not in head:
        return status, end + 4  # no body (e.g. 204)
    position = end + 4
    while True:  # chunks: a hex size line, the data, CRLF; the last one has size 0
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(buffer[position:line_end].split(b";")[0], 16)
        position = line_end + 2 + size + 2
        if size == 0:  # no trailers expected: the terminating CRLF follows
            return (status, position) if len(buffer) >= position else None
        if len(buffer) < position:
            return None


def _summary(latencies: list[float], errors: int) -> dict[str, Any]:
    milliseconds = np.asarray(latencies) * 1000
    p50, p95, p99 = np.percentile(milliseconds, [50, 95, 99])
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "p99_ms": round(float(p99), 3),
    }


if __name__ == "__main__":
    main()
