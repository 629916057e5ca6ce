"""A soak: 32 clients for a while, no failed request, no memory growth.

The test runs SHIPML_SOAK_SECONDS seconds (15 by default, to keep the suite short);
`benchmarks/serving.py --soak 60` runs the full minute.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil
import pytest
from _load import load
from _server import free_port, process, wait_until_ready

from shipml.project.project import Project

SOAK_SECONDS = float(os.environ.get("SHIPML_SOAK_SECONDS", "15"))
SERVER = Path(__file__).with_name("_fitted_server.py")


@pytest.mark.slow
def test_32_clients_get_no_error_and_the_server_does_not_grow(
    project: Project, record: dict[str, object], tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(SERVER), str(project.root), str(port)]
    with process(command, log) as server:
        wait_until_ready(url, server, log)
        memory = psutil.Process(server.pid)
        warm_up = load(url, [record], clients=32, seconds=3)
        before = memory.memory_info().rss
        soak = load(url, [record], clients=32, seconds=SOAK_SECONDS)
        after = memory.memory_info().rss

    logged_errors = [line for line in log.read_text().splitlines() if '"level": "error"' in line]
    assert warm_up.failures == [] and soak.failures == [], logged_errors
    assert soak.sent > 10 * SOAK_SECONDS, "the clients kept the server busy"
    assert after < 1.10 * before, f"resident memory grew from {before} to {after} bytes"
