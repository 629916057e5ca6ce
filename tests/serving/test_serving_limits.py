"""What a bad client can hold: header size and count, slow headers and bodies, connections.

Real sockets on 127.0.0.1 against the server in a process of its own (its memory is
measured), with short timeouts so that every test ends in seconds.
"""

from __future__ import annotations

import selectors
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from _server import free_port, process, wait_until_ready

from shipml.project.project import Project

pytestmark = pytest.mark.slow

SERVER = Path(__file__).with_name("_fitted_server.py")
TIMEOUT = 1.5  # header and body timeouts of the servers below (seconds)
SLACK = 2.0  # how much later than its timeout a stalled connection may be closed
REQUEST = (
    b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n%s"
)

Server = tuple[str, psutil.Process]
ServerMaker = Callable[..., Server]


@pytest.fixture
def serve(project: Project, tmp_path: Path) -> Iterator[ServerMaker]:
    """Start the toy project's server with [serving] settings from the environment."""
    with ExitStack() as stack:

        def start(**settings: object) -> Server:
            port = free_port()
            log = tmp_path / f"server-{port}.log"
            env = {f"SHIPML_SERVING__{key.upper()}": str(value) for key, value in settings.items()}
            command = [sys.executable, str(SERVER), str(project.root), str(port)]
            child = stack.enter_context(process(command, log, env))
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(url, child, log)
            return url, psutil.Process(child.pid)

        yield start


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    return connection


def _answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset ends it too)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def _predict(url: str, record: dict[str, object]) -> float:
    """Seconds one valid request took (it must be answered 200)."""
    started = time.perf_counter()
    response = httpx.post(f"{url}/predict", json=record, timeout=30)
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


def _status(metrics: str, status: int) -> float:
    prefix = f'shipml_requests_total{{endpoint="/predict",status="{status}"}} '
    found = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(found[0].removeprefix(prefix)) if found else 0.0


def test_headers_above_the_limits_get_431_and_the_server_does_not_grow(
    serve: ServerMaker, record: dict[str, object]
) -> None:
    url, server = serve(max_header_bytes=16384, max_headers=50)
    rss_before = server.memory_info().rss

    # Ten clients each sending a 20 MB header: refused after the first 16 KB or so.
    giants = []
    for _ in range(10):
        giant = _connect(url)
        giant.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nX-Big: ")
        giants.append(giant)
    sent = [0] * len(giants)
    chunk = b"a" * 65536
    for position, giant in enumerate(giants):
        try:
            while sent[position] < 20 * 2**20:
                giant.sendall(chunk)
                sent[position] += len(chunk)
        except OSError:  # the server closed the connection: the rest is not read
            pass
    answers = [_answer(giant) for giant in giants]
    rss_after = server.memory_info().rss
    print(f"server RSS {rss_before / 2**20:.1f} -> {rss_after / 2**20:.1f} MB")

    # A header just above the limit, and too many fields: read whole, then answered.
    large = _connect(url)
    large.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
    many = _connect(url)
    fields = b"".join(b"X-Field-%d: %d\r\n" % (n, n) for n in range(60))
    many.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")

    assert all(amount < 20 * 2**20 for amount in sent), "no server read a whole 20 MB header"
    assert all(a == b"" or a.startswith(b"HTTP/1.1 431 ") for a in answers), answers
    assert rss_after - rss_before < 50 * 2**20, f"RSS grew by {rss_after - rss_before} bytes"
    large_answer, many_answer = _answer(large), _answer(many)
    assert large_answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large")
    assert b"headers above 16384 bytes (serving.max_header_bytes)" in large_answer
    assert many_answer.startswith(b"HTTP/1.1 431 ")
    assert b"more than 50 header fields (serving.max_headers)" in many_answer
    _predict(url, record)


