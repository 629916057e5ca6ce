"""Where the CPU goes while `shipml serve` is under load: the client, each worker, each thread.

    python benchmarks/cpu_split.py [--servers 1,2,1@16] [--clients 32] [--seconds 10]
                                   [--turns 3] [--client python|wrk]

The benchmark's project and model (benchmarks/serving.py); one `shipml serve` per entry of
`--servers`, WORKERS[@CLIENTS] (`1@16`: one worker under 16 clients, the load each of two
workers gets from 32), measured in turns. Each turn runs the load client for `--seconds`
and reads, before and after, the CPU ticks of every thread of the server's processes
(/proc/PID/task/TID/stat), of the client, and of the whole machine (/proc/stat): what each
took in percent of one core, what the rest of the machine took meanwhile ("others"), the
server's and the client's CPU per request, and the mean micro-batch (from /metrics).

The client is the benchmark's own (its CPU counted over the phase, without its start-up) or
`wrk` (Debian's package; `-t1`, the same record posted; its CPU includes its start-up). CPU
per request is what to compare on a shared machine: throughput follows whatever else runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import serving as bench

TICK = os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Measure each server in turns; print one line per turn, then medians per server."""
    options = _arguments()
    workdir = Path(tempfile.mkdtemp(prefix="shipml-cpu-"))
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        project_dir = _project(workdir)
        with contextlib.ExitStack() as stack:
            servers = {}
            for spec in options.servers.split(","):
                workers, _, clients = spec.partition("@")
                target = bench._shipml(project_dir, workers=int(workers))
                url, pid = stack.enter_context(bench._server(target, workdir))
                servers[spec] = (target, url, pid, int(clients or options.clients))
                _load(options.client, target, url, 3.0, servers[spec][3])  # warm up
                found[spec] = []
            for turn in range(1, options.turns + 1):
                for spec, (target, url, pid, clients) in servers.items():
                    split = _split(options, target, url, pid, clients)
                    found[spec].append(split)
                    print(f"turn {turn}, {spec}: {json.dumps(split)}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    medians = {
        spec: {
            key: statistics.median(run[key] for run in runs)
            for key in ("rps", "server_us_per_request", "client_us_per_request", "mean_batch")
        }
        for spec, runs in found.items()
    }
    print(json.dumps({"medians": medians, "turns": found}))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="1,2", help="WORKERS[@CLIENTS], comma-separated")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--client", default="python", choices=["python", "wrk"])
    return parser.parse_args()


def _project(workdir: Path) -> Path:
    project_dir = workdir / "project"
    project_dir.mkdir()
    for name, source in (
        ("contracts.py", bench.CONTRACTS),
        ("steps.py", bench.STEPS),
        ("pipeline.py", bench.PIPELINE),
        ("shipml.toml", bench.SETTINGS),
    ):
        (project_dir / name).write_text(bench.textwrap.dedent(source).lstrip())
    bench._training_data().to_csv(project_dir / "train.csv", index=False)
    bench._register(project_dir)
    return project_dir


def _split(
    options: argparse.Namespace, target: Any, url: str, pid: int, clients: int
) -> dict[str, Any]:
    """One turn: requests per second and each part's CPU in percent of one core."""
    processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    before_threads = {p.pid: _threads(p.pid) for p in processes}
    before_batches = _batches(url)
    before_machine = _machine()
    started = time.perf_counter()
    requests, client_ticks = _load(options.client, target, url, options.seconds, clients)
    elapsed = time.perf_counter() - started
    after_machine = _machine()
    after_threads = {p.pid: _threads(p.pid) for p in processes}
    after_batches = _batches(url)
    cores = elapsed * TICK / 100  # ticks in one percent of one core over the turn
    split: dict[str, Any] = {"rps": round(requests / options.seconds, 1)}
    servers = 0.0
    for number, process in enumerate(processes):
        threads = {
            f"{name}:{tid}": round(
                (ticks - before_threads[process.pid].get(tid, ("", 0))[1]) / cores
            )
            for tid, (name, ticks) in after_threads[process.pid].items()
        }
        busy = {name: value for name, value in threads.items() if value}
        total = sum(threads.values())
        servers += total
        split["supervisor" if number == 0 else f"worker{number}"] = {"cpu": total, **busy}
    client = client_ticks / cores
    busy_machine = (after_machine[0] - before_machine[0]) / cores
    split["client"] = round(client)
    split["servers"] = round(servers)
    split["machine_busy"] = round(busy_machine)
    split["server_us_per_request"] = round(servers * cores / TICK / requests * 1e6)
    split["client_us_per_request"] = round(client_ticks / TICK / requests * 1e6)
    count = after_batches[0] - before_batches[0]
    split["mean_batch"] = round((after_batches[1] - before_batches[1]) / count, 1) if count else 0
    split["others"] = round(busy_machine - servers - client)
    return split


def _batches(url: str) -> tuple[float, float]:
    """Micro-batches scored so far and their records, from /metrics (all workers)."""
    count = total = 0.0
    for line in bench.httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if line.startswith("shipml_batch_records_count"):
            count += float(line.split()[-1])
        elif line.startswith("shipml_batch_records_sum"):
            total += float(line.split()[-1])
    return count, total


def _threads(pid: int) -> dict[int, tuple[str, int]]:
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            stat = (task / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            found[int(task.name)] = (name, int(fields[11]) + int(fields[12]))
    return found


def _machine() -> tuple[int, int]:
    """Busy and idle ticks of the whole machine."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle, idle


def _load(client: str, target: Any, url: str, seconds: float, clients: int) -> tuple[int, int]:
    """Run the load client; the requests answered and the CPU ticks the client used."""
    with tempfile.TemporaryDirectory() as directory:
        if client == "wrk":
            return _wrk(Path(directory), target, url, seconds, clients)
        result = Path(directory) / "result.json"
        job = {
            "url": url,
            "path": target.path,
            "body": target.body,
            "warm_up": 0,
            "requests": 0,
            "seconds": seconds,
            "clients": clients,
            "more_clients": [],
            "invalid_every": 0,
            "result": str(result),
        }
        subprocess.run([sys.executable, bench.__file__, "--client", json.dumps(job)], check=True)
        phase = json.loads(result.read_text())["concurrent"]
        return len(phase["latencies"]), round(phase["client_cpu"] * TICK)  # without start-up


def _wrk(directory: Path, target: Any, url: str, seconds: float, clients: int) -> tuple[int, int]:
    script = directory / "post.lua"
    body = json.dumps(target.body).replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "-s", str(script)]
    command.append(url + target.path)
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, _, usage = os.wait4(child.pid, 0)  # the child's rusage: its start-up included
    assert child.stdout is not None
    output = child.stdout.read()
    answered = next(line for line in output.splitlines() if "requests in" in line)
    return int(answered.split()[0]), round((usage.ru_utime + usage.ru_stime) * TICK)


if __name__ == "__main__":
    main()