@contextmanager
def _stalled(url: str, count: int) -> Iterator[list[tuple[str, socket.socket, float]]]:
    """`count` connections stalled four ways; each with its kind and when it last sent."""
    stalls: list[tuple[str, socket.socket, float]] = []
    body = b'{"machine_id": "M-1", "ts": "2026-11-27T10:00:00Z", "temperature_c": 71.5}'
    kinds = {
        "silent": b"",
        "half a request line": b"POST /pred",
        "unfinished headers": b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Ty",
        "short body": REQUEST % (len(body) + 50, body),
        "stalled chunks": (
            b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"10\r\n" + body[:16] + b"\r\n"
        ),
    }
    names = list(kinds)
    try:
        for number in range(count):
            kind = names[number % len(names)]
            connection = _connect(url)
            connection.sendall(kinds[kind])
            stalls.append((kind, connection, time.monotonic()))
        yield stalls
    finally:
        for _, connection, _ in stalls:
            connection.close()


def _endings(
    stalls: list[tuple[str, socket.socket, float]], within: float
) -> dict[str, list[tuple[bytes, float]]]:
    """By kind of stall: what the server sent each connection before closing it, and when
    (seconds after the connection last sent). Connections still open after `within` seconds
    end with infinity."""
    endings: dict[str, list[tuple[bytes, float]]] = {}
    received: dict[socket.socket, bytes] = {}
    with selectors.DefaultSelector() as selector:
        for kind, connection, sent_at in stalls:
            connection.setblocking(False)
            selector.register(connection, selectors.EVENT_READ, (kind, sent_at))
            received[connection] = b""
        deadline = time.monotonic() + within
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):
                connection = key.fileobj
                assert isinstance(connection, socket.socket)
                kind, sent_at = key.data
                try:
                    chunk = connection.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                received[connection] += chunk
                if not chunk:
                    selector.unregister(connection)
                    ending = (received[connection], time.monotonic() - sent_at)
                    endings.setdefault(kind, []).append(ending)
        for key in list(selector.get_map().values()):
            kind, _ = key.data
            endings.setdefault(kind, []).append((b"still open", float("inf")))
    return endings


def test_stalled_connections_are_closed_within_the_timeout_while_requests_go_on(
    serve: ServerMaker, record: dict[str, object]
) -> None:
    url, _ = serve(header_timeout_seconds=TIMEOUT, body_timeout_seconds=TIMEOUT)
    calm = [_predict(url, record) for _ in range(20)]

    with _stalled(url, 200) as stalls, ThreadPoolExecutor(1) as client:
        requests = client.submit(lambda: [_predict(url, record) for _ in range(20)])
        endings = _endings(stalls, TIMEOUT + 2 * SLACK)
        during = requests.result()
    metrics = httpx.get(f"{url}/metrics").text

    # one outlier is a busy machine's pause; a request held by a stall waits the timeout
    assert sorted(during)[-2] < TIMEOUT, ("no request waited for a stalled connection", during)
    assert statistics.median(during) < max(3 * statistics.median(calm), 0.05)
    for kind, ended in endings.items():
        assert all(seconds < TIMEOUT + SLACK for _, seconds in ended), (kind, ended)
        answers = {answer.split(b"\r\n", 1)[0] for answer, _ in ended}
        expected = b"" if kind == "silent" else b"HTTP/1.1 408 Request Timeout"
        assert answers == {expected}, (kind, answers)
    late_bodies = len(endings["short body"]) + len(endings["stalled chunks"])
    assert _status(metrics, 408) == late_bodies


def test_connections_beyond_the_cap_get_503_until_the_stalled_ones_are_closed(
    serve: ServerMaker, record: dict[str, object]
) -> None:
    url, _ = serve(max_connections=20, header_timeout_seconds=TIMEOUT, body_timeout_seconds=TIMEOUT)

    with _stalled(url, 25):
        refused = httpx.post(f"{url}/predict", json=record, timeout=30)
        time.sleep(TIMEOUT + SLACK)
        served = httpx.post(f"{url}/predict", json=record, timeout=30)

    assert refused.status_code == 503
    assert served.status_code == 200
